"""What the detector finds: tagged boxes, with the words written in them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .geometry import Box

TAGS = (
    "Heading", "Label", "TextBox", "Button", "CheckBox", "RadioButton", "ComboBox", "Image",
    "Paragraph", "Link",
)  # fmt: skip
TEXT_TAGS = frozenset({"Heading", "Label", "Link", "Button", "CheckBox", "RadioButton"})


@dataclass
class Element:
    """One control or piece of content drawn in the sketch (box in the photo's pixels)."""

    tag: str
    box: Box
    text: str = ""
    score: float = 1.0
    parts: list[Box] = field(default_factory=list)  # e.g. the square of a check box

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "box": [round(v, 1) for v in self.box],
            "text": self.text,
            "score": round(self.score, 3),
        }
