"""Extract and compile the zh-Hans translations of every app (``./dev i18n``).

For each installed app under ``src/siyu`` that has templates or Python strings, runs
``makemessages -l zh_Hans`` in the app's directory (so each app keeps its own
``locale/zh_Hans/LC_MESSAGES/django.po``), then ``compilemessages``. Needs GNU
gettext (xgettext, msgmerge, msgfmt); where msgfmt is missing the catalogues
are compiled with polib instead. Translate the new or fuzzy entries the run
reports, then run it again; tests/test_translations.py checks the result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "siyu"
LOCALE = "zh_Hans"
SKIP_DIRS = {"migrations", "static", "locale", "__pycache__"}


def app_dirs() -> list[Path]:
    """Installed Siyu apps with templates or Python modules besides migrations and ``__init__``.

    Only installed apps: Django looks for their ``locale`` directories (``siyu.config``
    is not one; the language names in its settings come with Django's own catalogue).
    """
    from django.apps import apps

    found = []
    installed = sorted(
        Path(config.path).resolve()
        for config in apps.get_app_configs()
        if config.name.startswith("siyu.")
    )
    for app in installed:
        has_templates = (app / "templates").is_dir()
        has_python = any(
            path.name != "__init__.py"
            for path in app.rglob("*.py")
            if not SKIP_DIRS.intersection(path.relative_to(app).parts)
        )
        if has_templates or has_python:
            found.append(app)
    return found


def in_app_dir(app: Path, command: str, **options: object) -> None:
    """Run a Django command with the app's directory as the working directory.

    In this process rather than a child: a child started in the app directory
    would put it on ``sys.path``, where the app's ``selectors.py`` hides the
    standard library's ``selectors``.
    """
    from django.core.management import call_command

    before = Path.cwd()
    os.chdir(app)
    try:
        call_command(command, **options)
    finally:
        os.chdir(before)


def report(po_path: Path) -> tuple[int, int]:
    po = polib.pofile(str(po_path))
    live = [e for e in po if not e.obsolete]
    untranslated = sum(1 for e in live if not e.translated() and "fuzzy" not in e.flags)
    fuzzy = sum(1 for e in live if "fuzzy" in e.flags)
    return untranslated, fuzzy


def compile_with_polib(po_path: Path) -> None:
    polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compile-only", action="store_true", help="skip makemessages")
    parser.add_argument(
        "--app", action="append", default=[], help="only this app (e.g. customers); repeatable"
    )
    opts = parser.parse_args(argv)
    if not opts.compile_only and shutil.which("xgettext") is None:
        print(
            "i18n: GNU gettext is needed to extract strings (xgettext was not found): "
            "`sudo apt-get install gettext` or `brew install gettext`; "
            "use --compile-only to compile the existing catalogues",
            file=sys.stderr,
        )
        return 1
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.config.settings")
    import django

    django.setup()
    apps = [app for app in app_dirs() if not opts.app or app.name in opts.app]
    todo = 0
    for app in apps:
        (app / "locale").mkdir(exist_ok=True)
        if not opts.compile_only:
            in_app_dir(app, "makemessages", locale=[LOCALE], no_obsolete=True, verbosity=0)
        po_path = app / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
        if not po_path.exists():
            continue  # an app without translatable strings
        if shutil.which("msgfmt") is not None:
            in_app_dir(app, "compilemessages", locale=[LOCALE], verbosity=0)
        else:
            compile_with_polib(po_path)
        untranslated, fuzzy = report(po_path)
        todo += untranslated + fuzzy
        state = (
            "complete"
            if untranslated + fuzzy == 0
            else (f"{untranslated} untranslated, {fuzzy} fuzzy")
        )
        print(f"i18n: {po_path.relative_to(ROOT)}: {state}")
    if todo:
        print(f"i18n: {todo} message(s) to translate; edit the .po files and run ./dev i18n again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
