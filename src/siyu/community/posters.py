"""QR codes and printable posters of join codes (segno + Pillow).

A poster is A5 portrait at 150 dpi (874 × 1240 px): the merchant's name, the
store's name, the QR code of the short link, the poster message and the link
itself. PNG for screens and print shops, PDF (Pillow's writer) for printers.

Chinese text needs a CJK font. ``SIYU_POSTER_FONT`` (environment or the
``POSTER_FONT`` setting) names a font file; otherwise the usual system places are
tried (Noto Sans CJK, WenQuanYi, Droid Sans Fallback). With none found the poster
uses Pillow's built-in font, which has no Chinese glyphs: :func:`poster_font`
reports that so the console can say so.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache

import segno
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from siyu.community.models import JoinCode

A5_150DPI = (874, 1240)
QR_SCALE = 12
QR_BORDER = 2
CANDIDATE_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
)


def short_link(code: JoinCode) -> str:
    """The absolute short link printed on posters: ``<PUBLIC_URL>/j/<token>``."""
    return f"{settings.PUBLIC_URL}/j/{code.token}"


def qr(code: JoinCode) -> segno.QRCode:
    return segno.make(short_link(code), error="m", micro=False)


def qr_svg(code: JoinCode, scale: int = 6) -> str:
    buffer = io.BytesIO()
    qr(code).save(buffer, kind="svg", scale=scale, border=QR_BORDER, xmldecl=False)
    return buffer.getvalue().decode()


def qr_png(code: JoinCode, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    qr(code).save(buffer, kind="png", scale=scale, border=QR_BORDER)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def poster_font() -> str | None:
    """The font file posters use, or None (Pillow's built-in font, no Chinese)."""
    configured = getattr(settings, "POSTER_FONT", "") or os.environ.get("SIYU_POSTER_FONT", "")
    for path in ((configured,) if configured else ()) + CANDIDATE_FONTS:
        if path and os.path.isfile(path):
            return path
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = poster_font()
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


@dataclass(frozen=True)
class Poster:
    image: Image.Image
    qr_box: tuple[int, int, int, int]  # left, top, right, bottom of the QR (with its border)
    module_px: int


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill: str) -> int:
    font = _font(size)
    width = A5_150DPI[0]
    while text and draw.textlength(text, font=font) > width - 80:
        text = text[:-1]
    x = (width - draw.textlength(text, font=font)) / 2
    draw.text((x, y), text, font=font, fill=fill)
    return y + int(size * 1.4)


def render(code: JoinCode) -> Poster:
    width, height = A5_150DPI
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 150), fill="#c2410c")
    _centered(draw, 45, code.merchant.name, 52, "white")
    y = 190
    store_name = code.store.name if code.store_id and code.store else ""
    if store_name:
        y = _centered(draw, y, store_name, 40, "#1f2937")
    symbol = qr(code)
    modules = symbol.symbol_size(scale=1, border=QR_BORDER)[0]
    module_px = int(max(4, min(QR_SCALE, 560 // modules)))
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=module_px, border=QR_BORDER)
    buffer.seek(0)
    qr_image = Image.open(buffer).convert("RGB")
    left = (width - qr_image.width) // 2
    top = max(y + 20, 280)
    image.paste(qr_image, (left, top))
    y = top + qr_image.height + 40
    message = code.poster_message or code.name
    y = _centered(draw, y, message, 44, "#c2410c")
    _centered(draw, height - 90, short_link(code), 26, "#6b7280")
    return Poster(image, (left, top, left + qr_image.width, top + qr_image.height), module_px)


def poster_png(code: JoinCode) -> bytes:
    buffer = io.BytesIO()
    render(code).image.save(buffer, "PNG", dpi=(150, 150), optimize=True)
    return buffer.getvalue()


def poster_pdf(code: JoinCode) -> bytes:
    buffer = io.BytesIO()
    render(code).image.save(buffer, "PDF", resolution=150.0)
    return buffer.getvalue()
