"""Settings shared by every profile. Profiles (local, test, production) import * and adjust.

Every value that differs between machines comes from the environment through config.env,
which names the variable in its error.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from config.env import env_bool, env_int, env_list, env_redis_url, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "config.apps.CoreConfig",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "simple_history",
    # Sign-in lockout (config/lockout.py).
    "axes",
    # Second factor (TOTP and one-time backup codes) for sign-in: screening/mfa.py.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "screening",
    "indicators",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response, error pages included.
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Ends a session SESSION_ABSOLUTE_SECONDS after sign-in, however busy (config/sessions.py).
    "config.sessions.SessionLifetimeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A control character in the path → 404, a body over the limit → 413, before any view.
    "config.request_guards.RequestGuardMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Holds supervisors and agency admins at the second sign-in step until they take it.
    "screening.mfa.MfaRequiredMiddleware",
    "config.middleware.AccessLogMiddleware",
    # A stored value that does not decrypt: a calm 500 page naming where, never what.
    "config.middleware.StoredDataUnreadableMiddleware",
    # Puts the signed-in user on change-history rows (history_user).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.NoStoreMiddleware",
    # Last, as axes asks: turns a refused sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- People and permissions -------------------------------------------------------------
AUTH_USER_MODEL = "screening.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "AnonymousUser" row: anonymous visitors never hold object permissions here.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Where the quick-exit control sends the browser: a neutral page that gives nothing away to
# someone looking over the shoulder (practice guide: a controller may be watching).
QUICK_EXIT_URL = env_str("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather")

# Sessions: idle timeout (every request renews the cookie) and cookies the browser script
# cannot read. Practice guide: screenings happen on shared devices in stations and clinics.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# However busy, a session ends this long after sign-in (config/sessions.py).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Sign-in lockout (django-axes with config/lockout.py's handler): this many failed sign-ins
# for one username, or from one address (REMOTE_ADDR), within the window refuse sign-in for
# that username or from that address for LOCKOUT_MINUTES. Agency administrators lift a
# member's lock (/agency/lockouts/). Behind a proxy that REMOTE_ADDR does not see past, set
# LOCKOUT_BY_ADDRESS=false: every failure would otherwise count against the proxy's address.
LOCKOUT_FAILURE_LIMIT = env_int("LOCKOUT_FAILURE_LIMIT", 5, minimum=1)
LOCKOUT_WINDOW_MINUTES = env_int("LOCKOUT_WINDOW_MINUTES", 15, minimum=1)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 30, minimum=1)
LOCKOUT_BY_ADDRESS = env_bool("LOCKOUT_BY_ADDRESS", True)
AXES_HANDLER = "config.lockout.SlidingWindowHandler"
AXES_FAILURE_LIMIT = LOCKOUT_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] if LOCKOUT_BY_ADDRESS else ["username"]
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Refused attempts are not counted: the lock ends when the page said it would.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Successful sign-ins: not kept by axes (its table would grow without end).
AXES_DISABLE_ACCESS_LOG = True
# Axes logs no startup banner and, on a lockout, only our own line (config/lockout.py).
AXES_VERBOSE = False

# --- Response headers (SECURITY.md) -----------------------------------------------------
# Content-Security-Policy (django-csp 4 format): scripts, styles and images from our own
# static files only, no inline script or style, no plugins, never framed. The one exception
# is the API docs page (config/urls.py: Swagger UI's stylesheet draws its icons as data: URLs).
# form-action allows the quick-exit page's origin too: browsers apply form-action to the
# redirect that follows a form post, and the quick exit is a form.
_quick_exit_origin = "{0.scheme}://{0.netloc}".format(urlsplit(QUICK_EXIT_URL))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF, _quick_exit_origin],
    },
}
# Browser features no page here uses, switched off for every origin (the Copy button on the
# new-token page needs clipboard-write for this origin only). Names Chromium does not know
# are left out: each would be a console error on every page.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "browsing-topics": [],
    "camera": [],
    "clipboard-read": [],
    "clipboard-write": ["self"],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "picture-in-picture": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# Second sign-in step (screening/mfa.py): the roles that must verify every session with an
# authenticator app's code or a backup code; anyone else may choose to.
MFA_REQUIRED_ROLES = ["supervisor", "agency_admin"]
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Case screening"

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- REST API ----------------------------------------------------------------------------
# Conventions (docs/api.md): token or session auth, problem+json errors, cursor pagination,
# throttling per token. Bearer first: its challenge is the one a 401 carries.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.authentication.ApiTokenAuthentication",
        "config.api.authentication.SessionAuthentication401",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit (400) and a size limit (413).
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "config.api.exceptions.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.ApiCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": env_str("API_THROTTLE_RATE", "600/min")},
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.ProblemAutoSchema",
}
# Who may use the instruments API (indicators/ sits below screening/ and may not import it:
# the rule "agency staff with a role" is screening's, named here).
INDICATORS_API_PERMISSION_CLASSES = ["screening.permissions.IsAgencyStaff"]
# How long a replayable Idempotency-Key response is kept (it may hold case data).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "Case-screening decision support API",
    "DESCRIPTION": (
        "Hotline contacts, cases, screenings, instruments, referrals and the provider "
        "directory. Walkthrough: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets used under several field names, or field names used for several choice sets.
    "ENUM_NAME_OVERRIDES": {
        "ScreeningStatusEnum": "screening.models.Screening.Status",
        "SafetyAnswerEnum": "screening.models.Screening.SafetyAnswer",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "ReferralQueueStatusEnum": "referrals.api.views.QUEUE_STATUS_CHOICES",
        "ServiceTypeEnum": "referrals.models.ServiceType",
        "ProviderChannelEnum": "referrals.models.ServiceProvider.Channel",
        "ChannelEnum": "screening.models.Contact.Channel",
        "ApiTokenStatusEnum": "config.tokens.API_TOKEN_STATUSES",
        # Named as before the created/saved variants of these outputs shared the choices.
        "CaseOutputStatusEnum": "screening.models.Case.Status",
        "ContactOutputStatusEnum": "screening.models.Contact.Status",
        # Two outputs have a `kind`: each keeps a name of its own.
        "KindEnum": "referrals.models.ReferralEvent.Kind",
        "AccessGrantKindEnum": "screening.access.GrantKind",
        "NoteKindEnum": "screening.models.CaseNote.Kind",
        "TaskKindEnum": "screening.models.CaseTask.Kind",
        "NotificationKindEnum": "screening.models.Notification.Kind",
        "CaseCloseReasonEnum": "screening.models.CaseCloseReason",
        "TransferStatusEnum": "screening.models.CaseTransfer.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_problem_component",
        "config.api.schema.attach_rules",
    ],
}

# --- Celery ------------------------------------------------------------------------------
# Read by config/celery.py through the CELERY_ namespace. A task's hard time limit must stay
# well under the Redis visibility timeout, or a slow task is redelivered while it still runs
# (a system check in config/checks.py enforces the gap).
CELERY_BROKER_URL = env_redis_url("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_redis_url("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connections around every task unless this is set:
# a new PostgreSQL connection, with its authentication, per delivery. With it, a worker keeps
# them as a web process does (CONN_MAX_AGE and its health check, config/celery.py) and Celery
# itself closes them only every 2 x this many tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 500, minimum=0)
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = "default"

# --- Referrals ---------------------------------------------------------------------------
# The routing rule set in force: the newest published version of this slug (seeds/routing/).
REFERRAL_ROUTING_RULES = env_str("REFERRAL_ROUTING_RULES", "default-routing")
# Hours a supervisor has to decide a proposed referral, by priority (1 urgent … 4 low).
REFERRAL_APPROVAL_DUE_HOURS = {1: 2, 2: 24, 3: 72, 4: 168}
REFERRAL_WEBHOOK_TIMEOUT_SECONDS = env_int("REFERRAL_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Webhooks only over https to public addresses, checked on save and at send time
# (referrals/webhook_targets.py). Production forces it on; here it is off so a receiver on
# this machine (make run, the tests) works.
REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = env_bool("REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS", False)
REFERRAL_DELIVERY_MAX_ATTEMPTS = env_int("REFERRAL_DELIVERY_MAX_ATTEMPTS", 8, minimum=1)
# Exponential backoff with jitter: base * 2^(attempt-1), capped (and never beyond half the
# visibility timeout, see referrals/services/delivery.py).
REFERRAL_RETRY_BASE_SECONDS = env_int("REFERRAL_RETRY_BASE_SECONDS", 30, minimum=0)
REFERRAL_RETRY_MAX_SECONDS = env_int("REFERRAL_RETRY_MAX_SECONDS", 1200, minimum=0)
# A published outbox row not completed within the lease is published again (a worker died
# holding its message). Must exceed the task time limit.
REFERRAL_OUTBOX_LEASE_SECONDS = env_int(
    "REFERRAL_OUTBOX_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT * 2, minimum=1
)
REFERRAL_RELAY_INTERVAL_SECONDS = env_int("REFERRAL_RELAY_INTERVAL_SECONDS", 5, minimum=1)
REFERRAL_RELAY_BATCH_SIZE = env_int("REFERRAL_RELAY_BATCH_SIZE", 100, minimum=1)
REFERRAL_CALLBACK_WINDOW_SECONDS = env_int("REFERRAL_CALLBACK_WINDOW_SECONDS", 300, minimum=30)
# A sent referral still unanswered this long after its due time expires.
REFERRAL_EXPIRY_HOURS = env_int("REFERRAL_EXPIRY_HOURS", 7 * 24, minimum=1)
# Escalation of stuck referrals (referrals/services/escalation.py): blocked for want of
# consent this long (the case worker gets a "revisit consent" task), accepted this long with
# no services started.
REFERRAL_CONSENT_WAIT_HOURS = env_int("REFERRAL_CONSENT_WAIT_HOURS", 72, minimum=1)
REFERRAL_START_WAIT_HOURS = env_int("REFERRAL_START_WAIT_HOURS", 7 * 24, minimum=1)
REFERRAL_ESCALATION_INTERVAL_SECONDS = env_int(
    "REFERRAL_ESCALATION_INTERVAL_SECONDS", 300, minimum=10
)

# Case tasks (screening/services/followups.py): how often the reminder run looks for tasks
# that fell due, and how long before its due time a task is reminded of.
TASK_REMINDER_INTERVAL_SECONDS = env_int("TASK_REMINDER_INTERVAL_SECONDS", 300)
TASK_REMINDER_LEAD_MINUTES = env_int("TASK_REMINDER_LEAD_MINUTES", 0)

# Periodic tasks (run `make beat`): the outbox relay and overdue referrals. Each expires before
# the next run so a backlog after an outage does not pile up identical runs.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "referrals-relay-outbox": {
        "task": "referrals.relay_outbox",
        "schedule": float(REFERRAL_RELAY_INTERVAL_SECONDS),
        "options": {"expires": float(REFERRAL_RELAY_INTERVAL_SECONDS)},
    },
    "referrals-escalate-overdue": {
        "task": "referrals.escalate_overdue_referrals",
        "schedule": float(REFERRAL_ESCALATION_INTERVAL_SECONDS),
        "options": {"expires": float(REFERRAL_ESCALATION_INTERVAL_SECONDS)},
    },
    # Expired Idempotency-Key records: their stored responses may hold case data.
    "api-idempotency-purge": {
        "task": "api.idempotency_purge",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "core-access-log-purge": {
        "task": "core.access_log_purge",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600.0},
    },
    # Tasks on cases that fell due: an in-app notification and an email naming no person.
    "screening-task-reminders": {
        "task": "screening.case_task_reminders_send",
        "schedule": float(TASK_REMINDER_INTERVAL_SECONDS),
        "options": {"expires": float(TASK_REMINDER_INTERVAL_SECONDS)},
    },
    # Everything past its retention period (docs/retention.md); cases on legal hold stay.
    "referrals-purge-expired": {
        "task": "referrals.purge_expired",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600.0},
    },
}

# --- Encryption at rest (config/crypto.py, docs/encryption.md) ----------------------------
# The keyring: comma-separated `id:base64key` (32-byte keys), the active key's id, and the
# blind index's own HMAC key. Production requires all three from the environment; the local
# profile keeps generated ones in var/field-keys.json, the test profile fixed throwaway ones.
FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_ACTIVE_KEY = env_str("FIELD_ENCRYPTION_ACTIVE_KEY")
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY")
# Where national phone numbers without a country code are read from (ISO 3166 region).
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "GB")

# --- Access log --------------------------------------------------------------------------
# How long access log entries are kept (docs/access-log.md); purged daily by beat.
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 6 * 365, minimum=1)
# Emergency ("break-glass") access to a case, docs/access.md: how long a grant lasts, and how
# many one person may ask for in 24 hours (references that match no case count too).
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4, minimum=1)
BREAK_GLASS_MAX_PER_DAY = env_int("BREAK_GLASS_MAX_PER_DAY", 3, minimum=1)
# A person refused on this many different cases within this many minutes is flagged to the
# supervisors of their agency (/agency/refusals/, looking back this many days).
REFUSAL_FLAG_CASES = env_int("REFUSAL_FLAG_CASES", 5, minimum=2)
REFUSAL_FLAG_MINUTES = env_int("REFUSAL_FLAG_MINUTES", 10, minimum=1)
REFUSAL_FLAG_LOOKBACK_DAYS = env_int("REFUSAL_FLAG_LOOKBACK_DAYS", 14, minimum=1)

# --- Retention (docs/retention.md) -------------------------------------------------------
# How long each kind of record is kept; `manage.py purge_expired` (daily by beat) deletes
# what is older, a case with everything that hangs off it. A case on legal hold is never
# purged. Access-log entries and Idempotency-Key records keep their own settings above.
# Closed cases: seven years after closing, the long end of the six-to-seven-year schedules
# social-care and victim-service agencies commonly keep case files by (longer than the
# three years 2 CFR 200.334 asks of US federal grantees); an agency bound to keep longer
# raises it, and a case needed for proceedings goes on legal hold instead.
RETENTION_CLOSED_CASE_DAYS = env_int("RETENTION_CLOSED_CASE_DAYS", 7 * 365, minimum=1)
# Contacts that never led to a case (tips, information calls): two years after logging,
# long enough to see a pattern of calls about the same place, short for a caller's words.
RETENTION_UNLINKED_CONTACT_DAYS = env_int("RETENTION_UNLINKED_CONTACT_DAYS", 2 * 365, minimum=1)
# A draft screening untouched this long was abandoned (the person left, the officer moved
# on): its half-given answers are deleted rather than kept unreviewed.
RETENTION_DRAFT_SCREENING_DAYS = env_int("RETENTION_DRAFT_SCREENING_DAYS", 90, minimum=1)
# Delivery machinery: completed outbox rows and provider callback receipts hold ids and
# status words only; kept a month for troubleshooting. Disclosure packets are never stored
# (built at delivery from the case), so they go with their case.
RETENTION_OUTBOX_DAYS = env_int("RETENTION_OUTBOX_DAYS", 30, minimum=1)
RETENTION_CALLBACK_RECEIPT_DAYS = env_int("RETENTION_CALLBACK_RECEIPT_DAYS", 30, minimum=1)
# Rows of one kind deleted per transaction (`purge_expired --batch-size` overrides it).
RETENTION_PURGE_BATCH_SIZE = env_int("RETENTION_PURGE_BATCH_SIZE", 100, minimum=1)

# --- Logging -----------------------------------------------------------------------------
# Case data never goes to logs: log ids and event names only (see docs/privacy.md).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Request bodies and querystrings can hold case data; Django logs only the path.
        "django.request": {"level": "ERROR"},
    },
}
