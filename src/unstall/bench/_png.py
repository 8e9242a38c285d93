"""The benchmark's chart as a PNG, drawn with Pillow from the same shapes as the SVG.

Pillow (the ``bench`` extra) ships wheels with everything it needs, FreeType and its own font
included, so the PNG needs no system library. The text is Pillow's built-in font; bold text is
drawn with a stroke of its own colour.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from unstall.bench._chart import Line, Rect, Text, layout
from unstall.bench._runner import BenchResult

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

__all__ = ("write_png",)

_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # left/middle/right, on the baseline


def write_png(result: BenchResult, path: Path, *, scale: float = 2.0) -> str | None:
    """Draw the chart of ``result`` into a PNG at ``path``, ``scale`` pixels per SVG pixel.

    Returns ``None`` once the file is written, else a sentence saying why it was not (Pillow
    is not installed, or the file cannot be written); never raises for those.
    """
    try:
        from PIL import Image, ImageDraw
    except ImportError as exc:
        return (
            f"Pillow is not installed ({exc}); install it with pip install 'unstall[bench]' "
            "(a wheel, no system library needed)"
        )
    chart = layout(result)
    image = Image.new("RGB", (round(chart.width * scale), round(chart.height * scale)), "white")
    draw = ImageDraw.Draw(image)
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            x, y = shape.x * scale, shape.y * scale
            right, bottom = x + shape.width * scale - 1, y + shape.height * scale - 1
            draw.rectangle((x, y, max(x, right), max(y, bottom)), fill=shape.fill)
        elif isinstance(shape, Line):
            ends = (shape.x1 * scale, shape.y1 * scale, shape.x2 * scale, shape.y2 * scale)
            draw.line(ends, fill=shape.stroke, width=max(1, round(scale)))
        else:
            _text(draw, shape, scale)
    try:
        image.save(path, format="PNG")
    except OSError as exc:
        return f"{exc.strerror or exc} ({path})"
    return None


def _text(draw: ImageDraw.ImageDraw, text: Text, scale: float) -> None:
    font = _font(round(text.size * scale))
    stroke = max(1, round(scale / 2)) if text.bold else 0
    draw.text(
        (text.x * scale, text.y * scale),
        text.text,
        fill=text.fill,
        font=font,
        anchor=_ANCHORS[text.anchor],
        stroke_width=stroke,
        stroke_fill=text.fill,
    )


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)
