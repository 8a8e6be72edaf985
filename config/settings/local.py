"""The embedded default: SQLite file, a Celery worker and beat on kombu's filesystem broker
(started by `make run`), mail written to files. For a laptop, never a server.

Why a real worker rather than eager Celery: eager tasks run inside the request and cannot
wait, so a retry's countdown and the beat schedule (outbox relay, escalation, reminders)
never happened. A worker on a broker that is a folder under var/ needs nothing installed
beyond the locked Python packages and behaves as production's does (docs/embedded-demo.md).
"""

from pathlib import Path

from config.crypto import local_key_file
from config.env import env_bool, env_database, env_int, env_str

from .base import *  # noqa: F403
from .base import BASE_DIR, CELERY_BROKER_URL, INSTALLED_APPS

# Off: `make run` is the demo a newcomer clicks through, and it shows the service's own error
# pages (templates/404.html, 403.html, 500.html), never Django's debug page with its settings
# and paths. A developer chasing a traceback sets DJANGO_DEBUG=1.
DEBUG = env_bool("DJANGO_DEBUG", False)
# runserver serves static files only with DEBUG on: config/urls.py serves them here itself.
SERVE_STATIC_FILES = True
# A fixed, obviously-local key: this profile is never served to anyone but the developer.
SECRET_KEY = env_str("SECRET_KEY", "local-only-insecure-key-do-not-use-on-a-server")
DEMO_SEEDS_ALLOWED = True
# The demo app: seed_demo, run_demo (web + worker + beat + webhook receiver) and the pages
# that stand in for the outside world (/demo/mail/, /demo/webhooks/). Never in production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# Everything this profile writes lives here (git-ignored): keys, mail, broker, deliveries.
LOCAL_VAR_DIR = Path(env_str("LOCAL_VAR_DIR", str(BASE_DIR / "var")))

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Three processes write to one file: wait for the lock instead of failing at once, take
    # it when a transaction starts (no deadlock upgrading a read lock), and let readers read
    # while one writes (write-ahead log).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }

# Mail goes to files, one per connection, read at /demo/mail/.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = LOCAL_VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = "referrals@screening.localhost"

# The built-in webhook receiver (demo/receiver.py, started by run_demo): the demo directory's
# webhook providers point at it (seeds/providers/demo-directory.yaml); what it received is
# shown at /demo/webhooks/. Slugs in DEMO_RECEIVER_FAIL_FIRST answer 503 to the first attempt
# of each referral, to watch a retry wait for its delay.
DEMO_RECEIVER_PORT = env_int("DEMO_RECEIVER_PORT", 8765, minimum=1)
DEMO_WEBHOOK_DIR = LOCAL_VAR_DIR / "webhooks"
DEMO_RECEIVER_FAIL_FIRST = [
    slug.strip() for slug in env_str("DEMO_RECEIVER_FAIL_FIRST", "").split(",") if slug.strip()
]

# Celery: a real broker when one is given (CELERY_BROKER_URL=redis://…), else kombu's
# filesystem transport in var/broker/. Tasks are not run eagerly: a worker takes them.
if CELERY_BROKER_URL is None:
    _broker = LOCAL_VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, writing each file whole (demo/broker.py says why).
    CELERY_BROKER_TRANSPORT = "demo.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder both ways: producers write where the worker reads.
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
        # How often the worker looks for new files: a delivery starts within this.
        "polling_interval": 0.2,
    }
    CELERY_RESULT_BACKEND = None  # no task result is read; the database holds the outcome
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_VAR_DIR / "celerybeat-schedule")
# Escalation of overdue referrals every minute (production: every five), so a demo sees it.
REFERRAL_ESCALATION_INTERVAL_SECONDS = env_int(
    "REFERRAL_ESCALATION_INTERVAL_SECONDS", 60, minimum=10
)
CELERY_BEAT_SCHEDULE = {  # noqa: F405
    **CELERY_BEAT_SCHEDULE,  # noqa: F405
    "referrals-escalate-overdue": {
        "task": "referrals.escalate_overdue_referrals",
        "schedule": float(REFERRAL_ESCALATION_INTERVAL_SECONDS),
        "options": {"expires": float(REFERRAL_ESCALATION_INTERVAL_SECONDS)},
    },
}
# Retries that a demo can watch: the first after 5-10 s, never more than 5 minutes apart.
REFERRAL_RETRY_BASE_SECONDS = env_int("REFERRAL_RETRY_BASE_SECONDS", 10, minimum=0)
REFERRAL_RETRY_MAX_SECONDS = env_int("REFERRAL_RETRY_MAX_SECONDS", 300, minimum=0)

# Field-encryption keys made on first run and kept in var/ (git-ignored), unless the
# environment gives them: `make run` needs nothing set. Losing the file loses the local data.
if FIELD_ENCRYPTION_KEYS is None:  # noqa: F405
    _local_keys = local_key_file(LOCAL_VAR_DIR / "field-keys.json")
    FIELD_ENCRYPTION_KEYS = _local_keys["FIELD_ENCRYPTION_KEYS"]
    FIELD_ENCRYPTION_ACTIVE_KEY = _local_keys["FIELD_ENCRYPTION_ACTIVE_KEY"]
    BLIND_INDEX_KEY = _local_keys["BLIND_INDEX_KEY"]

# Readable logs under `make run`: the relay runs every few seconds and would fill the worker's
# output with "received"/"succeeded" lines; failures and the services' own lines still show.
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405
LOGGING["loggers"]["celery.worker.strategy"] = {"level": "WARNING"}  # noqa: F405
LOGGING["loggers"]["celery.beat"] = {"level": "WARNING"}  # noqa: F405
