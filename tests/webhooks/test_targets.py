"""URL rules and the private-network guard (no database)."""

from __future__ import annotations

import ipaddress

import pytest
from django.utils import translation

from siyu.webhooks.targets import (
    BlockedTarget,
    Target,
    is_public_address,
    resolve_target,
    url_problem,
)


@pytest.mark.parametrize(
    ("url", "https_only", "fragment"),
    [
        ("", False, "required"),
        ("ftp://example.com/hook", False, "http"),
        ("javascript:alert(1)", False, "http"),
        ("example.com/hook", False, "http"),
        ("http://example.com/hook", True, "https"),
        ("https:///nohost", False, "host"),
        ("https://user:pw@example.com/hook", False, "password"),
        ("https://example.com/ho ok", False, "spaces"),
        ("https://example.com:99999/hook", False, "valid"),
        ("https://example.com/hook#x", False, "fragment"),
        ("https://example.com/" + "a" * 500, False, "500"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, https_only, fragment):
    with translation.override("en"):
        problem = url_problem(url, require_https=https_only)
    assert problem is not None
    assert fragment in problem.lower()


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/siyu", "http://127.0.0.1:8080/x?y=1", "https://[2001:db8::1]/"],
)
def test_good_urls_pass(url):
    assert url_problem(url, require_https=False) is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),  # multicast
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_addresses(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_private_targets_allowed_means_no_resolution():
    def must_not_resolve(host, port):
        raise AssertionError("resolved")

    target = resolve_target("http://localhost:9/x", allow_private=True, resolver=must_not_resolve)
    assert target == Target("http://localhost:9/x", "localhost", None)
    assert target.connect_url() == "http://localhost:9/x"


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://127.0.0.1:9000/x", None),
        ("http://[::1]/x", None),
        ("https://internal.example.com/x", ["10.0.0.7"]),
        ("https://metadata.example.com/x", ["169.254.169.254"]),
        ("https://mixed.example.com/x", ["93.184.216.34", "192.168.0.10"]),
    ],
)
def test_private_targets_are_blocked_with_the_address_named(url, answers):
    def resolver(host, port):
        assert answers is not None, "a literal address needs no lookup"
        return answers

    with translation.override("en"), pytest.raises(BlockedTarget) as caught:
        resolve_target(url, allow_private=False, resolver=resolver)
    assert "private" in str(caught.value)


def test_unresolvable_host_is_blocked():
    def resolver(host, port):
        raise OSError("Name or service not known")

    with translation.override("en"), pytest.raises(BlockedTarget, match="does not resolve"):
        resolve_target("https://nowhere.invalid/x", allow_private=False, resolver=resolver)


def test_public_target_is_pinned_to_the_checked_address():
    seen = []

    def resolver(host, port):
        seen.append((host, port))
        return ["93.184.216.34"]

    target = resolve_target(
        "https://hooks.example.com/siyu?x=1", allow_private=False, resolver=resolver
    )
    assert seen == [("hooks.example.com", 443)]
    assert target.connect_url() == "https://93.184.216.34/siyu?x=1"
    assert target.host_header() == "hooks.example.com"

    v6 = resolve_target(
        "http://hooks.example.com:8080/x",
        allow_private=False,
        resolver=lambda h, p: ["2606:4700::1"],
    )
    assert v6.connect_url() == "http://[2606:4700::1]:8080/x"
    assert v6.host_header() == "hooks.example.com:8080"


def test_the_shared_tls_context_verifies_certificates_and_host_names():
    import ssl

    from siyu.webhooks.delivery import tls_context

    context = tls_context()
    assert context is tls_context()  # built once per process
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
