"""The invite QR code and poster of a customer (segno + Pillow, like the join-code posters of
:mod:`siyu.community.posters`, whose font lookup it shares): the shop's name, who invites,
what the friend gets, the QR code of the invite link, the code and the link."""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageDraw, ImageFont

from siyu.community.posters import poster_font

SIZE = (750, 1100)
QR_BORDER = 2
ORANGE = "#c2410c"


def qr_svg(link: str, scale: int = 5) -> str:
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        buffer, kind="svg", scale=scale, border=QR_BORDER, xmldecl=False
    )
    return buffer.getvalue().decode()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = poster_font()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, size: int, fill: str) -> int:
    font = _font(size)
    while text and draw.textlength(text, font=font) > SIZE[0] - 60:
        text = text[:-1]
    draw.text(((SIZE[0] - draw.textlength(text, font=font)) / 2, y), text, font=font, fill=fill)
    return y + int(size * 1.45)


def poster_png(*, shop: str, headline: str, offer: str, code: str, link: str) -> bytes:
    """A phone-sized PNG poster (750 × 1100) to save and share."""
    width, height = SIZE
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 140), fill=ORANGE)
    _centered(draw, 40, shop, 50, "white")
    y = _centered(draw, 180, headline, 38, "#1f2937")
    if offer:
        y = _centered(draw, y, offer, 32, ORANGE)
    symbol = segno.make(link, error="m", micro=False)
    modules = symbol.symbol_size(scale=1, border=QR_BORDER)[0]
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=max(4, 480 // modules), border=QR_BORDER)
    buffer.seek(0)
    qr_image = Image.open(buffer).convert("RGB")
    top = max(y + 20, 320)
    image.paste(qr_image, ((width - qr_image.width) // 2, top))
    y = _centered(draw, top + qr_image.height + 30, code, 56, "#111827")
    _centered(draw, height - 70, link, 22, "#6b7280")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
