"""Detected boxes → a layout tree, by recursive XY-cut: a set of boxes that can be cut by
an empty horizontal band becomes a vertical stack ("column") of its parts; one that can be
cut by an empty vertical band becomes a "row" of side-by-side parts; each part is cut again
the other way. Each node records where it sits inside its parent (as fractions), so the
page can mirror the sketch's proportions and alignment. Also: which label names which
field. Pure functions of the boxes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..layout_text import line_rows
from .elements import Element
from .geometry import Box, union_all, v_overlap

FIELD_TAGS = frozenset({"TextBox", "ComboBox"})


@dataclass
class Node:
    kind: str  # "column" (children top to bottom), "row" (left to right) or "leaf"
    box: Box
    children: list[Node] = field(default_factory=list)
    element: int | None = None  # index into the element list (leaves)

    def leaves(self) -> list[int]:
        if self.kind == "leaf":
            return [self.element] if self.element is not None else []
        return [i for child in self.children for i in child.leaves()]

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind, "box": [round(v, 1) for v in self.box]}
        if self.kind == "leaf":
            out["element"] = self.element
        else:
            out["children"] = [c.to_json() for c in self.children]
        return out


def _core(box: Box, axis: int, shrink: float) -> tuple[float, float]:
    """The box's extent along ``axis`` (0: x, 1: y), trimmed: drawn boxes overlap a little."""
    lo, hi = box[axis], box[axis + 2]
    cut = (hi - lo) * shrink
    return lo + cut, hi - cut


def split(boxes: list[Box], axis: int, shrink: float = 0.15) -> list[list[int]]:
    """Indices of ``boxes`` in groups separated by empty bands along ``axis``."""
    order = sorted(range(len(boxes)), key=lambda i: _core(boxes[i], axis, shrink)[0])
    groups: list[list[int]] = []
    end = float("-inf")
    for i in order:
        lo, hi = _core(boxes[i], axis, shrink)
        if groups and lo < end:
            groups[-1].append(i)
        else:
            groups.append([i])
        end = max(end, hi)
    return groups


def build_tree(elements: list[Element]) -> Node:
    """The layout tree of ``elements`` (the root is a column: the page, top to bottom). A
    label and the field it names are kept together, so they stay together when stacked."""
    if not elements:
        return Node("column", (0.0, 0.0, 0.0, 0.0))
    boxes = [e.box for e in elements]
    units = [[i] for i in range(len(elements)) if i not in label_pairs(elements).values()]
    for fi, li in label_pairs(elements).items():
        next(u for u in units if fi in u).insert(0, li)
    node = _cut(units, boxes, prefer=1)
    if node.kind != "column":
        node = Node("column", node.box, [node])
    return node


def _cut(units: list[list[int]], boxes: list[Box], prefer: int) -> Node:
    """XY-cut over units (lists of element indices that stay together)."""
    box = union_all(boxes[i] for u in units for i in u)
    if len(units) == 1:
        if len(units[0]) == 1:
            return Node("leaf", box, element=units[0][0])
        return _cut([[i] for i in units[0]], boxes, prefer)
    # A clean cut (boxes barely trimmed) either way beats a cut that needs more trimming;
    # labels are parted from their fields only when that makes a cleaner cut.
    singles = [[i] for u in units for i in u]
    options = [units, singles] if len(singles) > len(units) else [units]
    for shrink in (0.15, 0.3):
        for option in options:
            option_boxes = [union_all(boxes[i] for i in u) for u in option]
            for axis in (prefer, 1 - prefer):
                groups = split(option_boxes, axis, shrink)
                if len(groups) > 1:
                    kind = "column" if axis == 1 else "row"
                    children = [_cut([option[k] for k in g], boxes, 1 - axis) for g in groups]
                    return Node(kind, box, _flatten(kind, children))
    # Tangled boxes (overlapping both ways): lines top to bottom, each left to right.
    ids = [i for u in units for i in u]
    lines = [
        Node("row", union_all(boxes[ids[k]] for k in line),
             [Node("leaf", boxes[ids[k]], element=ids[k]) for k in line])
        if len(line) > 1
        else Node("leaf", boxes[ids[line[0]]], element=ids[line[0]])
        for line in line_rows([boxes[i] for i in ids])
    ]  # fmt: skip
    return Node("column", box, lines) if len(lines) > 1 else lines[0]


def _flatten(kind: str, children: list[Node]) -> list[Node]:
    """A column directly inside a column (or a row in a row) merges into its parent."""
    out: list[Node] = []
    for child in children:
        out.extend(child.children if child.kind == kind else [child])
    return out


def label_pairs(elements: list[Element]) -> dict[int, int]:
    """Which label names which field: field index → label index. A label names the nearest
    text box or dropdown to its right on the same line, or just below it (the one it starts
    above, when it spans several)."""
    candidates = []
    for li, label in enumerate(elements):
        if label.tag != "Label":
            continue
        lh = max(1.0, label.height)
        for fi, fld in enumerate(elements):
            if fld.tag not in FIELD_TAGS:
                continue
            right_gap = fld.box[0] - label.box[2]
            below_gap = fld.box[1] - label.box[3]
            x_overlap = min(label.box[2], fld.box[2]) - max(label.box[0], fld.box[0])
            if v_overlap(label.box, fld.box) > 0.4 and -0.5 * lh <= right_gap < 4 * lh:
                candidates.append((max(right_gap, 0) / lh, fi, li))
            elif x_overlap > 0.3 * min(label.width, fld.width) and -0.5 * lh <= below_gap < 2 * lh:
                # Over several fields, a label names the one it starts above.
                indent = abs(fld.box[0] - label.box[0]) / lh
                candidates.append((max(below_gap, 0) / lh + 0.25 + 0.5 * indent, fi, li))
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, fi, li in sorted(candidates):
        if fi not in pairs and li not in used:
            pairs[fi] = li
            used.add(li)
    return pairs
