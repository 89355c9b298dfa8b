"""The tooling around the product: `siyu demo`, `siyu serve`, `siyu openapi`, `./dev`, the locks."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import types
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from packaging.requirements import Requirement

from siyu.core.demo import DEMO_PASSWORD
from siyu.core.management.commands import demo as demo_command
from siyu.core.management.commands.openapi import diff_summary
from siyu.core.models import Membership, Merchant, User
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.services import normalise_phone

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_DEADLINE = 90.0  # seconds; only a guard against hanging, not a measurement


def _child_env(data_dir: Path) -> dict[str, str]:
    """The environment of a `siyu` child process: development settings, SQLite in data_dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SIYU_"))}
    env.update(SIYU_ENV="development", SIYU_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    if os.environ.get("SIYU_REDIS_URL"):
        env["SIYU_REDIS_URL"] = os.environ["SIYU_REDIS_URL"]
    return env


def _siyu(*args: str) -> list[str]:
    return [sys.executable, "-m", "siyu.config.cli", *args]


# --- siyu demo -------------------------------------------------------------------------


@pytest.fixture
def demo_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "demo"
    settings.MEDIA_ROOT = tmp_path / "demo" / "media"
    return settings.DATA_DIR


def _run_demo(**options) -> str:
    out = io.StringIO()
    options.setdefault("customers", 60)  # the history generator scales with it; keep tests quick
    call_command("demo", no_serve=True, no_progress=True, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_builds_the_merchant_and_its_logins_once_and_prints_them_every_time(demo_dir):
    output = _run_demo()

    merchant = Merchant.objects.get(slug=demo_command.DEMO_SLUG)
    assert merchant.name == demo_command.DEMO_NAME
    assert merchant.time_zone == "Asia/Shanghai"
    owner = User.objects.get(username="owner")
    assert owner.check_password(DEMO_PASSWORD)
    assert Membership.objects.get(user=owner, merchant=merchant).role == Role.OWNER

    logins = json.loads((demo_dir / demo_command.LOGINS_FILE).read_text(encoding="utf-8"))
    assert logins[0] == {
        "role": "owner",
        "username": "owner",
        "password": DEMO_PASSWORD,
        "note": "every permission",
    }
    assert "/console/" in output
    assert "/api/v1/docs" in output
    staff_logins = [login for login in logins if login["role"] != "customer"]
    for login in logins:
        assert re.search(rf"\b{re.escape(login['username'])}\b", output)
    for login in staff_logins:
        # every printed staff login is real: the user exists, works here and has that password
        user = User.objects.get(username=login["username"])
        assert user.check_password(login["password"]), login
        assert Membership.objects.filter(user=user, merchant=merchant, is_active=True).exists()
    for login in logins:
        if login["role"] == "customer":
            # a storefront login: the customer exists (phone + a code from the SMS outbox)
            phone = normalise_phone(login["username"])
            with merchant_context(merchant):
                assert Customer.objects.filter(phone=phone).exists(), login

    # a second start serves what is there: another seed would build other data, so it must
    # not build at all, and it prints the same logins
    users = User.objects.count()
    second = _run_demo(seed=7)
    assert "exists" in second
    assert "demo built" not in second
    assert User.objects.count() == users
    assert Merchant.objects.filter(slug=demo_command.DEMO_SLUG).count() == 1
    table = [line for line in output.splitlines() if DEMO_PASSWORD in line]
    assert len(table) == len(staff_logins)
    assert table == [line for line in second.splitlines() if DEMO_PASSWORD in line]


def test_the_demo_seeds_every_app_that_has_a_generator_in_dependency_order():
    found = [app for app, _ in demo_command.demo_modules()]
    assert found == [app for app in demo_command.DEMO_APPS if app in found]
    for _, module in demo_command.demo_modules():
        assert demo_command.planned_steps(module, {"customers": 100}) > 0
        assert callable(module.seed)


def test_demo_login_table_aligns_chinese_text():
    rows = demo_command.login_table(
        [
            demo_command.Login("店长", "sm1", "pw-1", "静安寺店"),
            demo_command.Login("shopping_guide", "guide", "pw-2", "every permission"),
        ]
    )
    assert len(rows) == 4  # header, rule, two logins
    # the usernames and passwords start at the same terminal column on every line, where a
    # Chinese character takes two columns
    for header, cells in (("username", ("sm1", "guide")), ("password", ("pw-1", "pw-2"))):
        column = demo_command._width(rows[0].split(header)[0])
        for row, cell in zip(rows[2:], cells, strict=True):
            start = re.search(rf"\b{re.escape(cell)}\b", row)
            assert start is not None
            assert demo_command._width(row[: start.start()]) == column, rows
    assert all(row == row.rstrip() for row in rows)


def test_demo_reset_wipes_the_data_directory_and_builds_afresh_from_the_command_line(tmp_path):
    data = tmp_path / "siyu-data"
    (data / "media").mkdir(parents=True)
    (data / "media" / "left-over.txt").write_text("from an earlier demo")
    (data / "siyu.sqlite3").write_bytes(b"not a database: --reset must remove it")
    (data / demo_command.LOGINS_FILE).write_text("[]")

    done = subprocess.run(
        _siyu(
            "--data",
            str(data),
            "demo",
            "--reset",
            "--no-serve",
            "--no-progress",
            "--customers",
            "60",
        ),
        env=_child_env(data),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reset:" in done.stdout
    assert "demo built" in done.stdout
    assert not (data / "media" / "left-over.txt").exists()
    assert (data / "siyu.sqlite3").read_bytes().startswith(b"SQLite format 3")
    logins = json.loads((data / demo_command.LOGINS_FILE).read_text(encoding="utf-8"))
    assert logins[0]["username"] == "owner"
    assert f"siyu --data {data} demo" in done.stdout


# --- siyu serve --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"siyu serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"siyu serve did not listen on {port} in time:\n{log.read_text()}")


def test_serve_answers_the_health_check_and_the_login_page(tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _siyu("--data", str(tmp_path / "data"), "serve", "--port", str(port)),
            env=_child_env(tmp_path / "data"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # granian's workers share the group: stop them together
        )
    try:
        _wait_for_port(proc, port, log)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            health = client.get("/healthz")
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok"
            login = client.get("/console/login/")
            assert login.status_code == 200
            assert 'name="password"' in login.text
            assert "csrfmiddlewaretoken" in login.text
            assert client.get("/").headers["location"].startswith("/console/")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)


# --- siyu openapi --------------------------------------------------------------------------


def test_openapi_writes_a_sorted_document_and_check_reports_what_differs(
    tmp_path, openapi_generated_once
):
    path = tmp_path / "openapi.json"
    call_command("openapi", output=str(path), stdout=io.StringIO())
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert "/api/v1/merchant" in document["paths"]

    out = io.StringIO()
    call_command("openapi", output=str(path), check=True, stdout=out)
    assert "up to date" in out.getvalue()

    del document["paths"]["/api/v1/merchant"]
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError) as failure:
        call_command("openapi", output=str(path), check=True, stdout=io.StringIO())
    assert failure.value.returncode == 1
    assert "+ operation GET /api/v1/merchant" in str(failure.value)


def test_openapi_diff_summary_names_operations_and_schemas():
    old = {
        "info": {"version": "1"},
        "paths": {"/a": {"get": {"summary": "A"}}, "/b": {"post": {}}},
        "components": {"schemas": {"X": {"type": "object"}, "Y": {}}},
    }
    new = {
        "info": {"version": "2"},
        "paths": {"/a": {"get": {"summary": "A!"}}, "/c": {"get": {}}},
        "components": {"schemas": {"X": {"type": "string"}, "Z": {}}},
    }
    assert diff_summary(old, new) == [
        "+ operation GET /c",
        "- operation POST /b",
        "~ operation GET /a",
        "+ schema Z",
        "- schema Y",
        "~ schema X",
        "~ info",
    ]
    assert diff_summary(new, new) == []


# --- ./dev, lock files, CI ------------------------------------------------------------------


def _load_dev() -> types.ModuleType:
    loader = importlib.machinery.SourceFileLoader("siyu_dev_script", str(ROOT / "dev"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_dev_script_is_valid_python_3_8_and_executable():
    source = (ROOT / "dev").read_text(encoding="utf-8")
    assert source.startswith("#!/usr/bin/env python3\n")
    ast.parse(source, feature_version=(3, 8))  # it must run before a Python 3.12 is found
    assert os.access(ROOT / "dev", os.X_OK)


def test_dev_finds_a_python_new_enough_for_the_project():
    dev = _load_dev()
    executable, version = dev.find_python()
    assert version >= (3, 12)
    assert dev.python_version(executable) == version
    assert dev.python_version(str(ROOT / "no-such-python")) is None


def test_dev_counts_a_pytest_run_and_reports_its_exit_code(tmp_path, capsys):
    dev = _load_dev()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_bad(): assert False\n"
        "@pytest.mark.skip(reason='x')\n"
        "def test_skipped(): pass\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a plain pytest: quicker to start
    args = [str(tmp_path), "-p", "no:cacheprovider"]
    code, counts, _ = dev.run_pytest("sample", args, env)
    assert code == 1
    assert counts == {"passed": 1, "failed": 1, "skipped": 1}
    code, counts, _ = dev.run_pytest("sample, quiet", [*args, "-q"], env)
    assert (code, counts) == (1, {"passed": 1, "failed": 1, "skipped": 1})

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "pytest.ini").write_text("[pytest]\n")
    code, counts, _ = dev.run_pytest("nothing", [str(empty), *args[1:]], env)
    assert code == 5  # no tests collected: ./dev test counts it as a failure
    assert counts == {}
    capsys.readouterr()


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", block)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{path.name}: {match.group(1)} has no hash"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_lock_files_pin_every_dependency_within_pyproject_ranges_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = _pins(ROOT / "requirements" / "base.txt")
    dev = _pins(ROOT / "requirements" / "dev.txt")
    assert base
    assert all(dev.get(name) == version for name, version in base.items()), (
        "requirements/base.txt and dev.txt disagree: run ./dev lock"
    )
    for lock, specs in (
        (base, project["dependencies"]),
        (dev, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for spec in specs:
            requirement = Requirement(spec)
            name = requirement.name.lower().replace("_", "-")
            assert name in lock, f"{name} is not locked: run ./dev lock"
            assert requirement.specifier.contains(lock[name], prereleases=True), (
                f"{name}=={lock[name]} is outside {requirement.specifier}: run ./dev lock"
            )
    assert "index-url" not in (ROOT / "requirements" / "dev.txt").read_text()


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "./dev demo" in first_block
    assert "./dev test" in first_block
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci
    assert "./dev test" in ci
    assert "./dev lint" in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_every_setting_read_from_the_environment_is_documented():
    read = set()
    for path in (ROOT / "src").rglob("*.py"):
        read |= set(re.findall(r"""["'](SIYU_[A-Z0-9_]+)["']""", path.read_text(encoding="utf-8")))
    read |= set(re.findall(r"""["'](SIYU_[A-Z0-9_]+)["']""", (ROOT / "dev").read_text()))
    documented = set(
        re.findall(r"^\| `(SIYU_[A-Z0-9_]+)`", (ROOT / "docs" / "operations.md").read_text(), re.M)
    )
    assert read, "no SIYU_* variable found in the sources"
    assert not read - documented, f"add to docs/operations.md: {sorted(read - documented)}"
