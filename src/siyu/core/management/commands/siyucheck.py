"""``siyu check``: Django's system checks plus the database, migrations and static files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Check configuration, database connection, pending migrations and front-end files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deploy", action="store_true", help="also run the production checks")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("check", deploy=opts["deploy"])
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            connection.ensure_connection()
        except Exception as exc:
            raise CommandError(
                f"database unreachable ({settings.DATABASES['default']['ENGINE']}): {exc}"
            ) from exc
        self.stdout.write(
            f"database: {connection.vendor} {connection.settings_dict.get('NAME')} — reachable"
        )
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise CommandError(f"{len(plan)} migration(s) not applied: run `siyu migrate`")
        self.stdout.write("migrations: all applied")
        self.stdout.write(
            f"environment: {settings.SIYU_ENV}; tasks backend: {settings.TASKS_BACKEND}; "
            f"redis: {'on' if settings.REDIS_URL else 'off'}"
        )
        self.stdout.write(self.style.SUCCESS("siyu check: OK"))
