"""Domain event types of referrals (registered on import, from ``ReferralsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

REFERRAL_REGISTERED = "referrals.referral.registered"
REFERRAL_QUALIFIED = "referrals.referral.qualified"
REFERRAL_REWARDED = "referrals.referral.rewarded"
REFERRAL_BLOCKED = "referrals.referral.blocked"
PROGRAMME_CHANGED = "referrals.programme.changed"

EVENT_TYPES = {
    REFERRAL_REGISTERED: (
        _("Friend registered through an invitation"),
        _(
            "A new customer arrived through an invite link or code and passed the guards "
            "(`referral_id`, `inviter_id`, `invitee_id`, `source`)."
        ),
    ),
    REFERRAL_QUALIFIED: (
        _("Invited friend's first order completed"),
        _("The invitee's first order completed (`referral_id`, `inviter_id`, `order_id`)."),
    ),
    REFERRAL_REWARDED: (
        _("Inviter rewarded"),
        _("The inviter got their reward for a qualified referral (`referral_id`, `inviter_id`)."),
    ),
    REFERRAL_BLOCKED: (
        _("Invitation blocked"),
        _(
            "A referral was blocked by an abuse guard and earns nothing (`referral_id`, "
            "`inviter_id`, `invitee_id`, `reason`)."
        ),
    ),
    PROGRAMME_CHANGED: (
        _("Referral programme changed"),
        _("An operator changed, started or paused the referral programme (`status`)."),
    ),
}


def register() -> None:
    for name, (label, description) in EVENT_TYPES.items():
        register_event_type(name, label, description)


register()
