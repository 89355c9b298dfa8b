"""Product images: accept by decoding the content (never the file name), make thumbnails.

Pure functions on bytes, no database or storage. :func:`inspect_image` opens
the data with Pillow, checks the real format and the pixel count (a small file
can decode to a huge bitmap), and fully decodes it so a truncated or corrupt
file is refused here, not later in a customer's browser. :func:`make_thumbnail`
applies the EXIF orientation, flattens transparency onto white, crops to the
target shape and encodes WebP (or JPEG).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
MAX_PIXELS = 40_000_000  # 40 MP: above any phone camera, below what could exhaust memory
MIN_SIDE = 16
THUMBNAIL_SIZE = (480, 480)
THUMBNAIL_FORMATS = {"WEBP": ("webp", "image/webp"), "JPEG": ("jpg", "image/jpeg")}


class ImageRejected(ValueError):
    """The bytes are not an image Siyu accepts; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF
    width: int  # after EXIF orientation
    height: int
    byte_size: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(_("The image has too many pixels.")) from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ImageRejected(_("This file is not an image we can read.")) from exc


def _orientation_swaps_sides(image: Image.Image) -> bool:
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not reject an otherwise good image
        return False
    return orientation in (5, 6, 7, 8)


def inspect_image(data: bytes, *, max_bytes: int | None = None) -> ImageInfo:
    """Check that ``data`` is a JPEG, PNG, WebP or GIF within limits; raise :class:`ImageRejected`."""
    if not data:
        raise ImageRejected(_("The file is empty."))
    if max_bytes is not None and len(data) > max_bytes:
        raise ImageRejected(
            _("The file is larger than %(mb)s MB.") % {"mb": f"{max_bytes / 1024 / 1024:g}"}
        )
    image = _open(data)
    try:
        if image.format not in ALLOWED_FORMATS:
            raise ImageRejected(
                _("Only JPEG, PNG, WebP or GIF images are accepted (this one is %(format)s).")
                % {"format": image.format or "?"}
            )
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageRejected(
                _("The image has too many pixels (at most %(mp)d megapixels).")
                % {"mp": MAX_PIXELS // 1_000_000}
            )
        if min(width, height) < MIN_SIDE:
            raise ImageRejected(
                _("The image is too small (at least %(px)d pixels a side).") % {"px": MIN_SIDE}
            )
        try:
            image.load()  # decode every pixel: truncated or corrupt data fails here
        except (OSError, ValueError, SyntaxError) as exc:
            raise ImageRejected(_("The image is damaged or incomplete.")) from exc
        if _orientation_swaps_sides(image):
            width, height = height, width
        return ImageInfo(format=image.format, width=width, height=height, byte_size=len(data))
    finally:
        image.close()


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Flatten any mode (palette, alpha, CMYK, 16-bit) to RGB on ``background``."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def make_thumbnail(
    data: bytes,
    *,
    size: tuple[int, int] = THUMBNAIL_SIZE,
    format: str = "WEBP",
    crop: bool = True,
    quality: int = 82,
) -> bytes:
    """A ``size`` thumbnail of ``data`` (EXIF-oriented, RGB, cropped or fitted) as WebP or JPEG."""
    if format not in THUMBNAIL_FORMATS:
        raise ValueError(f"thumbnail format must be one of {sorted(THUMBNAIL_FORMATS)}")
    image = _open(data)
    try:
        image.seek(0)  # the first frame of an animation
        oriented = ImageOps.exif_transpose(image) or image
        rgb = to_rgb(oriented)
        if crop:
            result = ImageOps.fit(rgb, size, method=Image.Resampling.LANCZOS)
        else:
            result = rgb.copy()
            result.thumbnail(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if format == "JPEG":
            result.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        else:
            result.save(out, "WEBP", quality=quality, method=3)
        return out.getvalue()
    finally:
        image.close()


def thumbnail_extension(format: str = "WEBP") -> str:
    return THUMBNAIL_FORMATS[format][0]
