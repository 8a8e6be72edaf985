"""The web entry points freeze the loaded application out of the garbage collector's reach.

A full collection walks every tracked object of the process; with the application loaded
that is about 146,000 objects and 94-164 ms of CPU, spent inside whichever request crosses the
collector's threshold (docs/benchmarks.md). ``config.wsgi`` and ``config.asgi`` call
``config.startup.freeze_loaded_objects`` once loaded, so later collections skip it. Each entry
point is imported in a child process with the production profile, as gunicorn imports it.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.config.test_settings_profiles import CONFIG_VARS, PRODUCTION_ENV, ROOT

REPORT = """
import gc, json, sys
import {module}
print(json.dumps({{
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "views_loaded": "screening.views" in sys.modules and "referrals.views" in sys.modules,
}}))
"""


def _in_production(code: str) -> str:
    """Run `code` in a new interpreter with the production profile; its standard output."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARS}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="config.settings.production")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_entry_point_freezes_the_loaded_application(module):
    report = json.loads(_in_production(REPORT.format(module=module)))
    # The URLconf was loaded before the freeze, so the views are among the frozen objects.
    assert report["views_loaded"]
    assert report["frozen"] > 50_000
    # What a full collection still walks is what was made after the freeze: a small part.
    assert report["tracked"] < report["frozen"] / 20


def test_without_the_freeze_a_full_collection_walks_the_whole_application():
    """The control: the same process without the entry point's freeze tracks the lot, so the
    assertion above measures the freeze and not how gc.get_objects() counts."""
    code = (
        "import gc, django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "gc.collect(); print(gc.get_freeze_count(), len(gc.get_objects()))"
    )
    frozen, tracked = map(int, _in_production(code).split())
    assert frozen == 0
    assert tracked > 50_000
