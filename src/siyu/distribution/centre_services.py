"""State changes a distributor makes from the storefront centre.

:func:`request_withdrawal_once` is the withdrawal request with a client key: the
distributor row is locked first (``FOR UPDATE``, the lock ``request_withdrawal`` takes
too), then the key is looked up, so a retried request — a double tap, a resent form, a
client retrying after a timeout — answers the withdrawal its first request made and never
holds the amount twice.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput, NotFound
from siyu.core.money import format_amount
from siyu.core.tenancy import current_merchant
from siyu.distribution import selectors, services
from siyu.distribution.models import Distributor, Withdrawal, WithdrawalKey

MAX_KEY = 64


def _check_amount(distributor: Distributor, amount: int) -> None:
    """The amount between the minimum and what is available, said in yuan (the customer's
    words; ``request_withdrawal`` checks the same again under the same lock)."""
    currency = current_merchant().currency
    minimum = selectors.settings_of().minimum_withdrawal
    available = max(selectors.balances(distributor).available, 0)
    if amount < minimum:
        problem = _("At least %(amount)s.") % {"amount": format_amount(minimum, currency)}
    elif amount > available:
        problem = _("At most %(amount)s (settled and not yet withdrawn).") % {
            "amount": format_amount(available, currency)
        }
    else:
        return
    raise InvalidInput(_("The withdrawal was not requested."), fields={"amount": problem})


@transaction.atomic
def request_withdrawal_once(
    distributor_id: int, amount: object, client_key: str = ""
) -> Withdrawal:
    """Request ``amount`` fen of settled commission, once per ``client_key`` (when given).

    Bad amounts are a 422 on ``amount`` (below the minimum, above what is available, not a
    whole number of fen); a key reused for another amount is a 422 on ``client_key``."""
    key = client_key.strip() if isinstance(client_key, str) else ""
    if len(key) > MAX_KEY:
        raise InvalidInput(
            _("The withdrawal was not requested."),
            fields={"client_key": _("At most 64 characters.")},
        )
    distributor = Distributor.objects.select_for_update().filter(pk=distributor_id).first()
    if distributor is None:
        raise NotFound(_("Not found."))
    if key:
        earlier = (
            WithdrawalKey.objects.select_related("withdrawal")
            .filter(distributor=distributor, client_key=key)
            .first()
        )
        if earlier is not None:
            if earlier.withdrawal.amount != amount:
                raise InvalidInput(
                    _("The withdrawal was not requested."),
                    fields={"client_key": _("This key was used for another amount.")},
                )
            return earlier.withdrawal
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidInput(
            _("The withdrawal was not requested."),
            fields={"amount": _("A whole number of fen.")},
        )
    if distributor.status == Distributor.Status.APPROVED:
        _check_amount(distributor, amount)
    made = services.request_withdrawal(distributor.pk, amount)
    if key:
        WithdrawalKey.objects.create(
            merchant=current_merchant(), distributor=distributor, client_key=key, withdrawal=made
        )
    return made
