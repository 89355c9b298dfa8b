"""``siyu openapi [--check] [--output docs/openapi.json]``: the API's OpenAPI document.

Written with sorted keys, an indent of 2 and a trailing newline, so that the
checked-in file diffs cleanly. ``--check`` compares instead of writing and
exits 1 with a summary of what differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_OUTPUT = "docs/openapi.json"
MAX_LISTED = 20


def openapi_text() -> str:
    """The OpenAPI document of ``/api/v1/`` as the checked-in file holds it."""
    from siyu.config.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _operations(doc: dict[str, Any]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for path, item in (doc.get("paths") or {}).items():
        for method, op in item.items():
            ops[f"{method.upper()} {path}"] = op
    return ops


def diff_summary(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two OpenAPI documents, operation by operation and schema by schema."""
    lines: list[str] = []
    old_ops, new_ops = _operations(old), _operations(new)
    lines += [f"+ operation {k}" for k in sorted(new_ops.keys() - old_ops.keys())]
    lines += [f"- operation {k}" for k in sorted(old_ops.keys() - new_ops.keys())]
    lines += [
        f"~ operation {k}"
        for k in sorted(old_ops.keys() & new_ops.keys())
        if old_ops[k] != new_ops[k]
    ]
    old_schemas = (old.get("components") or {}).get("schemas") or {}
    new_schemas = (new.get("components") or {}).get("schemas") or {}
    lines += [f"+ schema {k}" for k in sorted(new_schemas.keys() - old_schemas.keys())]
    lines += [f"- schema {k}" for k in sorted(old_schemas.keys() - new_schemas.keys())]
    lines += [
        f"~ schema {k}"
        for k in sorted(old_schemas.keys() & new_schemas.keys())
        if old_schemas[k] != new_schemas[k]
    ]
    for key in sorted((old.keys() | new.keys()) - {"paths", "components"}):
        if old.get(key) != new.get(key):
            lines.append(f"~ {key}")
    old_rest = {k: v for k, v in (old.get("components") or {}).items() if k != "schemas"}
    new_rest = {k: v for k, v in (new.get("components") or {}).items() if k != "schemas"}
    if old_rest != new_rest:
        lines.append("~ components (other than schemas)")
    return lines


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ (or check that the checked-in one is current)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 with a summary of the differences when the file is not current",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["output"])
        text = openapi_text()
        if not opts["check"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            ops = len(_operations(json.loads(text)))
            self.stdout.write(f"wrote {path} ({ops} operations)")
            return
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise CommandError(f"{path} does not exist: run `siyu openapi`") from exc
        if current == text:
            self.stdout.write(f"{path} is up to date")
            return
        try:
            old = json.loads(current)
        except ValueError:
            old = {}
        lines = diff_summary(old, json.loads(text)) or ["~ formatting only"]
        shown = lines[:MAX_LISTED]
        if len(lines) > MAX_LISTED:
            shown.append(f"… and {len(lines) - MAX_LISTED} more")
        raise CommandError(
            f"{path} is out of date ({len(lines)} difference(s)); run `siyu openapi` "
            "and commit the file:\n  " + "\n  ".join(shown),
            returncode=1,
        )
