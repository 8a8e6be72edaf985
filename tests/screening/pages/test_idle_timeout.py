"""Idle session timeout: every request renews the session; an idle one is gone server-side."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_each_request_renews_the_idle_timeout(client_for, officer):
    client = client_for(officer)
    assert client.get("/").status_code in (200, 302)
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert (
        settings.SESSION_COOKIE_AGE - 60 < remaining.total_seconds() <= settings.SESSION_COOKIE_AGE
    )
    assert settings.SESSION_COOKIE_AGE <= 30 * 60


def test_an_idle_session_is_signed_out(client_for, officer, case):
    client = client_for(officer)
    assert client.get(f"/cases/{case.reference}/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(f"/cases/{case.reference}/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)
