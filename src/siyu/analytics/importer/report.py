"""The validation report: every rejected row as (row, field, reason), streamed to a CSV file.

The file is UTF-8 with a byte-order mark, so Excel opens the Chinese reasons correctly. The
first :data:`KEPT` lines are also kept in memory for the ``ImportRun`` (the console and the
API show them); the CSV holds them all, however many there are.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

KEPT = 1000
HEADER = ("row", "field", "reason")


class Report:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.first: list[dict[str, Any]] = []
        self.lines = 0
        self._file = None
        self._writer: Any = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(HEADER)

    def add(self, row: int, column: str, reason: str) -> None:
        self.lines += 1
        if len(self.first) < KEPT:
            self.first.append({"row": row, "field": column, "reason": reason})
        if self._writer is not None:
            self._writer.writerow((row, column, reason))

    def unknown_columns(self, names: list[str]) -> None:
        for name in names:
            self.add(1, name, _("Unknown column: ignored."))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
