"""The result page says what the officer should know about the list itself (issue 17):
published accuracy and its population, a caution outside it, rules that are local policy,
and grades or items that could not be checked against the publication.

Also: a screening pinned to v1 keeps its result once v2 is published; new screenings use v2.
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from indicators.models import InstrumentVersion
from screening import services

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "instruments"
GRADES_NOTICE = "Some grades of this list could not be checked against the publication"
ITEMS_NOTICE = "Some items of this list could not be checked against the publication"


@pytest.fixture
def seed_version():
    def load(slug: str, number: int) -> InstrumentVersion:
        call_command(
            "load_instruments", str(SEEDS / f"{slug}.v{number}.yaml"), stdout=io.StringIO()
        )
        return InstrumentVersion.objects.get(instrument__slug=slug, number=number)

    return load


@pytest.fixture
def submit(officer):
    def run(version, answers, *, age=30, age_band=None, setting="shelter"):
        case = services.case_create(created_by=officer, age=age, age_band=age_band)
        services.consent_record(case=case, by=officer, scope="screening", method="verbal")
        screening = services.screening_start(
            case=case,
            by=officer,
            instrument_version=version,
            setting=setting,
            safe_to_talk="yes",
            alone="yes",
        )
        screening = services.screening_save_answers(
            screening=screening, by=officer, answers=answers, expected_version=screening.version
        )
        return services.screening_submit(screening=screening, by=officer)

    return run


def page_of(client, screening) -> str:
    url = reverse("screening:screening-result", kwargs={"screening_id": screening.pk})
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


QYIT_NO = {
    "felt_unsafe_where_working": "no",
    "afraid_to_leave_threats": "no",
    "something_in_exchange_for_sex": "no",
    "earnings_kept_by_someone": "no",
}


def test_qyit_result_shows_its_published_accuracy_and_population(
    client_for, officer, seed_version, submit
):
    screening = submit(
        seed_version("qyit", 2), {**QYIT_NO, "afraid_to_leave_threats": "yes"}, age=20
    )
    page = page_of(client_for(officer), screening)
    assert "Sensitivity 86.7%, specificity 76.5%, n=307." in page
    assert "Covenant House New Jersey" in page and "aged 18 to 22" in page
    assert "Screening for human trafficking among homeless young adults, 2019" in page
    assert 'id="validation-caution"' not in page  # 20 is inside 18-22
    assert ITEMS_NOTICE in page  # the four items' wording could not be read


@pytest.mark.parametrize(
    ("age", "age_band", "words"),
    [
        (
            30,
            None,
            "outside the population the list was validated with</strong> (age 30; "
            "validated ages 18–22)",
        ),
        (None, "adult", "the person's exact age is not recorded"),
        (None, None, "the person's exact age is not recorded"),
    ],
)
def test_qyit_outside_its_validation_ages_shows_a_caution(
    client_for, officer, seed_version, submit, age, age_band, words
):
    screening = submit(seed_version("qyit", 2), QYIT_NO, age=age, age_band=age_band)
    page = page_of(client_for(officer), screening)
    assert 'id="validation-caution"' in page and words in page


def test_youth_short_screen_lists_every_published_validation(
    client_for, officer, seed_version, submit
):
    version = seed_version("youth-short-screen", 2)
    answers = {item.key: "no" for item in version.items.all()}
    page = page_of(client_for(officer), submit(version, answers, age=15))
    for figures in (
        "Sensitivity 92%, specificity 73%, n=108.",
        "Sensitivity 84.4%, specificity 57.5%, n=810.",
        "Sensitivity 90.9% (specificity not recorded here), n=203.",
        "Sensitivity 84.6%, specificity 53.2%, n=212.",
    ):
        assert figures in page
    assert 'id="validation-caution"' not in page  # 15 is inside the validated ages
    page = page_of(client_for(officer), submit(version, answers, age=25))
    assert "(age 25; validated ages 12–18, 11–17, 10–18, 12–17)" in page


FRONTLINE_INDICATED_V2 = {
    "in_danger_now": "no",
    "deceived_about_job": "yes",
    "deceived_about_pay": "yes",
    "excessive_hours": "yes",
    "low_or_no_pay": "yes",
    "documents_held": "yes",
    "locked_in_or_watched": "yes",
}


def test_frontline_v2_result_labels_its_rule_local_policy(
    client_for, officer, seed_version, submit
):
    screening = submit(seed_version("frontline-adult-conversation", 2), FRONTLINE_INDICATED_V2)
    assert screening.outcome == "indicated"
    page = page_of(client_for(officer), screening)
    assert "Rules of this service (local policy)" in page
    assert "did not publish or test it for a reduced set" in page
    assert page.count('<span class="badge">Local policy</span>') >= 2  # reasons + the list
    assert GRADES_NOTICE in page and "(29 of 29 strong, medium or weak grades)" in page
    assert 'id="validation-figures"' not in page  # the frontline form has no validation


def test_a_screening_pinned_to_v1_keeps_its_result_and_new_ones_use_v2(
    client_for, officer, seed_version, submit
):
    v1 = seed_version("frontline-adult-conversation", 1)
    answers = {item.key: "no" for item in v1.items.all()} | {
        "deceived_about_job": "yes",
        "deceived_about_pay_or_conditions": "yes",
        "excessive_hours": "yes",
        "low_or_no_pay": "yes",
        "threatened_at_work": "yes",
    }
    old = submit(v1, answers)
    stored = old.result
    assert old.outcome == "possible"

    call_command("load_instruments", stdout=io.StringIO())  # every seed: v2 is published now
    old.refresh_from_db()
    assert old.instrument_version_id == v1.pk and old.result == stored
    page = page_of(client_for(officer), old)
    assert "(version 1)" in page and "Possible trafficking: follow-up needed" in page
    assert GRADES_NOTICE in page  # v1 recorded no check of its grades either
    assert "did not publish or test it for a reduced set" not in page  # v2's policy only

    gate = reverse("screening:screening-gate", kwargs={"reference": old.case.reference})
    form = client_for(officer).get(gate).content.decode()
    assert 'value="frontline-adult-conversation/2" selected' in form


def test_a_list_without_grades_figures_or_policies_shows_no_such_section(
    client_for, officer, submitted
):
    assert 'id="about-this-list"' not in page_of(client_for(officer), submitted)


def test_qyit_in_another_setting_than_its_validation_shows_a_caution(
    client_for, officer, seed_version, submit
):
    version = seed_version("qyit", 2)
    page = page_of(client_for(officer), submit(version, QYIT_NO, age=20, setting="station"))
    assert 'id="setting-caution"' in page
    assert "(police station; validated in: shelter)" in page
    page = page_of(client_for(officer), submit(version, QYIT_NO, age=20, setting="shelter"))
    assert 'id="setting-caution"' not in page
