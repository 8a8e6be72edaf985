"""The case page's reads: its screenings and consents, read once and given to the timeline
(`case_timeline_page(already_read=...)`), make the same timeline as the sources' own
queries, page after page and on ties of time, and are the rows the plain selectors give."""

from datetime import timedelta

import pytest
from django.utils import timezone

from screening import selectors, services
from screening.models import CaseNote, Consent, Screening
from screening.timeline import case_timeline_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_case(case, officer, colleague, supervisor, screening_consent, start_screening):
    """Screenings (drafts and submitted), consents (given and withdrawn) and notes, with some
    of them at one and the same instant so the timeline orders them by source and id."""
    services.case_assign(case=case, worker=colleague, by=supervisor)
    for number in range(4):
        consent = services.consent_record(
            case=case,
            by=officer,
            scope="referral_service_type",
            service_type="shelter",
            method=Consent.Method.WRITTEN,
            valid_until=timezone.now() + timedelta(days=30),
        )
        if number % 2:
            services.consent_withdraw(consent=consent, by=supervisor)
        screening = start_screening(case, by=colleague if number % 2 else officer)
        if number != 2:
            services.screening_submit(screening=screening, by=officer)
        services.case_note_add(case=case, by=officer, kind="other", text=f"Note {number}")
    instant = timezone.now() - timedelta(hours=1)
    Screening.objects.filter(case=case).update(started_at=instant)
    Screening.objects.filter(case=case, submitted_at__isnull=False).update(submitted_at=instant)
    Consent.objects.filter(case=case).exclude(pk=screening_consent.pk).update(given_at=instant)
    first_notes = CaseNote.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)
    CaseNote.objects.filter(pk__in=list(first_notes[:2])).update(created_at=instant)
    return case


def _pages(case, *, per_page, **options):
    pages, after = [], None
    for _ in range(100):  # a cursor that does not move on would page for ever
        page = case_timeline_page(
            case=case, may_read_narrative=True, per_page=per_page, after=after, **options
        )
        pages.append((page.entries, page.next_cursor))
        after = page.next_cursor
        if after is None:
            return pages
    raise AssertionError("the timeline's cursor does not move on")


@pytest.mark.parametrize("per_page", [1, 3, 10, 50])
def test_the_timeline_from_the_pages_rows_is_the_timeline_from_its_queries(
    busy_case, per_page, django_assert_num_queries
):
    screenings = selectors.case_page_screening_list(case=busy_case)
    consents = selectors.case_page_consent_list(case=busy_case)
    read = {Screening: screenings, Consent: consents}

    from_queries = _pages(busy_case, per_page=per_page)
    from_rows = _pages(busy_case, per_page=per_page, already_read=read)

    assert from_rows == from_queries
    sources = {entry.source for entries, _ in from_rows for entry in entries}
    assert {"screening_started", "screening_submitted", "consent_given", "consent_withdrawn"} <= (
        sources
    )
    # Four sources fewer: only notes, contacts, case activity and referral events ask.
    with django_assert_num_queries(4):
        case_timeline_page(case=busy_case, may_read_narrative=True, already_read=read)


def test_the_case_pages_lists_are_the_plain_selectors_rows(busy_case, officer):
    plain_screenings = list(
        selectors.screening_list(user=officer, case_reference_or_id=busy_case.reference)
    )
    page_screenings = selectors.case_page_screening_list(case=busy_case)
    assert [s.pk for s in page_screenings] == [s.pk for s in plain_screenings]
    for shown, plain in zip(page_screenings, plain_screenings, strict=True):
        assert (shown.status, shown.started_at, shown.submitted_at) == (
            plain.status,
            plain.started_at,
            plain.submitted_at,
        )
        assert shown.instrument_version.title == plain.instrument_version.title
        assert shown.screener.get_full_name() == plain.screener.get_full_name()

    plain_consents = list(
        selectors.consent_list(user=officer, case_reference_or_id=busy_case.reference)
    )
    page_consents = selectors.case_page_consent_list(case=busy_case)
    assert [c.pk for c in page_consents] == [c.pk for c in plain_consents]
    for shown, plain in zip(page_consents, plain_consents, strict=True):
        assert (shown.scope, shown.given_at, shown.withdrawn_at, shown.valid_until) == (
            plain.scope,
            plain.given_at,
            plain.withdrawn_at,
            plain.valid_until,
        )
