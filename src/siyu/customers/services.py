"""State changes of customers: login codes, customer accounts, delivery addresses.

The contract other apps call (docs/shop.md), split by meaning:

* :mod:`.services_login` — a one-time code by SMS (rate-limited per phone and
  address), logging in with it (the first login creates the customer), pruning
  old codes.
* :mod:`.services_accounts` — phone numbers as people type them, the customer as
  the audit log's actor, finding or creating a customer, staff changes of name
  and status (block, unblock), the customer's own name.
* :mod:`.services_addresses` — the customer's delivery addresses and which one
  is the default.

Customers act on their own account and addresses (the audit log names them
as ``customer …``); staff act through an :class:`Actor` with
``Perm.CUSTOMERS_MANAGE``. Every function validates first, then locks, then
changes, writing the audit entry and the domain event in the same transaction.
"""

from __future__ import annotations

from siyu.customers.services_accounts import (
    CUSTOMER_AUDIT_FIELDS,
    CUSTOMER_ROLE,
    block_customer,
    customer_actor,
    get_or_create_customer,
    normalise_phone,
    unblock_customer,
    update_customer,
    update_profile,
)
from siyu.customers.services_addresses import (
    ADDRESS_AUDIT_FIELDS,
    ADDRESS_FIELDS,
    MAX_ADDRESSES,
    add_address,
    delete_address,
    set_default_address,
    update_address,
)
from siyu.customers.services_login import (
    HOUR,
    PRUNE_AFTER,
    SELF_SERVICE_CHANNEL,
    CustomerBlocked,
    SmsUnavailable,
    Throttled,
    prune_login_codes,
    request_login_code,
    seconds_until_next_code,
    verify_login_code,
)

__all__ = [
    "ADDRESS_AUDIT_FIELDS",
    "ADDRESS_FIELDS",
    "CUSTOMER_AUDIT_FIELDS",
    "CUSTOMER_ROLE",
    "HOUR",
    "MAX_ADDRESSES",
    "PRUNE_AFTER",
    "SELF_SERVICE_CHANNEL",
    "CustomerBlocked",
    "SmsUnavailable",
    "Throttled",
    "add_address",
    "block_customer",
    "customer_actor",
    "delete_address",
    "get_or_create_customer",
    "normalise_phone",
    "prune_login_codes",
    "request_login_code",
    "seconds_until_next_code",
    "set_default_address",
    "unblock_customer",
    "update_address",
    "update_customer",
    "update_profile",
    "verify_login_code",
]
