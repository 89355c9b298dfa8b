"""Simple product illustrations drawn with Pillow, for the demo catalogue (no downloads).

Pure: ``draw(kind, ...)`` returns encoded image bytes. Shapes are drawn at twice
the size and scaled down, which smooths their edges.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
SCALE = 2

PALETTES: dict[str, tuple[Color, Color, Color]] = {
    # background, main colour, accent
    "espresso": ((246, 233, 220), (111, 69, 45), (236, 214, 190)),
    "iced": ((224, 238, 246), (150, 100, 70), (255, 255, 255)),
    "pourover": ((236, 242, 232), (90, 120, 90), (120, 80, 50)),
    "tea": ((233, 244, 228), (98, 150, 80), (210, 232, 190)),
    "beans": ((244, 236, 224), (84, 60, 44), (196, 152, 96)),
    "bread": ((250, 240, 222), (196, 134, 62), (232, 186, 120)),
    "pastry": ((252, 238, 226), (214, 146, 70), (245, 200, 140)),
    "cake": ((252, 232, 236), (240, 170, 180), (255, 248, 240)),
    "merch": ((232, 236, 246), (194, 65, 12), (255, 255, 255)),
}


def _cup(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    # a paper cup with a lid and a sleeve
    top, bottom = int(s * 0.30), int(s * 0.80)
    d.polygon(
        [(s * 0.32, top), (s * 0.68, top), (s * 0.63, bottom), (s * 0.37, bottom)],
        fill=(255, 255, 255) if not iced else (235, 245, 250),
        outline=main,
        width=s // 90,
    )
    if iced:
        d.polygon(
            [(s * 0.335, s * 0.42), (s * 0.665, s * 0.42), (s * 0.63, bottom), (s * 0.37, bottom)],
            fill=main,
        )
        for x, y in ((0.42, 0.47), (0.53, 0.52), (0.46, 0.60)):
            d.rounded_rectangle(
                [s * x, s * y, s * (x + 0.08), s * (y + 0.08)],
                radius=s // 80,
                fill=(225, 240, 248),
                outline=(255, 255, 255),
                width=s // 200,
            )
        d.line([(s * 0.56, s * 0.12), (s * 0.52, s * 0.40)], fill=(40, 40, 40), width=s // 45)
    else:
        d.polygon(
            [
                (s * 0.345, s * 0.46),
                (s * 0.655, s * 0.46),
                (s * 0.64, s * 0.62),
                (s * 0.36, s * 0.62),
            ],
            fill=main,
        )
        d.text((s * 0.5, s * 0.54), "S", fill=accent, anchor="mm", font=_font(s // 12))
        for i, x in enumerate((0.44, 0.5, 0.56)):  # steam
            y0 = s * (0.10 + 0.02 * i)
            d.arc(
                [s * (x - 0.03), y0, s * (x + 0.03), y0 + s * 0.08],
                90,
                270,
                fill=main,
                width=s // 120,
            )
            d.arc(
                [s * (x - 0.03), y0 + s * 0.08, s * (x + 0.03), y0 + s * 0.16],
                270,
                90,
                fill=main,
                width=s // 120,
            )
    d.rounded_rectangle(
        [s * 0.29, top - s * 0.05, s * 0.71, top + s * 0.01], radius=s // 60, fill=main
    )


def _dripper(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    d.polygon(
        [(s * 0.28, s * 0.22), (s * 0.72, s * 0.22), (s * 0.56, s * 0.45), (s * 0.44, s * 0.45)],
        fill=main,
    )
    d.rectangle([s * 0.40, s * 0.45, s * 0.60, s * 0.48], fill=main)
    d.rounded_rectangle(
        [s * 0.30, s * 0.50, s * 0.70, s * 0.82],
        radius=s // 20,
        outline=main,
        width=s // 60,
        fill=(255, 255, 255),
    )
    d.rectangle([s * 0.32, s * 0.64, s * 0.68, s * 0.80], fill=accent)
    for i in range(3):
        d.ellipse(
            [s * (0.48 - 0.0), s * (0.50 + 0.04 * i), s * 0.52, s * (0.52 + 0.04 * i)], fill=accent
        )


def _bag(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    d.rounded_rectangle([s * 0.28, s * 0.22, s * 0.72, s * 0.84], radius=s // 30, fill=main)
    d.rectangle([s * 0.28, s * 0.22, s * 0.72, s * 0.30], fill=accent)
    d.rounded_rectangle(
        [s * 0.35, s * 0.42, s * 0.65, s * 0.66], radius=s // 40, fill=(250, 244, 232)
    )
    for dx, dy in ((-0.05, 0), (0.05, 0)):  # two beans on the label
        cx, cy = s * (0.5 + dx), s * (0.54 + dy)
        d.ellipse([cx - s * 0.045, cy - s * 0.06, cx + s * 0.045, cy + s * 0.06], fill=main)
        d.line([(cx, cy - s * 0.05), (cx, cy + s * 0.05)], fill=accent, width=s // 120)


def _loaf(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    d.rounded_rectangle([s * 0.18, s * 0.45, s * 0.82, s * 0.78], radius=s // 14, fill=main)
    d.ellipse([s * 0.18, s * 0.28, s * 0.82, s * 0.62], fill=main)
    for x in (0.34, 0.5, 0.66):
        d.line([(s * (x - 0.05), s * 0.36), (s * (x + 0.05), s * 0.50)], fill=accent, width=s // 45)


def _croissant(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    segments = [
        (0.22, 0.58, 0.10),
        (0.33, 0.48, 0.13),
        (0.5, 0.44, 0.16),
        (0.67, 0.48, 0.13),
        (0.78, 0.58, 0.10),
    ]
    for x, y, r in segments:
        d.ellipse(
            [s * (x - r), s * (y - r * 0.8), s * (x + r), s * (y + r * 0.8)],
            fill=main,
            outline=accent,
            width=s // 100,
        )


def _cake(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    d.polygon(
        [(s * 0.20, s * 0.50), (s * 0.80, s * 0.36), (s * 0.80, s * 0.72), (s * 0.20, s * 0.80)],
        fill=accent,
    )
    d.polygon(
        [(s * 0.20, s * 0.50), (s * 0.80, s * 0.36), (s * 0.80, s * 0.44), (s * 0.20, s * 0.58)],
        fill=main,
    )
    d.polygon(
        [(s * 0.20, s * 0.64), (s * 0.80, s * 0.53), (s * 0.80, s * 0.58), (s * 0.20, s * 0.70)],
        fill=main,
    )
    d.ellipse([s * 0.55, s * 0.24, s * 0.67, s * 0.36], fill=(200, 40, 60))
    d.line([(s * 0.61, s * 0.24), (s * 0.64, s * 0.17)], fill=(60, 120, 60), width=s // 90)


def _mug(d: ImageDraw.ImageDraw, s: int, main: Color, accent: Color, iced: bool) -> None:
    d.rounded_rectangle([s * 0.26, s * 0.30, s * 0.64, s * 0.80], radius=s // 25, fill=main)
    d.arc([s * 0.56, s * 0.40, s * 0.80, s * 0.66], 270, 90, fill=main, width=s // 22)
    d.ellipse([s * 0.37, s * 0.46, s * 0.53, s * 0.62], fill=accent)
    cx, cy = s * 0.45, s * 0.54  # a coffee bean on the badge
    d.ellipse([cx - s * 0.035, cy - s * 0.05, cx + s * 0.035, cy + s * 0.05], fill=main)
    d.line([(cx, cy - s * 0.04), (cx, cy + s * 0.04)], fill=accent, width=s // 140)


SHAPES: dict[str, Callable[[ImageDraw.ImageDraw, int, Color, Color, bool], None]] = {
    "cup": _cup,
    "dripper": _dripper,
    "bag": _bag,
    "loaf": _loaf,
    "croissant": _croissant,
    "cake": _cake,
    "mug": _mug,
}


def plain(label: str) -> str:
    """``label`` without accents ("Caffè" → "Caffe"): Pillow's built-in font has Latin
    letters only, and an accented one would be drawn as a box."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def draw(
    shape: str,
    palette: str,
    label: str = "",
    *,
    size: int = 560,
    iced: bool = False,
    tint: int = 0,
    format: str = "WEBP",
) -> bytes:
    """An illustration of ``shape`` (cup, dripper, bag, loaf, croissant, cake, mug) on a
    soft ``palette`` background with ``label`` underneath, encoded as WebP/PNG/JPEG."""
    background, main, accent = PALETTES[palette]
    background = tuple(max(0, min(255, c + tint)) for c in background)  # type: ignore[assignment]
    s = size * SCALE
    image = Image.new("RGB", (s, s), background)
    d = ImageDraw.Draw(image)
    d.ellipse(
        [s * 0.12, s * 0.84, s * 0.88, s * 0.92], fill=tuple(max(0, c - 18) for c in background)
    )
    SHAPES[shape](d, s, main, accent, iced)
    if label:
        ink = tuple(int(c * 0.6) for c in main)
        d.text((s * 0.5, s * 0.95), plain(label), fill=ink, anchor="mm", font=_font(s // 22))
    image = image.reduce(SCALE)
    out = io.BytesIO()
    if format == "WEBP":
        image.save(out, "WEBP", quality=86, method=2)
    elif format == "JPEG":
        image.save(out, "JPEG", quality=88)
    else:
        image.save(out, "PNG", optimize=False)
    return out.getvalue()
