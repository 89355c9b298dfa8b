"""Posters: the PNG has the A5 size and carries the code's QR, module for module; the PDF is a PDF."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from siyu.community import posters
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.stores.models import Store

pytestmark = pytest.mark.django_db


def test_poster_png_holds_the_qr_of_the_short_link(owner: Actor, store: Store) -> None:
    code = make_code(owner, [make_group(owner)], store=store.pk, poster_message="扫码入群 领券")
    data = posters.poster_png(code)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == posters.A5_150DPI
    poster = posters.render(code)
    left, top, _right, _bottom = poster.qr_box
    matrix = posters.qr(code).matrix
    step = poster.module_px
    rgb = poster.image.convert("L")
    border = posters.QR_BORDER
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            x = left + (c + border) * step + step // 2
            y = top + (r + border) * step + step // 2
            assert (rgb.getpixel((x, y)) < 128) == bool(dark), (r, c)
    assert posters.short_link(code).endswith(f"/j/{code.token}")


def test_poster_pdf_and_qr_files(owner: Actor) -> None:
    code = make_code(owner, [make_group(owner)])
    assert posters.poster_pdf(code).startswith(b"%PDF")
    assert posters.qr_png(code).startswith(b"\x89PNG")
    assert "<svg" in posters.qr_svg(code)


def test_a_cjk_font_is_found_or_reported() -> None:
    font = posters.poster_font()
    assert font is None or font.endswith((".ttc", ".ttf", ".otf"))
