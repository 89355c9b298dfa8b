"""Test helpers of imports: write a file of rows, run an import, read the facts back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from siyu.analytics.importer.report import Report
from siyu.analytics.importer.runner import Options, Outcome, run_stream
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def run_bytes(
    merchant: Merchant,
    kind: str,
    content: bytes,
    *,
    name: str = "file.csv",
    report_path: Path | None = None,
    **options: Any,
) -> Outcome:
    """Import ``content`` as ``kind`` for ``merchant`` (bound for the duration)."""
    with merchant_context(merchant), Report(report_path) as report:
        return run_stream(
            io.BytesIO(content),
            file_name=name,
            merchant=merchant,
            options=Options(kind=kind, **options),
            report=report,
        )
