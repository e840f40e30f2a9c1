"""`vistavox ocr IMAGE` and `vistavox sketch PHOTO -o page.html`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_ocr(args: argparse.Namespace) -> int:
    from ..vision.ingest import load_image
    from ..vision.layout_text import render_layout
    from ..vision.ocr import recognise

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
    from ..files import check_writable, write_atomic
    from ..vision.ingest import load_image

    # Check everything the user gave us before the slow part.
    outputs = [check_writable(p) for p in (args.output, args.png, args.boxes) if p]
    if len({p.resolve() for p in outputs}) < len(outputs):
        from ..errors import OutputPathError

        raise OutputPathError("the HTML, PNG and boxes outputs must be different files")
    load_image(args.photo)  # a clear error for a missing or broken photo, before any model

    from ..vision.sketch.pipeline import sketch_to_html

    result = sketch_to_html(args.photo, title=args.title)
    if args.refine:
        result = _refined(result, args)
    write_atomic(args.output, result.html.encode("utf-8"))
    counts: dict[str, int] = {}
    for element in result.elements:
        counts[element.tag] = counts.get(element.tag, 0) + 1
    summary = ", ".join(f"{n} {tag}" for tag, n in sorted(counts.items())) or "nothing found"
    print(f"{args.output}: {summary}", file=sys.stderr)
    if args.boxes:
        write_atomic(args.boxes, (result.boxes_json() + "\n").encode("utf-8"))
    if args.png:
        from ..vision.sketch.render import render_png

        render_png(result.html, args.png, (args.width, 900), whole=True)
        print(f"{args.png}: preview at {args.width} px wide", file=sys.stderr)
    return 0


def _refined(result, args: argparse.Namespace):
    """The page with its words, title and accent refined by the language model (the photo
    goes along for a vision model); the page is kept as it was if the answer is unusable."""
    from ..kernel.loading import load_llm
    from ..vision.sketch.refine import RefineError, photo_for, refine

    llm = load_llm(args.llm or "", args.vision_model or "", args.backend)
    try:
        image = photo_for(llm, args.photo.read_bytes())
        refinement = refine(llm, result.page_elements, image_png=image)
    except RefineError as exc:
        print(f"refinement skipped: {exc}", file=sys.stderr)
        return result
    for change in refinement.changes(result.page_elements):
        print(f"refined: {change}", file=sys.stderr)
    for i, proposal in sorted(refinement.rejected.items()):
        text = result.page_elements[i].text
        print(f"kept '{text}' (the model proposed '{proposal}')", file=sys.stderr)
    return result.refined(refinement)


def add_commands(sub) -> None:
    ocr = sub.add_parser("ocr", help="read the text in an image (JSON with boxes)")
    ocr.add_argument("image", type=Path)
    ocr.add_argument("--text", action="store_true", help="lines with positions instead of JSON")
    ocr.set_defaults(run=cmd_ocr)
    sketch = sub.add_parser(
        "sketch",
        help="turn a photo of a hand-drawn wireframe into a web page",
        description="Detect the controls drawn in PHOTO and write a responsive, accessible "
        "HTML page that mirrors the sketch.",
    )
    sketch.add_argument("photo", type=Path, help="photo or scan of the sketch")
    sketch.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")
    sketch.add_argument("--png", type=Path, help="also render the page to this PNG (Chromium)")
    sketch.add_argument("--boxes", type=Path, help="also write the elements and layout as JSON")
    sketch.add_argument("--title", help="page title (default: the sketch's heading)")
    sketch.add_argument("--width", type=int, default=1280, help="preview width in pixels")
    sketch.add_argument(
        "--refine",
        action="store_true",
        help="let the language model put right misread words and choose the title and "
        "accent colour (the structure stays as detected)",
    )
    sketch.add_argument("--llm", help="with --refine: a language model from the manifest")
    sketch.add_argument("--vision-model", help="with --refine: a vision model (sees the photo)")
    sketch.add_argument("--backend", help="with --refine: an OpenAI-compatible server URL")
    sketch.set_defaults(run=cmd_sketch)
