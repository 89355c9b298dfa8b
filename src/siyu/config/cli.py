"""The ``siyu`` command.

``siyu demo | serve | worker | migrate | createmerchant | check | openapi`` and any other
Django management command (``siyu shell``, ``siyu makemigrations``...).
``--data DIR`` (anywhere on the line) chooses where the SQLite database and
uploaded media live; it is the same as ``SIYU_DATA_DIR=DIR``.
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: siyu [--data DIR] COMMAND [options]

commands:
  demo             create a demo merchant (SQLite in DIR) and serve it on 127.0.0.1:8000
  serve            serve the web application (granian, WSGI)
  worker           run background tasks and periodic jobs (django.tasks, database backend)
  migrate          create or update the database tables
  createmerchant   create a merchant and its owner
  check            check configuration, database, migrations and static files
  openapi          write the API's OpenAPI document (--check: fail if the file is stale)
  import           bring history in: customers, orders, memberships, referrals (docs/import.md)
  report           the analytics numbers of a period on the terminal (--json)
  analytics        rebuild the fact tables; lifetime value now; backtest it on a past date
  <other>          any Django management command, e.g. `siyu shell`

Settings come from SIYU_* environment variables; see docs/operations.md.
"""


def _pop_data_dir(argv: list[str]) -> list[str]:
    """Remove ``--data DIR`` / ``--data=DIR`` from argv and export it as SIYU_DATA_DIR."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--data":
            if i + 1 >= len(argv):
                sys.exit("siyu: --data needs a directory")
            os.environ["SIYU_DATA_DIR"] = os.path.abspath(argv[i + 1])
            i += 2
            continue
        if arg.startswith("--data="):
            os.environ["SIYU_DATA_DIR"] = os.path.abspath(arg.split("=", 1)[1])
            i += 1
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> None:
    args = _pop_data_dir(list(sys.argv[1:] if argv is None else argv))
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.config.settings")
    from django.core.management import execute_from_command_line

    command = args[0]
    if command == "check":
        args = ["siyucheck", *args[1:]]
    execute_from_command_line(["siyu", *args])


if __name__ == "__main__":
    main()
