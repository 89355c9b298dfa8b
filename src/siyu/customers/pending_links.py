"""Links tapped before login: kept in the session per merchant, replayed after the login.

Storefront links that act on the customer (``?via=`` attribution, ``?d=`` distributor
share links) may be opened by a visitor who is not logged in yet. :func:`remember` keeps
the link's value and the time of the tap in the session under the caller's key, one per
merchant (the last tap wins); :func:`take` hands it back once — and forgets it — on the
first request after the login.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest

from siyu.core import clock


def remember(request: HttpRequest, session_key: str, merchant_id: int, value: str) -> None:
    pending = request.session.get(session_key)
    pending = dict(pending) if isinstance(pending, dict) else {}
    pending[str(merchant_id)] = [value, clock.now().isoformat()]
    request.session[session_key] = pending


def take(request: HttpRequest, session_key: str, merchant_id: int) -> tuple[str, datetime] | None:
    """The value waiting for ``merchant_id`` and when it was tapped (None: nothing waits)."""
    key = str(merchant_id)
    pending = request.session.get(session_key)
    if not isinstance(pending, dict) or key not in pending:
        return None
    waiting = dict(pending)
    entry = waiting.pop(key)
    request.session[session_key] = waiting
    if not isinstance(entry, list) or len(entry) != 2:
        return None
    try:
        tapped_at = datetime.fromisoformat(str(entry[1]))
    except ValueError:
        tapped_at = clock.now()
    return str(entry[0]), tapped_at
