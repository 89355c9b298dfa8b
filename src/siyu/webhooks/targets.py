"""Where a webhook may be sent: URL rules and the private-network (SSRF) guard.

No database access. :func:`url_problem` checks the shape of a URL;
:func:`resolve_target` resolves its host once and, when private targets are
not allowed, refuses any address that is not globally routable (loopback,
private, link-local such as cloud metadata at 169.254.169.254, carrier-grade
NAT, multicast, reserved). The sender then connects to the address checked
here — not to a second DNS answer — so a host cannot pass the check with a
public address and be reached on a private one (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.utils.translation import gettext as _

MAX_URL_LENGTH = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class BlockedTarget(ValueError):
    """The URL points at an address Siyu refuses to call."""


def url_problem(url: str, *, require_https: bool) -> str | None:
    """Why ``url`` cannot be a webhook target, or None when its shape is fine."""
    if not url:
        return _("This field is required.")
    if len(url) > MAX_URL_LENGTH:
        return _("At most %(n)d characters.") % {"n": MAX_URL_LENGTH}
    if any(c.isspace() for c in url):
        return _("A URL cannot contain spaces.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a valid URL.")
    if parts.scheme not in ("http", "https"):
        return _("Only http:// and https:// URLs can receive webhooks.")
    if require_https and parts.scheme != "https":
        return _("Use an https:// URL: webhooks carry business data.")
    if not parts.hostname:
        return _("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        return _("Put no user name or password in the URL; verify the signature instead.")
    if port == 0:
        return _("This is not a valid URL.")
    if parts.fragment:
        return _("A webhook URL cannot have a #fragment.")
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Target:
    """A URL with the address to connect to (None: let the HTTP client resolve it)."""

    url: str
    host: str
    address: str | None

    def connect_url(self) -> str:
        """The URL with the host replaced by the checked address (Host header keeps the name)."""
        if self.address is None:
            return self.url
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return SplitResult(parts.scheme, netloc, parts.path, parts.query, "").geturl()

    def host_header(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        return host if parts.port is None else f"{host}:{parts.port}"


def resolve_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> Target:
    """Check ``url``'s host; raise :class:`BlockedTarget` with a reason when refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if allow_private:
        return Target(url=url, host=host, address=None)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError) as exc:
            raise BlockedTarget(
                _("The host name %(host)s does not resolve.") % {"host": host}
            ) from exc
        if not addresses:
            raise BlockedTarget(_("The host name %(host)s does not resolve.") % {"host": host})
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not is_public_address(ip):
            raise BlockedTarget(
                _(
                    "%(host)s resolves to %(address)s, a private, loopback or link-local "
                    "address: webhooks may only go to public addresses."
                )
                % {"host": host, "address": address}
            )
    return Target(url=url, host=host, address=addresses[0].split("%", 1)[0])
