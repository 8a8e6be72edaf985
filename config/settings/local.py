"""The embedded default: SQLite file, Celery eager, DEBUG on. For a laptop, never a server."""

from config.env import env_database, env_str

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = True
# A fixed, obviously-local key: this profile is never served to anyone but the developer.
SECRET_KEY = env_str("SECRET_KEY", "local-only-insecure-key-do-not-use-on-a-server")
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEMO_SEEDS_ALLOWED = True
