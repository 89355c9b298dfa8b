"""Settings come from SIYU_* variables; production refuses unsafe ones."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from siyu.config.env import env_bool, env_int, env_list

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("SIYU_") and k != "PYTEST_VERSION"
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "siyu.config.settings", **env})
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_the_development_secret(tmp_path):
    result = start(
        SIYU_ENV="production", SIYU_ALLOWED_HOSTS="shop.example.com", SIYU_DATA_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "refuses to start with the development secret key" in result.stderr


def test_production_refuses_a_short_secret(tmp_path):
    result = start(
        SIYU_ENV="production",
        SIYU_SECRET_KEY="short",
        SIYU_ALLOWED_HOSTS="shop.example.com",
        SIYU_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SIYU_SECRET_KEY" in result.stderr


def test_production_needs_allowed_hosts(tmp_path):
    result = start(SIYU_ENV="production", SIYU_SECRET_KEY="x" * 50, SIYU_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SIYU_ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_real_settings_and_debug_off(tmp_path):
    result = start(
        SIYU_ENV="production",
        SIYU_SECRET_KEY="x" * 50,
        SIYU_ALLOWED_HOSTS="shop.example.com",
        SIYU_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_development_defaults_need_nothing(tmp_path):
    result = start(SIYU_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_an_unknown_environment_name_is_refused(tmp_path):
    result = start(SIYU_ENV="staging", SIYU_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SIYU_ENV must be" in result.stderr


def test_env_readers(monkeypatch):
    monkeypatch.setenv("SIYU_X_BOOL", "yes")
    monkeypatch.setenv("SIYU_X_INT", "42")
    monkeypatch.setenv("SIYU_X_LIST", "a.example, b.example ,")
    assert env_bool("SIYU_X_BOOL", default=False) is True
    assert env_int("SIYU_X_INT", 1) == 42
    assert env_list("SIYU_X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("SIYU_X_BOOL", "maybe")
    monkeypatch.setenv("SIYU_X_INT", "forty")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        env_bool("SIYU_X_BOOL", default=False)
    with pytest.raises(ImproperlyConfigured):
        env_int("SIYU_X_INT", 1)
