"""The verification example integrators copy from docs/webhooks.md really works."""

from __future__ import annotations

import re
import time
from pathlib import Path

from siyu.webhooks import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def example_verifier():
    source = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(source, str(DOC), "exec"), namespace)  # noqa: S102  (our own documentation)
    return namespace["verify_siyu_signature"]


def test_the_documented_verifier_agrees_with_siyu():
    verify = example_verifier()
    body = '{"id":1,"type":"webhooks.ping","data":{"note":"测试"}}'.encode()
    now = int(time.time())
    header = signing.sign(body, ["whsec_new", "whsec_old"], now)
    assert verify(header, body, "whsec_new")
    assert verify(header, body, "whsec_old")
    assert not verify(header, body, "whsec_other")
    assert not verify(header, body + b" ", "whsec_new")
    assert not verify(signing.sign(body, "whsec_new", now - 301), body, "whsec_new")
    assert not verify("nonsense", body, "whsec_new")
