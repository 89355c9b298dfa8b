"""Console pages of guides (/console/guides/): guides and their numbers, materials,
transfers and the guide settings. ``Perm.GUIDES_MANAGE``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.guides import materials, selectors, services
from siyu.guides.models import GuideSettings, Material, Transfer
from siyu.web.console import console_view, paginate, show_errors


def _or_404(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except NotFound as exc:
        raise Http404 from exc


@console_view(Perm.GUIDES_MANAGE)
def guide_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(
        request, "guides/console/guide_list.html", {"rows": selectors.guides(actor.merchant)}
    )


@console_view(Perm.GUIDES_MANAGE)
def guide_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    guide = _or_404(selectors.guide, actor.merchant, pk)
    return render(
        request,
        "guides/console/guide_detail.html",
        {
            "guide": guide,
            "numbers": [selectors.performance(guide, p) for p in ("today", "7d", "30d")],
            "customers": selectors.my_customers(guide)[:20],
            "history": selectors.ownership_history(guide=guide, limit=20),
        },
    )


# --- materials -------------------------------------------------------------------------


class MaterialForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=80)
    text = forms.CharField(
        label=pgettext_lazy("copy of a material", "Text"), max_length=2000, widget=forms.Textarea
    )
    product = forms.IntegerField(label=gettext_lazy("Product id (optional)"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Published"), required=False, initial=True)


def _uploads(request: HttpRequest) -> list[bytes]:
    return [f.read() for f in request.FILES.getlist("images")]


@console_view(Perm.GUIDES_MANAGE)
def material_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "guides/console/material_list.html",
        {"page": paginate(request, selectors.materials())},
    )


@console_view(Perm.GUIDES_MANAGE)
def material_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = MaterialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            material = materials.create_material(
                actor,
                title=data["title"],
                text=data["text"],
                product_id=data["product"],
                is_active=data["is_active"],
                images=_uploads(request),
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Material saved."))
            return redirect("guides:material_edit", pk=material.pk)
    return render(request, "guides/console/material_form.html", {"form": form})


@console_view(Perm.GUIDES_MANAGE)
def material_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    material: Material = _or_404(selectors.material, pk)
    initial = {
        "title": material.title,
        "text": material.text,
        "product": material.product_id,
        "is_active": material.is_active,
    }
    form = MaterialForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            materials.update_material(
                actor,
                material,
                title=data["title"],
                text=data["text"],
                product_id=data["product"],
                is_active=data["is_active"],
                add_images=_uploads(request),
                remove_image_ids=[int(x) for x in request.POST.getlist("remove") if x.isdigit()],
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Material saved."))
            return redirect("guides:material_edit", pk=material.pk)
    return render(
        request,
        "guides/console/material_form.html",
        {"form": form, "material": material, "usage": selectors.material_usage(material)},
    )


@require_POST
@console_view(Perm.GUIDES_MANAGE)
def material_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    materials.delete_material(actor, _or_404(selectors.material, pk))
    messages.success(request, _("Material deleted."))
    return redirect("guides:material_list")


# --- transfers -------------------------------------------------------------------------


class TransferForm(forms.Form):
    from_guide = forms.TypedChoiceField(label=gettext_lazy("From guide"), coerce=int)
    to_guide = forms.TypedChoiceField(label=gettext_lazy("To guide"), coerce=int)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Transfer.Kind.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    message = forms.CharField(
        label=gettext_lazy("Message to each customer"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    customer_ids = forms.CharField(
        label=gettext_lazy("Only these customer ids (comma separated; empty: all)"),
        required=False,
    )
    include_groups = forms.BooleanField(
        label=gettext_lazy("Move their groups too"), required=False, initial=True
    )

    def __init__(self, *args: Any, guides: list[Any], everyone: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_guide"].choices = [(g.pk, str(g.user)) for g in everyone]  # type: ignore[attr-defined]
        self.fields["to_guide"].choices = [(g.pk, str(g.user)) for g in guides]  # type: ignore[attr-defined]

    def clean_customer_ids(self) -> list[int] | None:
        raw = self.cleaned_data.get("customer_ids", "").replace("，", ",").strip()
        if not raw:
            return None
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Customer ids must be whole numbers.")) from None


@console_view(Perm.GUIDES_MANAGE)
def transfer_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "guides/console/transfer_list.html",
        {"page": paginate(request, selectors.transfers())},
    )


@console_view(Perm.GUIDES_MANAGE)
def transfer_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    everyone = [row.guide for row in selectors.guides(actor.merchant)]
    form = TransferForm(
        request.POST or None,
        guides=selectors.guide_choices(actor.merchant),
        everyone=everyone,
        initial={"from_guide": request.GET.get("from")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.transfer_customers(
                actor,
                from_guide=services.find_guide(actor.merchant, data["from_guide"], "from_guide"),
                to_guide=services.find_guide(actor.merchant, data["to_guide"], "to_guide"),
                kind=data["kind"],
                reason=data["reason"],
                message=data["message"],
                customer_ids=data["customer_ids"],
                include_groups=data["include_groups"],
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return redirect("guides:transfer_detail", pk=transfer.pk)
    return render(request, "guides/console/transfer_form.html", {"form": form})


@console_view(Perm.GUIDES_MANAGE)
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = _or_404(selectors.transfer, pk)
    rules = services.guide_settings(transfer.merchant_id)
    return render(
        request,
        "guides/console/transfer_detail.html",
        {"transfer": transfer, "rules": rules, "running": transfer.status != "done"},
    )


# --- settings --------------------------------------------------------------------------


class SettingsForm(forms.ModelForm):
    class Meta:
        model = GuideSettings
        fields = [
            "attribution_window_days",
            "transfer_limit",
            "transfer_window_days",
            "dormant_days",
        ]


@console_view(Perm.GUIDES_MANAGE)
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    current = services.guide_settings(actor.merchant)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(actor, {k: form.cleaned_data[k] for k in form.fields})
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Guide settings saved."))
            return redirect("guides:settings")
    return render(request, "guides/console/settings.html", {"form": form})
