"""Bringing a merchant's history in from its old system: ``siyu import`` and its API.

The package, from the file inwards (see ``docs/import.md`` for the formats):

* :mod:`.formats` — kinds, columns (English and Chinese headers), encodings, the streaming
  CSV and JSON Lines readers (pure);
* :mod:`.parsing` and :mod:`.rows` — values (times, amounts in minor units, ids) and each
  kind's records, with every problem as (field, reason) (pure);
* :mod:`.customers` — external customer ids matched or created, set-based per batch;
* :mod:`.staged` — orders on PostgreSQL: the raw text COPYed in, converted and validated
  by the database, only the rows it cannot accept sent back to :mod:`.rows`;
* :mod:`.writers` — a batch staged (PostgreSQL COPY) and upserted into the fact tables
  (:func:`.writers.write_sales` is the one function that writes sales);
* :mod:`.report` — the validation report CSV;
* :mod:`.runner` — one import, batch by batch, with progress;
* :mod:`.service` — start, process and read imports (CLI, API, background task).
"""
