"""A distributor's share poster for a product: an SVG with the product's picture, name and
price and a QR code of the share link (``…/p/<id>/?d=<share code>``). Pure: no database;
the caller passes the picture's bytes.

The QR code is drawn from segno's module matrix as one ``<path>`` of unit squares (one
``M x,y h n v1 h-n z`` per run of dark modules), so the poster is a single self-contained
file that prints sharply at any size and can be saved or forwarded as it is.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.utils.html import escape

WIDTH = 750
HEIGHT = 1200
PICTURE = 750  # the square picture at the top
QR_SIZE = 260  # px of the QR code, its quiet zone included
QR_BORDER = 2  # modules of quiet zone
MAX_PICTURE_BYTES = 2_000_000  # larger pictures are left out (a coloured panel instead)
PICTURE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


def share_link(product_url: str, share_code: str) -> str:
    """``product_url`` with ``d=<share code>`` in its query (replacing one that was there)."""
    parts = urlsplit(product_url)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("d=")]
    query = "&".join([*kept, urlencode({"d": share_code})])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def qr_runs(text: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of ``text`` (error correction M) as ``(size in modules, [(x, y, length)])``
    of the horizontal runs of dark modules, the quiet zone included in the size."""
    import segno

    qr = segno.make_qr(text, error="m")
    runs: list[tuple[int, int, int]] = []
    size = 0
    for y, row in enumerate(qr.matrix_iter(scale=1, border=QR_BORDER)):
        cells = list(row)
        size = len(cells)
        x = 0
        while x < size:
            if cells[x]:
                start = x
                while x < size and cells[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return size, runs


def qr_path(text: str) -> tuple[int, str]:
    """``(size in modules, path data)`` of the QR code of ``text``."""
    size, runs = qr_runs(text)
    return size, "".join(f"M{x},{y}h{n}v1h-{n}z" for x, y, n in runs)


_RUN = re.compile(r"M(\d+),(\d+)h(\d+)v1h-\3z")


def dark_modules(path: str) -> set[tuple[int, int]]:
    """The dark modules a path of :func:`qr_path` draws (for checks: a poster's QR read back)."""
    return {
        (x + i, y)
        for x, y, n in ((int(a), int(b), int(c)) for a, b, c in _RUN.findall(path))
        for i in range(n)
    }


@dataclass(frozen=True)
class Picture:
    content_type: str
    data: bytes


def picture_of(name: str, data: bytes) -> Picture | None:
    """A picture to embed, by its file name's extension; ``None`` when unknown or too large."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = PICTURE_TYPES.get(extension)
    if kind is None or not data or len(data) > MAX_PICTURE_BYTES:
        return None
    return Picture(kind, data)


def _lines(text: str, width: int, limit: int) -> list[str]:
    """``text`` broken into at most ``limit`` lines of about ``width`` units (a CJK character
    counts 2, others 1); the last line ends with … when the text is longer."""
    lines: list[str] = []
    current = ""
    used = 0
    for ch in text.strip():
        w = 2 if ord(ch) > 0x2E80 else 1
        if used + w > width:
            lines.append(current)
            current, used = "", 0
            if len(lines) == limit:
                break
        current += ch
        used += w
    else:
        if current:
            lines.append(current)
        return lines
    lines[-1] = lines[-1][:-1] + "…"
    return lines


def poster_svg(
    *,
    shop_name: str,
    product_name: str,
    price_text: str,
    link: str,
    caption: str,
    picture: Picture | None = None,
) -> str:
    """The poster as an SVG document (UTF-8 text)."""
    size, path = qr_path(link)
    scale = QR_SIZE / size
    qr_x, qr_y = WIDTH - QR_SIZE - 40, PICTURE + 40
    if picture is not None:
        encoded = base64.b64encode(picture.data).decode("ascii")
        top = (
            f'<image x="0" y="0" width="{PICTURE}" height="{PICTURE}" '
            f'preserveAspectRatio="xMidYMid slice" href="data:{picture.content_type};base64,'
            f'{encoded}"/>'
        )
    else:
        initial = escape(product_name.strip()[:1] or "·")
        top = (
            f'<rect x="0" y="0" width="{PICTURE}" height="{PICTURE}" fill="#fde7d9"/>'
            f'<text x="{PICTURE // 2}" y="{PICTURE // 2 + 90}" font-size="260" '
            f'text-anchor="middle" fill="#c2410c">{initial}</text>'
        )
    name_lines = "".join(
        f'<text x="40" y="{PICTURE + 80 + i * 48}" font-size="38" font-weight="600" '
        f'fill="#1f2328">{escape(line)}</text>'
        for i, line in enumerate(_lines(product_name, 22, 3))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="PingFang SC, Noto Sans CJK SC, '
        f'Microsoft YaHei, sans-serif">'
        f"<title>{escape(product_name)} · {escape(shop_name)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
        f"{top}{name_lines}"
        f'<text x="40" y="{PICTURE + 270}" font-size="56" font-weight="700" '
        f'fill="#c2410c">{escape(price_text)}</text>'
        f'<text x="40" y="{HEIGHT - 90}" font-size="28" fill="#57606a">{escape(caption)}</text>'
        f'<text x="40" y="{HEIGHT - 45}" font-size="26" fill="#8c959f">{escape(shop_name)}</text>'
        f'<g transform="translate({qr_x},{qr_y}) scale({scale:.5f})" data-qr-modules="{size}">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        f'<path d="{path}" fill="#1f2328" shape-rendering="crispEdges"/></g>'
        "</svg>"
    )
