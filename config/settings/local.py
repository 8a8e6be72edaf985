"""The embedded default: SQLite file, Celery eager. For a laptop, never a server."""

from config.crypto import local_key_file
from config.env import env_bool, env_database, env_str

from .base import *  # noqa: F403
from .base import BASE_DIR

# Off: `make run` is the demo a newcomer clicks through, and it shows the service's own error
# pages (templates/404.html, 403.html, 500.html), never Django's debug page with its settings
# and paths. A developer chasing a traceback sets DJANGO_DEBUG=1.
DEBUG = env_bool("DJANGO_DEBUG", False)
# runserver serves static files only with DEBUG on: config/urls.py serves them here itself.
SERVE_STATIC_FILES = True
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
