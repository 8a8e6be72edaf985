"""Production: PostgreSQL, Redis, a real worker and beat. Refuses to start half-configured."""

from django.core.exceptions import ImproperlyConfigured

from config.crypto import parse_keyring
from config.env import env_bool, env_database, env_int, env_list, env_redis_url, env_str

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", required=True)
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required=True)
DATABASES = {"default": env_database("DATABASE_URL", require_server=True)}
# No JIT on the application's connections (issue 12, docs/benchmarks.md "JIT"): since the lists
# read index-driven sets, no list plan comes near jit_above_cost (the costliest case list at 1M
# costs about 4,000 against 100,000), so JIT buys nothing here, while a misestimated plan that
# crosses the threshold pays 0.5-0.9 s of LLVM compilation for a query of milliseconds (the
# first visibility rule did). Reports run elsewhere can still turn it on for themselves.
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = " ".join(filter(None, [_options.get("options"), "-c jit=off"]))
CELERY_BROKER_URL = env_redis_url("CELERY_BROKER_URL", required=True)
CELERY_RESULT_BACKEND = env_redis_url("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = False
DEMO_SEEDS_ALLOWED = False
# A provider's webhook: https to a public address only, never this machine or its network.
REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = True
# Victim data is sealed with these (docs/encryption.md); checked now, so a missing or
# malformed key stops the process at start with one line naming the variable.
FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS", required=True)
FIELD_ENCRYPTION_ACTIVE_KEY = env_str("FIELD_ENCRYPTION_ACTIVE_KEY", required=True)
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY", required=True)
parse_keyring(
    keys=FIELD_ENCRYPTION_KEYS, active=FIELD_ENCRYPTION_ACTIVE_KEY, blind_index_key=BLIND_INDEX_KEY
)
# One cache for every process: the API's throttle counters live here. Django's default (memory
# in each process) would silently multiply each token's limit by the number of processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_redis_url("CACHE_URL", required=True),
        "KEY_PREFIX": "screening",
    }
}

# HTTPS only, behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers probe health over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
