"""``siyu demo``: build a believable demo merchant in SQLite and serve it.

The demo is a Shanghai coffee-and-bakery chain. Each app that has a
``siyu/<app>/demo.py`` (``STEPS`` and ``seed(ctx)``, and optionally ``finish(ctx)``, run once
every generator has seeded) adds its part, in the
dependency order of :data:`DEMO_APPS`, under one progress bar. A demo that
already exists in the data directory is served as it is (``--reset`` rebuilds
it). The logins are printed, and kept in ``demo-logins.json`` beside the
database so that a later start prints them again.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from siyu.core import services
from siyu.core.actors import Actor
from siyu.core.demo import DEMO_PASSWORD, DemoContext, Login
from siyu.core.models import Membership, Merchant, User
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context

DEMO_SLUG = "lucky-bean"
DEMO_NAME = "Lucky Bean Coffee · 幸运豆咖啡"
DEMO_LEGAL_NAME = "上海幸运豆餐饮管理有限公司"
DEMO_OWNER = "owner"
DEFAULT_SEED = 20260101
LOGINS_FILE = "demo-logins.json"

# Apps whose ``demo.py`` seeds the demo, in dependency order. An app that does
# not exist (yet) is skipped; a new capability adds its name here.
DEFAULT_CUSTOMERS = 20_000

# The orders generator writes the customers with their year of history (join time and
# channel from the behavioural model); community and guides come after it, so memberships
# and owners follow each customer's join channel and time.
DEMO_APPS = [
    "stores",
    "catalog",
    "webhooks",
    "inventory",
    "customers",
    "orders",
    "community",
    "guides",
    "marketing",
    "promotions",
    "loyalty",
    "referrals",
    "distribution",
    "groupbuy",
    "bargain",
    "live",
    "analytics",
]


def demo_modules() -> list[tuple[str, ModuleType]]:
    """``(app, module)`` for every installed app of :data:`DEMO_APPS` that has a demo.py."""
    found: list[tuple[str, ModuleType]] = []
    for app in DEMO_APPS:
        package = f"siyu.{app}"
        if not apps.is_installed(package):
            continue
        try:
            module = importlib.import_module(f"{package}.demo")
        except ModuleNotFoundError as exc:
            if exc.name in {package, f"{package}.demo"}:
                continue  # the app has no demo generator: nothing to seed
            raise  # a demo module that fails to import is a bug, not a missing app
        steps = getattr(module, "STEPS", None)
        if not hasattr(module, "seed") or not (isinstance(steps, int) or callable(steps)):
            raise CommandError(
                f"{package}.demo must define seed(ctx) and STEPS: an int or a function of the options"
            )
        found.append((app, module))
    return found


def owner_login() -> Login:
    return Login(Role.OWNER.value, DEMO_OWNER, DEMO_PASSWORD, "every permission")


def planned_steps(module: ModuleType, options: dict[str, Any]) -> int:
    """A generator's share of the progress bar (``STEPS`` may depend on ``--customers``)."""
    steps = module.STEPS
    return int(steps(options) if callable(steps) else steps)


def build_demo(
    *, seed: int, progress: bool = True, options: dict[str, Any] | None = None
) -> tuple[Merchant, list[Login], float]:
    """Create the demo merchant, its owner and every app's data in one transaction."""
    from tqdm import tqdm

    options = {"customers": DEFAULT_CUSTOMERS, **(options or {})}
    started = time.monotonic()
    modules = demo_modules()
    total = sum(planned_steps(module, options) for _, module in modules)
    with (
        _no_query_log(),
        transaction.atomic(),
        tqdm(
            total=total,
            desc="demo",
            unit="step",
            file=sys.stderr,
            disable=not progress or total == 0,
            dynamic_ncols=True,
        ) as bar,
    ):
        user = User.objects.filter(username=DEMO_OWNER).first()
        if user is None:
            user = User.objects.create_user(
                username=DEMO_OWNER,
                password=DEMO_PASSWORD,
                display_name="陈晓",
                email="owner@lucky-bean.example",
            )
        merchant = services.create_merchant(
            slug=DEMO_SLUG,
            name=DEMO_NAME,
            owner=user,
            currency="CNY",
            time_zone="Asia/Shanghai",
            legal_name=DEMO_LEGAL_NAME,
        )
        membership = Membership.objects.select_related("merchant", "user").get(
            user=user, merchant=merchant
        )
        ctx = DemoContext(
            merchant=merchant,
            owner=Actor.for_membership(membership),
            rng=random.Random(seed),
            advance=lambda n: bar.update(n) and None,
            options=options,
        )
        ctx.logins.append(owner_login())
        planned = 0
        with merchant_context(merchant):
            for app, module in modules:
                bar.set_description(f"demo: {app}")
                module.seed(ctx)
                planned += planned_steps(module, options)
                if bar.n < planned:  # a generator that reported less still ends its share
                    bar.update(planned - bar.n)
            # what must see every generator's data (statistics kept from the orders)
            for app, module in modules:
                finish = getattr(module, "finish", None)
                if finish is not None:
                    bar.set_description(f"demo: {app} (finishing)")
                    finish(ctx)
        bar.set_description("demo")
    return merchant, ctx.logins, time.monotonic() - started


@contextlib.contextmanager
def _no_query_log() -> Iterator[None]:
    """No debug query log while the demo is built.

    With ``DEBUG`` on (development) Django logs every query with its values spelled out,
    which for the demo's bulk statements of thousands of values cost about 1.5 s of the
    build's CPU; nothing reads that log during the build. Settings are restored after."""
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        yield
    finally:
        settings.DEBUG = debug


def save_logins(path: Path, logins: list[Login]) -> None:
    rows = [
        {"role": x.role, "username": x.username, "password": x.password, "note": x.note}
        for x in logins
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_logins(path: Path, merchant: Merchant) -> list[Login]:
    """The logins printed when the demo was built; else its staff with the demo password."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):  # missing or damaged
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Login(r["role"], r["username"], r["password"], r.get("note", "")) for r in rows]
    memberships = (
        Membership.objects.select_related("user")
        .filter(merchant=merchant, is_active=True)
        .order_by("pk")
    )
    return [Login(m.role, m.user.username, DEMO_PASSWORD) for m in memberships]


def login_table(logins: list[Login]) -> list[str]:
    headers = ("role", "username", "password", "note")
    rows = [(x.role, x.username, x.password, x.note) for x in logins]
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return [line(headers), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def _width(text: str) -> int:
    """Terminal columns of ``text``: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Command(BaseCommand):
    # The system checks run after --reset: a broken demo database is what --reset is for.
    requires_system_checks: list[str] = []
    help = (
        "Build a demo merchant (a Shanghai coffee-and-bakery chain) in the data directory "
        "and serve it on http://127.0.0.1:8000 with a background worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--reset", action="store_true", help="wipe the demo database and media, then rebuild"
        )
        parser.add_argument("--no-serve", action="store_true", help="build the demo and exit")
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed of the generated data (default {DEFAULT_SEED}: reproducible)",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMERS,
            help=f"customers to generate, with their year of orders (default {DEFAULT_CUSTOMERS})",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "siyu demo prints passwords: it does not run with SIYU_ENV=production"
            )
        data_dir = Path(settings.DATA_DIR)
        if opts["reset"]:
            self._reset(data_dir)
        self.check()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Siyu demo — data in {data_dir}")
        started = time.monotonic()
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(f"database ready ({time.monotonic() - started:.1f} s)")
        logins_path = data_dir / LOGINS_FILE
        merchant = Merchant.objects.filter(slug=DEMO_SLUG).first()
        if merchant is None:
            if opts["customers"] < 0:
                raise CommandError("--customers must be 0 or more")
            merchant, logins, seconds = build_demo(
                seed=opts["seed"],
                progress=not opts["no_progress"],
                options={"customers": opts["customers"]},
            )
            save_logins(logins_path, logins)
            self.stdout.write(
                self.style.SUCCESS(f"demo built in {seconds:.1f} s (seed {opts['seed']})")
            )
        else:
            logins = load_logins(logins_path, merchant)
            self.stdout.write("the demo merchant exists: serving it as it is (--reset rebuilds)")
        self._print_block(
            merchant, logins, opts["host"], opts["port"], serving=not opts["no_serve"]
        )
        if opts["no_serve"]:
            return
        connection.close()  # the server and worker open their own connections
        from siyu.core.management.commands.serve import serve

        serve(opts["host"], opts["port"], with_worker=True)

    def _reset(self, data_dir: Path) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "--reset wipes the embedded SQLite database only; SIYU_DATABASE_URL points "
                "elsewhere: drop and recreate that database yourself"
            )
        connection.close()
        name = Path(str(db["NAME"]))
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm"), data_dir / LOGINS_FILE):
            path.unlink(missing_ok=True)
        media = Path(settings.MEDIA_ROOT)
        if media.exists():
            shutil.rmtree(media)
        self.stdout.write(f"reset: removed the demo database and media in {data_dir}")

    def _print_block(
        self, merchant: Merchant, logins: list[Login], host: str, port: int, *, serving: bool
    ) -> None:
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        base = f"http://{shown}:{port}"
        out = [
            "",
            "=" * 72,
            f"  {merchant.name}  (merchant slug: {merchant.slug})",
            "",
            f"  console   {base}/console/",
            f"  API docs  {base}/api/v1/docs",
            "",
            *(f"  {row}" for row in login_table(logins)),
            "",
            "  (a local demo: these passwords are printed on purpose)",
        ]
        if serving:
            out.append("  serving with a background worker; press Ctrl-C to stop")
        else:
            out.append(f"  start it with: siyu --data {settings.DATA_DIR} demo")
        out.append("=" * 72)
        self.stdout.write("\n".join(out))
