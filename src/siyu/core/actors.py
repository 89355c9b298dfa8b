"""Who is acting: a staff member at a merchant, an API key, or the system.

Every service function that changes state takes an :class:`Actor` first. It
carries the merchant the request is bound to, the role that decides what is
allowed, and what the audit log writes as "who".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from siyu.core.errors import Forbidden
from siyu.core.permissions import Role, role_has

if TYPE_CHECKING:
    from siyu.core.models import ApiKey, Membership, Merchant, User


@dataclass(frozen=True)
class Actor:
    merchant: Merchant
    role: str
    user: User | None = None
    membership: Membership | None = None
    api_key: ApiKey | None = None
    ip_address: str | None = None
    label: str = field(default="")

    @classmethod
    def for_membership(cls, membership: Membership, *, ip_address: str | None = None) -> Actor:
        return cls(
            merchant=membership.merchant,
            role=membership.role,
            user=membership.user,
            membership=membership,
            ip_address=ip_address,
            label=str(membership.user),
        )

    @classmethod
    def for_api_key(cls, api_key: ApiKey, *, ip_address: str | None = None) -> Actor:
        return cls(
            merchant=api_key.merchant,
            role=api_key.role,
            api_key=api_key,
            ip_address=ip_address,
            label=f"API key {api_key.name} ({api_key.prefix})",
        )

    @classmethod
    def system(cls, merchant: Merchant, label: str = "system") -> Actor:
        """Background work and commands act with the owner's rights and say so in the log."""
        return cls(merchant=merchant, role=Role.OWNER, label=label)

    @property
    def principal(self) -> str:
        """A stable id of who is calling, for idempotency scoping."""
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        return "system"

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role

    def can(self, permission: str) -> bool:
        return role_has(self.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(_("Your role does not allow this."), code="forbidden")
