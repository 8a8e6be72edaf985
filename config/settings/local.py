"""The embedded default: SQLite file, Celery eager, DEBUG on. For a laptop, never a server."""

from config.crypto import local_key_file
from config.env import env_database, env_str

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = True
# A fixed, obviously-local key: this profile is never served to anyone but the developer.
SECRET_KEY = env_str("SECRET_KEY", "local-only-insecure-key-do-not-use-on-a-server")
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEMO_SEEDS_ALLOWED = True

# Field-encryption keys made on first run and kept in var/ (git-ignored), unless the
# environment gives them: `make run` needs nothing set. Losing the file loses the local data.
if FIELD_ENCRYPTION_KEYS is None:  # noqa: F405
    _local_keys = local_key_file(BASE_DIR / "var" / "field-keys.json")
    FIELD_ENCRYPTION_KEYS = _local_keys["FIELD_ENCRYPTION_KEYS"]
    FIELD_ENCRYPTION_ACTIVE_KEY = _local_keys["FIELD_ENCRYPTION_ACTIVE_KEY"]
    BLIND_INDEX_KEY = _local_keys["BLIND_INDEX_KEY"]
