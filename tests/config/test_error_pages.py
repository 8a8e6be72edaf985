"""The service's own error pages in every profile (issue 16): styled like the rest, scaled on
a phone (the viewport meta), saying what to do; never Django's debug page, not even in the
local profile `make run` uses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth import sign_in
from tests.factories import UserFactory
from tests.html import parse_page

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
STYLESHEET = 'rel="stylesheet" href="/static/screening.css"'


def assert_service_page(response, status: int, heading: str) -> None:
    page = response.content.decode()
    assert response.status_code == status
    assert VIEWPORT in page and STYLESHEET in page
    assert heading in parse_page(page).text
    assert "Django" not in page and "Traceback" not in page and "settings" not in page


LOCAL_CHECK = """
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
missing = client.get("/no-such-page/")
css = client.get("/static/screening.css")
print("DEBUG", settings.DEBUG)
print("404", missing.status_code, "Page not found" in missing.content.decode(),
      "technical" in missing.content.decode().lower() or "Django" in missing.content.decode())
print("CSS", css.status_code)
"""


def test_the_local_profile_shows_the_services_404_and_still_serves_its_stylesheet(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'local.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", LOCAL_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert "DEBUG False" in lines
    # Before: Django's debug page ("Page not found at /no-such-page/", unscaled on a phone).
    assert "404 404 True False" in lines
    assert "CSS 200" in lines


@pytest.mark.django_db
def test_a_missing_page_is_the_services_404(client):
    assert_service_page(client.get("/no-such-page/"), 404, "Page not found")


@pytest.mark.django_db
def test_a_forbidden_page_is_the_services_403():
    from screening.roles import Role

    officer = UserFactory(role=Role.FRONTLINE_OFFICER)
    response = sign_in(Client(), officer).get(reverse("screening:agency-cases"))
    assert_service_page(response, 403, "You cannot do this")


@pytest.mark.django_db
def test_a_failure_is_the_services_500_and_says_nothing_about_it(settings):
    settings.ROOT_URLCONF = "tests.config.error_urls"
    response = Client(raise_request_exception=False).get("/test-failure/")
    assert_service_page(response, 500, "Something went wrong on our side")
    assert "fictional failure" not in response.content.decode()
