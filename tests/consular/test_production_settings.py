"""Production mode refuses to start without real secrets, and passes `check --deploy`."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(
        CONSULAR_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        MASTER_KEYS="1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        BLIND_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        DATABASE_URL="postgres://consular@db.invalid/consular",
        ALLOWED_HOSTS="consular.example.gov",
        PUBLIC_BASE_URL="https://consular.example.gov",
        ERASURE_LEDGER_FILE="/var/lib/consular-ledger/erasures.jsonl",
        AUDIT_ANCHOR_FILE="/var/lib/consular-ledger/audit-anchors.jsonl",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


def test_production_mode_passes_check_deploy_at_warning_level():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env=production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "Missing configuration: SECRET_KEY" in result.stderr


def test_production_mode_refuses_to_start_without_key_material():
    result = run_manage("check", env=production_env(MASTER_KEYS="", BLIND_INDEX_KEY=""))
    assert result.returncode != 0
    assert "MASTER_KEYS, BLIND_INDEX_KEY" in result.stderr


def test_production_mode_refuses_a_weak_secret_key():
    result = run_manage("check", env=production_env(SECRET_KEY="django-insecure-short"))
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value" in result.stderr


def test_production_mode_never_reads_the_development_env_file():
    # Without the variables, production must not fall back to .local/dev.env.
    env = production_env(SECRET_KEY="", MASTER_KEYS="", BLIND_INDEX_KEY="", DATABASE_URL="")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY, MASTER_KEYS, BLIND_INDEX_KEY, DATABASE_URL" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(50))
    result = run_manage("check", env=production_env(SECRET_KEY="", SECRET_KEY_FILE=str(key_file)))
    assert result.returncode == 0, result.stderr


def test_production_mode_refuses_malformed_key_material_at_start():
    for broken in ({"MASTER_KEYS": "changeme"}, {"BLIND_INDEX_KEY": "changeme"}):
        result = run_manage("check", env=production_env(**broken))
        assert result.returncode != 0, broken
        assert "configuration error" in result.stderr and "changeme" not in result.stderr, broken


def test_another_key_provider_needs_no_master_keys_variable():
    # A KMS or Vault provider holds the master keys itself.
    env = production_env(MASTER_KEYS="", KEY_PROVIDER="consular.keys.StaticKeyProvider")
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_options_are_kept_and_a_connect_timeout_is_set():
    code = (
        "from django.conf import settings; "
        "o = settings.DATABASES['default']['OPTIONS']; print(o['options'], o['connect_timeout'])"
    )
    env = production_env(DATABASE_URL="postgres://consular@db.invalid/consular?options=-c%20statement_timeout%3D5000")
    result = run_manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == "-c statement_timeout=5000 -c jit=off 5", result.stderr


def test_check_deploy_warns_when_the_erasure_ledger_has_no_copy_outside_the_database():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(ERASURE_LEDGER_FILE=""))
    assert result.returncode != 0
    assert "consular.W001" in result.stderr + result.stdout


def test_check_deploy_warns_when_the_audit_log_has_no_anchor_file():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(AUDIT_ANCHOR_FILE=""))
    assert result.returncode != 0
    assert "consular.W002" in result.stderr + result.stdout


def test_in_development_the_check_in_links_point_at_the_port_served():
    env = {key: value for key, value in os.environ.items() if key not in {"PUBLIC_BASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["PORT"] = "8123"
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "http://127.0.0.1:8123", result.stderr
