"""Production settings for the benchmark only: the same middleware, database, auth and API
stack, plus two comparison views under `bench.urls`. Never used by a deployment."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
