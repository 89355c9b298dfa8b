"""The material library: copy and pictures operators prepare for guides to share to Moments.

Operators (``Perm.GUIDES_MANAGE``) create, edit, publish or withdraw materials and
their images; an image is accepted by decoding its bytes (:mod:`siyu.catalog.imaging`,
the catalog's rules), never by its file name. A guide marks a material as shared:
once per guide and day counts once (the unique constraint ``material_share_once_a_day``),
and ``Material.share_count`` moves with that insert only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from siyu.catalog import imaging
from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.guides.models import Material, MaterialImage, MaterialShare

MAX_TITLE = 80
MAX_TEXT = 2000
MAX_IMAGES = 9  # a Moments post holds nine pictures
AUDIT_FIELDS = ("title", "text", "product", "is_active")


def _validate(
    title: str, text: str, product_id: Any, images: Sequence[bytes], existing_images: int
) -> tuple[dict[str, str], list[imaging.ImageInfo], int | None]:
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Give the material a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("At most %(n)d characters.") % {"n": MAX_TITLE}
    if not text:
        errors["text"] = _("Write the text guides will share.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    product: int | None = None
    if product_id not in (None, ""):
        from siyu.catalog.models import Product

        try:
            product = int(product_id)
        except (TypeError, ValueError):
            errors["product"] = _("Choose a product.")
        else:
            if not Product.objects.filter(pk=product).exists():
                errors["product"] = _("No such product.")
    if existing_images + len(images) > MAX_IMAGES:
        errors["images"] = _("At most %(n)d images.") % {"n": MAX_IMAGES}
    infos: list[imaging.ImageInfo] = []
    for index, data in enumerate(images):
        try:
            infos.append(imaging.inspect_image(data, max_bytes=settings.MAX_IMAGE_UPLOAD_BYTES))
        except imaging.ImageRejected as exc:
            errors[f"images.{index}"] = str(exc)
    return errors, infos, product


def _store_images(
    material: Material, images: Sequence[bytes], infos: Sequence[imaging.ImageInfo]
) -> None:
    start = (material.images.aggregate(m=Max("position"))["m"] or 0) + 1
    for offset, (data, info) in enumerate(zip(images, infos, strict=True)):
        row = MaterialImage(
            merchant_id=material.merchant_id, material=material, position=start + offset
        )
        row.image.save(f"{uuid.uuid4().hex}.{info.extension}", ContentFile(data), save=False)
        row.save()


def create_material(
    actor: Actor,
    *,
    title: str,
    text: str,
    product_id: Any = None,
    images: Sequence[bytes] = (),
    is_active: bool = True,
) -> Material:
    """A new material with its images (each checked by decoding it); 422 naming the field."""
    actor.require(Perm.GUIDES_MANAGE)
    title, text = (title or "").strip(), (text or "").strip()
    errors, infos, product = _validate(title, text, product_id, images, 0)
    if errors:
        raise InvalidInput(_("Check the material."), fields=errors)
    with transaction.atomic():
        material = Material.objects.create(
            merchant=actor.merchant,
            title=title,
            text=text,
            product_id=product,
            is_active=is_active,
            created_by=actor.label[:150],
        )
        _store_images(material, images, infos)
        audit.record(
            actor, "guides.material.created", material, after=audit.snapshot(material, AUDIT_FIELDS)
        )
    return material


def update_material(
    actor: Actor,
    material: Material,
    *,
    title: str,
    text: str,
    product_id: Any = None,
    is_active: bool = True,
    add_images: Sequence[bytes] = (),
    remove_image_ids: Sequence[int] = (),
) -> Material:
    """Change a material: its text, product, publication, images added and removed."""
    actor.require(Perm.GUIDES_MANAGE)
    title, text = (title or "").strip(), (text or "").strip()
    with transaction.atomic():
        locked = Material.objects.select_for_update().filter(pk=material.pk).first()
        if locked is None:
            raise NotFound(_("No such material."))
        removing = list(locked.images.filter(pk__in=list(remove_image_ids)))
        kept = locked.images.count() - len(removing)
        errors, infos, product = _validate(title, text, product_id, add_images, kept)
        if errors:
            raise InvalidInput(_("Check the material."), fields=errors)
        before = audit.snapshot(locked, AUDIT_FIELDS)
        locked.title, locked.text, locked.product_id = title, text, product
        locked.is_active = is_active
        locked.save(update_fields=["title", "text", "product", "is_active"])
        files = [row.image.name for row in removing]
        for row in removing:
            row.delete()
        _store_images(locked, add_images, infos)
        audit.record(
            actor,
            "guides.material.updated",
            locked,
            before=before,
            after={**audit.snapshot(locked, AUDIT_FIELDS), "images_removed": len(removing)},
        )

        def delete_files() -> None:
            from django.core.files.storage import default_storage

            for name in files:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(delete_files)
    return locked


def delete_material(actor: Actor, material: Material) -> None:
    """Remove a material and its images (its share history goes with it)."""
    actor.require(Perm.GUIDES_MANAGE)
    with transaction.atomic():
        names = [row.image.name for row in material.images.all()]
        audit.record(
            actor,
            "guides.material.deleted",
            material,
            before=audit.snapshot(material, AUDIT_FIELDS),
        )
        material.delete()

        def delete_files() -> None:
            from django.core.files.storage import default_storage

            for name in names:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(delete_files)


def mark_shared(guide: Membership, material_id: int) -> bool:
    """The guide shared the material today; True when this is the day's first share by them."""
    material = Material.objects.filter(pk=material_id, is_active=True).first()
    if material is None:
        raise NotFound(_("No such material."))
    now = clock.now()
    today = clock.local(now, guide.merchant.time_zone).date()
    try:
        with transaction.atomic():
            MaterialShare.objects.create(
                merchant_id=material.merchant_id,
                material=material,
                guide=guide,
                shared_on=today,
                shared_at=now,
            )
            Material.objects.filter(pk=material.pk).update(share_count=F("share_count") + 1)
    except IntegrityError:
        return False  # already counted today
    return True
