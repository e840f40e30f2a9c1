"""Render the app icon (resources/icons/vistavox.svg) into the PNG sizes of the hicolor icon
theme, under packaging/freedesktop/icons/hicolor/<N>x<N>/apps/. The PNGs are committed; run
this again after changing the SVG (tests/test_packaging.py checks that they match it):

    .venv/bin/python packaging/render_icons.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vistavox.pipelines.desktop_entry import APP_ID, ICON_SIZES

REPO = Path(__file__).resolve().parents[1]
SVG = REPO / "resources" / "icons" / "vistavox.svg"
OUT = REPO / "packaging" / "freedesktop" / "icons"


def render(svg: Path = SVG, out: Path = OUT, sizes: tuple[int, ...] = ICON_SIZES) -> list[Path]:
    """One PNG per size, drawn from ``svg`` with Qt's SVG renderer; the paths written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # kept while drawing
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"render_icons: could not write {path}")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--svg", type=Path, default=SVG, help=f"the icon (default: {SVG})")
    parser.add_argument("--out", type=Path, default=OUT, help=f"icons folder (default: {OUT})")
    args = parser.parse_args(argv)
    for path in render(args.svg, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
