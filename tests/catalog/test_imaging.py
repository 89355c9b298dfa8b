"""Image checks by content and thumbnails (pure functions on bytes)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from siyu.catalog import imaging
from siyu.catalog.testing import image_bytes


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_accepted_formats_are_recognised_by_content(fmt):
    info = imaging.inspect_image(image_bytes(80, 60, format=fmt))
    assert (info.format, info.width, info.height) == (fmt, 80, 60)
    assert info.extension in {"png", "jpg", "webp", "gif"}


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_image_formats_are_refused(fmt):
    with pytest.raises(imaging.ImageRejected, match="Only JPEG, PNG, WebP or GIF"):
        imaging.inspect_image(image_bytes(40, 40, format=fmt))


def test_a_text_file_is_not_an_image_whatever_its_name():
    with pytest.raises(imaging.ImageRejected, match="not an image"):
        imaging.inspect_image(b"GIF89a? no, just text pretending to be a picture.png")
    with pytest.raises(imaging.ImageRejected, match="empty"):
        imaging.inspect_image(b"")


def test_a_truncated_image_is_refused():
    data = image_bytes(400, 300, format="JPEG", color=(10, 200, 30))
    with pytest.raises(imaging.ImageRejected):
        imaging.inspect_image(data[: len(data) // 2])


def test_limits_on_bytes_pixels_and_size(monkeypatch):
    data = image_bytes(100, 100)
    with pytest.raises(imaging.ImageRejected, match="larger than"):
        imaging.inspect_image(data, max_bytes=len(data) - 1)
    monkeypatch.setattr(imaging, "MAX_PIXELS", 99 * 100)
    with pytest.raises(imaging.ImageRejected, match="too many pixels"):
        imaging.inspect_image(data)
    with pytest.raises(imaging.ImageRejected, match="too small"):
        imaging.inspect_image(image_bytes(8, 100))


def test_exif_orientation_swaps_the_reported_sides():
    info = imaging.inspect_image(image_bytes(80, 40, format="JPEG", exif_orientation=6))
    assert (info.width, info.height) == (40, 80)


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_thumbnail_is_a_cropped_square_webp_in_rgb():
    thumb = _open(imaging.make_thumbnail(image_bytes(800, 400), size=(200, 200)))
    assert (thumb.format, thumb.size, thumb.mode) == ("WEBP", (200, 200), "RGB")


def test_thumbnail_can_fit_instead_of_crop_and_be_jpeg():
    thumb = _open(
        imaging.make_thumbnail(image_bytes(800, 400), size=(200, 200), crop=False, format="JPEG")
    )
    assert (thumb.format, thumb.size) == ("JPEG", (200, 100))


def test_transparency_is_flattened_on_white():
    rgba = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    thumb = _open(imaging.make_thumbnail(out.getvalue(), size=(20, 20), format="JPEG")).convert(
        "RGB"
    )
    assert all(channel > 240 for channel in thumb.getpixel((10, 10)))


@pytest.mark.parametrize("mode", ["P", "L", "CMYK", "LA"])
def test_other_modes_become_rgb(mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    thumb = _open(imaging.make_thumbnail(image_bytes(30, 30, mode=mode, format=fmt), size=(16, 16)))
    assert thumb.mode == "RGB"


def test_thumbnail_respects_exif_orientation():
    # left half red, right half blue; orientation 6 means "rotate 90° clockwise to view"
    image = Image.new("RGB", (200, 100), (255, 0, 0))
    image.paste((0, 0, 255), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    thumb = _open(imaging.make_thumbnail(out.getvalue(), size=(100, 200), format="JPEG")).convert(
        "RGB"
    )
    assert thumb.size == (100, 200)
    top, bottom = thumb.getpixel((50, 20)), thumb.getpixel((50, 180))
    assert top[0] > 200
    assert top[2] < 60
    assert bottom[2] > 200
    assert bottom[0] < 60


def test_an_animated_gif_thumbnails_its_first_frame():
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    thumb = _open(imaging.make_thumbnail(out.getvalue(), size=(20, 20), format="JPEG")).convert(
        "RGB"
    )
    red, green, _ = thumb.getpixel((10, 10))
    assert red > 200
    assert green < 60


def test_unknown_thumbnail_format_is_a_programming_error():
    with pytest.raises(ValueError, match="thumbnail format"):
        imaging.make_thumbnail(image_bytes(), format="PNG")
