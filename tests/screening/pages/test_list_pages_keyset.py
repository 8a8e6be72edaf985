"""Keyset pages on the case lists and the other screening lists (config/keyset.py): Older and
Newer links that keep the other query parameters, every case once however many share a
creation time, no COUNT and no OFFSET asked of the database, cursors that name no one, and an
edited cursor answered with the first page and a message."""

from __future__ import annotations

import json
import re
from base64 import urlsafe_b64decode
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.keyset import cursor_encode
from screening import services
from screening.models import Case
from screening.roles import Role
from tests.factories import UserFactory
from tests.pages import assert_no_count_or_offset, follow, link_query, page_link

pytestmark = pytest.mark.django_db

AGENCY_CASES = reverse("screening:agency-cases")


def _references(page: str) -> list[str]:
    return re.findall(r'<h2 class="case-ref"><a href="[^"]*">([^<]+)</a>', page)


def _newest_first(cases) -> list[str]:
    return [
        case.reference for case in sorted(cases, key=lambda c: (c.created_at, c.pk), reverse=True)
    ]


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 3 cases, so that a few cases make several pages."""
    monkeypatch.setattr("screening.views.cases.CASES_PER_PAGE", 3)


@pytest.fixture
def cases(officer) -> list[Case]:
    return [services.case_create(created_by=officer, age=30 + index) for index in range(8)]


@pytest.mark.parametrize("url", ["/", AGENCY_CASES])
def test_older_and_newer_walk_the_cases_newest_first_each_once(
    client_for, officer, supervisor, cases, small_pages, url
):
    client = client_for(supervisor if url == AGENCY_CASES else officer)
    first = client.get(url).content.decode()
    assert page_link(first, "prev") is None and "Older" in first
    pages = [first]
    while link := page_link(pages[-1], "next"):
        pages.append(follow(client, url, link))
    assert [_references(page) for page in pages] == [
        _newest_first(cases)[start : start + 3] for start in (0, 3, 6)
    ]
    last = pages[-1]
    assert page_link(last, "next") is None  # the last page: nothing older
    # Newer from the last page gives the middle page again, then the first.
    middle = follow(client, url, page_link(last, "prev"))
    assert _references(middle) == _references(pages[1])
    again = follow(client, url, page_link(middle, "prev"))
    assert _references(again) == _references(first)
    assert page_link(again, "prev") is None


def test_cases_created_at_the_same_moment_are_each_shown_once(
    client_for, officer, cases, small_pages
):
    moment = timezone.now()
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(created_at=moment)
    client = client_for(officer)
    seen, page = [], client.get("/").content.decode()
    while True:
        seen.extend(_references(page))
        if not (link := page_link(page, "next")):
            break
        page = follow(client, "/", link)
    by_id = sorted(cases, key=lambda case: case.pk, reverse=True)  # ties broken by id
    assert seen == [case.reference for case in by_id]


def test_a_page_link_names_no_case_and_no_person(client_for, officer, cases, small_pages):
    page = client_for(officer).get("/").content.decode()
    link = page_link(page, "next")
    (token,) = link_query(link)["after"]
    when, case_id = json.loads(urlsafe_b64decode(token))
    last = Case.objects.get(reference=_references(page)[-1])
    assert datetime.fromisoformat(when) == last.created_at and case_id == last.pk
    assert not any(case.reference in link for case in cases)


def test_the_links_keep_the_other_query_parameters(client_for, officer, cases, small_pages):
    client = client_for(officer)
    first = client.get("/", {"lang": "es"}).content.decode()
    second = follow(client, "/", page_link(first, "next"))
    assert link_query(page_link(first, "next"))["lang"] == ["es"]
    newer = link_query(page_link(second, "prev"))
    assert newer["lang"] == ["es"] and "after" not in newer


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"before": "%%%"},
        {"after": ""},
        {"after": cursor_encode([1])},  # a cursor of another list's shape
        {"after": cursor_encode(["2026-01-01T00:00:00", 1])},  # no offset: not one we made
        {"after": cursor_encode([datetime.now().astimezone(), 1]), "before": cursor_encode([1])},
    ],
)
def test_an_edited_cursor_shows_the_first_page_and_says_so(
    client_for, officer, cases, small_pages, query
):
    response = client_for(officer).get("/", query)
    assert response.status_code == 200
    page = response.content.decode()
    assert _references(page) == _newest_first(cases)[:3]
    assert "That page link did not work, so this is the first page." in page


def test_a_cursor_past_the_end_shows_no_cases_and_a_way_back(
    client_for, officer, cases, small_pages
):
    long_ago = cursor_encode([datetime(2000, 1, 1).astimezone(), 1])
    page = client_for(officer).get("/", {"after": long_ago}).content.decode()
    assert _references(page) == []
    assert "No older cases." in page


@pytest.mark.parametrize("url", ["/", AGENCY_CASES])
def test_case_list_pages_ask_for_no_count_and_no_offset(
    client_for, officer, supervisor, cases, small_pages, url
):
    client = client_for(supervisor if url == AGENCY_CASES else officer)
    with CaptureQueriesContext(connection) as captured:
        first = client.get(url).content.decode()
        follow(client, url, page_link(first, "next"))
        second = follow(client, url, page_link(first, "next"))
        follow(client, url, page_link(second, "prev"))
    assert_no_count_or_offset(captured)


def test_the_old_page_parameter_is_ignored(client_for, officer, cases, small_pages):
    page = client_for(officer).get("/", {"page": "2"}).content.decode()
    assert _references(page) == _newest_first(cases)[:3]
    assert "page=2" not in page_link(page, "next")


# --- the other screening lists -------------------------------------------------------------


def test_who_can_see_pages_people_by_name_with_cursors_of_ids_only(
    client_for, officer, supervisor, agency, case, monkeypatch
):
    monkeypatch.setattr("screening.views.access.PEOPLE_PER_PAGE", 4)
    extra = [
        UserFactory(
            agency=agency,
            role=Role.SUPERVISOR,
            last_name=f"Fictional{index % 2}",  # surnames that tie
            first_name=f"Ana{index}",
        )
        for index in range(7)
    ]
    people = sorted(
        [officer, supervisor, *extra],
        key=lambda user: (user.last_name, user.first_name, user.username, user.pk),
    )
    url = reverse("screening:case-who-can-see", kwargs={"reference": case.reference})
    client = client_for(supervisor)
    first = client.get(url).content.decode()
    assert "9 people" in first  # counted, up to 200: cheap for one case
    link = page_link(first, "next")
    (token,) = link_query(link)["after"]
    assert json.loads(urlsafe_b64decode(token)) == [people[3].pk]  # an id, never a name
    names, page = [], first
    while True:
        names.extend(re.findall(r'<td role="cell" data-label="Who">([^<]+)</td>', page))
        if not (link := page_link(page, "next")):
            break
        page = follow(client, url, link)
    assert names == [user.get_full_name() for user in people]
    back = follow(client, url, page_link(page, "prev"))
    assert re.findall(r'data-label="Who">([^<]+)<', back) == names[4:8]


def test_the_api_tokens_page_is_paged_newest_first(client_for, officer, monkeypatch):
    monkeypatch.setattr("screening.views.tokens.TOKENS_PER_PAGE", 2)
    for index in range(5):
        services.api_token_create(user=officer, name=f"system {index}")
    client = client_for(officer)
    url = reverse("screening:api-tokens")
    names, page = [], client.get(url).content.decode()
    while True:
        names.extend(re.findall(r'<h3 class="token-name">(system \d)', page))
        if not (link := page_link(page, "next")):
            break
        page = follow(client, url, link)
    assert names == [f"system {index}" for index in (4, 3, 2, 1, 0)]
