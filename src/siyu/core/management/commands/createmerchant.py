"""``siyu createmerchant SLUG NAME --owner USERNAME``: a new tenant and its owner."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from siyu.core import services
from siyu.core.errors import DomainError
from siyu.core.models import User


class Command(BaseCommand):
    help = "Create a merchant (a brand) and make a staff user its owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="short name used in addresses, e.g. lucky-coffee")
        parser.add_argument("name", help="brand name shown to staff and customers")
        parser.add_argument(
            "--owner", required=True, help="username of the owner (created if missing)"
        )
        parser.add_argument("--email", default="", help="owner's e-mail when the user is created")
        parser.add_argument(
            "--password", default=None, help="owner's password when created (asked if omitted)"
        )
        parser.add_argument("--currency", default="CNY")
        parser.add_argument("--time-zone", default="Asia/Shanghai")

    def handle(self, *args: Any, **opts: Any) -> None:
        username = opts["owner"]
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            created_user = user is None
            if user is None:
                password = opts["password"] or self._ask_password()
                user = User.objects.create_user(
                    username=username, email=opts["email"], password=password
                )
            try:
                merchant = services.create_merchant(
                    slug=opts["slug"],
                    name=opts["name"],
                    owner=user,
                    currency=opts["currency"],
                    time_zone=opts["time_zone"],
                )
            except DomainError as exc:
                details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Merchant {merchant.slug} created; owner {user.username}"
                + (" (new user)" if created_user else " (existing user)")
            )
        )

    def _ask_password(self) -> str:
        for _ in range(3):
            first = getpass.getpass("Owner password: ")
            if len(first) < 8:
                self.stderr.write("At least 8 characters.")
                continue
            if getpass.getpass("Again: ") == first:
                return first
            self.stderr.write("The passwords differ.")
        raise CommandError("no password given")
