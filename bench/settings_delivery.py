"""Production settings for the delivery benchmark only (bench/delivery_bench.py): every
default as deployed (relay interval, lease, webhook timeout, retries, Celery options), except
that a provider's webhook may be the benchmark's receiver on 127.0.0.1 over plain http.
Never used by a deployment."""

from config.settings.production import *  # noqa: F403

REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = False
