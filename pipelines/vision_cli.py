"""`vistavox ocr IMAGE` and `vistavox sketch PHOTO -o page.html`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_ocr(args: argparse.Namespace) -> int:
    from .vision.ingest import load_image
    from .vision.layout_text import render_layout
    from .vision.ocr import recognise

    image = load_image(args.image)
    boxes = recognise(image.image)
    if args.text:
        print(render_layout(boxes, image.size))
    else:
        out = [{"text": b.text, "box": list(b.box), "score": round(b.score, 3)} for b in boxes]
        json.dump({"image": str(args.image), "size": list(image.size), "lines": out}, sys.stdout,
                  indent=1, ensure_ascii=False)  # fmt: skip
        print()
    return 0


def cmd_sketch(args: argparse.Namespace) -> int:
    from .audio.files import check_writable, write_atomic
    from .vision.sketch.pipeline import sketch_to_html

    check_writable(args.output)
    result = sketch_to_html(args.photo)
    write_atomic(args.output, result.html.encode("utf-8"))
    print(f"{args.output}: {len(result.elements)} elements", file=sys.stderr)
    if args.boxes:
        write_atomic(args.boxes, json.dumps(result.boxes_json(), indent=1).encode("utf-8"))
    if args.png:
        from .vision.render import render_html

        render_html(args.output, args.png)
        print(f"{args.png}: preview", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    ocr = sub.add_parser("ocr", help="read the text in an image (JSON with boxes)")
    ocr.add_argument("image", type=Path)
    ocr.add_argument("--text", action="store_true", help="lines with positions instead of JSON")
    ocr.set_defaults(run=cmd_ocr)
    sketch = sub.add_parser("sketch", help="turn a photo of a hand-drawn wireframe into a page")
    sketch.add_argument("photo", type=Path)
    sketch.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")
    sketch.add_argument("--png", type=Path, help="also render the page to this PNG")
    sketch.add_argument("--boxes", type=Path, help="also write the detected elements as JSON")
    sketch.set_defaults(run=cmd_sketch)
