"""Each settings profile loads, and production refuses to start half-configured.

Profiles are loaded in a child process (settings are read once per process) through manage.py,
the same entry point operators use.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 20 + "-throwaway-test-secret-key-not-used-anywhere-0123456789"
PRODUCTION_ENV = {
    "SECRET_KEY": GOOD_SECRET,
    "ALLOWED_HOSTS": "screening.example.org",
    "DATABASE_URL": "postgres://app:pw@127.0.0.1:5432/screening",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    # Throwaway 32-byte keys (base64url): "k2" is active, "k1" only decrypts.
    "FIELD_ENCRYPTION_KEYS": (
        "k2:dGhyb3dhd2F5LXRlc3Qta2V5LW51bWJlci10d28tMzI,"
        "k1:dGhyb3dhd2F5LXRlc3Qta2V5LW51bWJlci1vbmUtMzI"
    ),
    "FIELD_ENCRYPTION_ACTIVE_KEY": "k2",
    "BLIND_INDEX_KEY": "dGhyb3dhd2F5LWJsaW5kLWluZGV4LWtleS1obWFjLTM",
}
CONFIG_VARS = [
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "FIELD_ENCRYPTION_KEYS",
    "FIELD_ENCRYPTION_ACTIVE_KEY",
    "BLIND_INDEX_KEY",
    "DATABASE_PREPARED_STATEMENTS",
]


def _shell(profile: str, code: str, **overrides: str | None) -> subprocess.CompletedProcess:
    """Run `code` in a child process under `profile`, with none of the configuration variables
    of this process and `overrides` set (None leaves a variable unset)."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARS}
    env["DJANGO_SETTINGS_MODULE"] = f"config.settings.{profile}"
    env.update({key: value for key, value in overrides.items() if value is not None})
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_profile(profile: str, **overrides: str | None) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    return _shell(profile, code, **overrides)


def test_local_profile_defaults_to_sqlite_and_a_worker_not_eager_celery():
    """make run's worker takes the tasks from the filesystem broker (docs/embedded-demo.md):
    eager tasks could not wait for a retry's delay."""
    result = load_profile("local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]
    eager = load_profile("local", CELERY_TASK_ALWAYS_EAGER="true")
    assert eager.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_test_profile_loads():
    result = load_profile("test")
    assert result.returncode == 0, result.stderr


def test_production_profile_loads_with_every_variable_set():
    result = load_profile("production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "FIELD_ENCRYPTION_KEYS",
        "FIELD_ENCRYPTION_ACTIVE_KEY",
        "BLIND_INDEX_KEY",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    result = load_profile("production", **{**PRODUCTION_ENV, missing: None})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error:")
    assert missing in lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "sqlite:///prod.sqlite3", "not SQLite"),
        ("DATABASE_URL", "mysql://a@b/c", "postgres://"),
        ("DATABASE_URL", "postgres://app@127.0.0.1:5432/", "names no database"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "redis://"),
        ("CELERY_BROKER_URL", "redis://:s3cret@127.0.0.1:notaport/0", "invalid port"),
        ("CACHE_URL", "memcached://127.0.0.1:11211", "redis://"),
        ("CACHE_URL", "redis://:s3cret@/1", "redis://"),
        ("CACHE_URL", "redis://:s3cret@127.0.0.1:notaport/1", "invalid port"),
        ("SECRET_KEY", "short", "at least 50"),
        ("FIELD_ENCRYPTION_KEYS", "k2", "id:base64key"),
        ("FIELD_ENCRYPTION_KEYS", "k2:c2hvcnQ", "32 bytes"),
        ("FIELD_ENCRYPTION_KEYS", "k2:not base64!", "not base64"),
        ("FIELD_ENCRYPTION_ACTIVE_KEY", "k9", "not in FIELD_ENCRYPTION_KEYS"),
        ("BLIND_INDEX_KEY", "dGhyb3dhd2F5LXRlc3Qta2V5LW51bWJlci10d28tMzI", "must differ"),
    ],
)
def test_production_names_a_malformed_variable_in_one_line(variable, value, expected):
    result = load_profile("production", **{**PRODUCTION_ENV, variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert expected in lines[0]
    assert "s3cret" not in result.stderr  # a password in a URL is never echoed


def test_a_malformed_boolean_names_the_variable():
    result = load_profile("local", CELERY_TASK_ALWAYS_EAGER="maybe")
    assert result.returncode == 2
    assert "CELERY_TASK_ALWAYS_EAGER" in result.stderr


def _cache_settings(profile: str, **overrides: str | None) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings;"
        "cache = settings.CACHES['default'];"
        "print(cache['BACKEND'], cache.get('LOCATION', '-'))"
    )
    return _shell(profile, code, **overrides)


def test_production_shares_one_redis_cache_between_processes():
    result = _cache_settings("production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/1",
    ]


def test_production_connections_run_without_jit():
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = _shell("production", code, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "'options': '-c plan_cache_mode=force_custom_plan -c jit=off'" in result.stdout


def _database_options(profile: str, **overrides: str | None) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS'];"
        "print(o.get('server_side_binding'), o.get('prepare_threshold', 'unset'))"
    )
    return _shell(profile, code, **{**PRODUCTION_ENV, **overrides})


@pytest.mark.parametrize("profile", ["production", "local", "test"])
def test_postgresql_binds_on_the_server_and_prepares_repeated_statements(profile):
    result = _database_options(profile)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "5"]


def test_prepared_statements_can_be_turned_off_for_a_pooler():
    result = _database_options("production", DATABASE_PREPARED_STATEMENTS="false")
    assert result.returncode == 0, result.stderr
    # Unset: Django's backend then passes prepare_threshold=None (never prepare).
    assert result.stdout.split() == ["True", "unset"]
    result = _database_options("production", DATABASE_PREPARED_STATEMENTS="sometimes")
    assert result.returncode != 0
    assert "DATABASE_PREPARED_STATEMENTS must be true or false" in result.stderr


def test_sqlite_gets_no_postgresql_options():
    result = _database_options("test", DATABASE_URL="sqlite:///unused.sqlite3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "unset"]


@pytest.mark.parametrize("profile", ["local", "test"])
def test_local_and_test_profiles_keep_the_in_memory_cache(profile):
    result = _cache_settings(profile, CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.cache.backends.locmem.LocMemCache"
