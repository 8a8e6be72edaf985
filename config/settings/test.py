"""Test profile: SQLite by default so `make test` works anywhere; CI sets DATABASE_URL to
PostgreSQL and CELERY_BROKER_URL to a real Redis, which the integration tests then use."""

from config.env import env_database

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = False
SECRET_KEY = "test-only-key-not-secret"  # noqa: S105
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'test.sqlite3'}")}
# Unit tests run tasks in-process; integration tests send to the real broker explicitly.
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEMO_SEEDS_ALLOWED = True
# Throwaway keys, fixed so failures reproduce; tests that rotate override them.
FIELD_ENCRYPTION_KEYS = "test1:" + "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE"
FIELD_ENCRYPTION_ACTIVE_KEY = "test1"
BLIND_INDEX_KEY = "dGVzdC1vbmx5LWJsaW5kLWluZGV4LWhtYWMta2V5LTE"
# The demo app (seed_demo, the demo mailbox and webhook receiver pages) is tested here too;
# tests point its folders at a temporary directory.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]  # noqa: F405
EMAIL_FILE_PATH = BASE_DIR / "var" / "test-mail"
DEMO_WEBHOOK_DIR = BASE_DIR / "var" / "test-webhooks"
DEMO_RECEIVER_PORT = 8765
DEMO_RECEIVER_FAIL_FIRST: list[str] = []
