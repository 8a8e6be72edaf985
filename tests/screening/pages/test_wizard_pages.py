"""The screening wizard through the Django test client: safety gate, consent, sections,
review, submit; and what must not happen (unsafe → nothing recorded, bad input → nothing
saved, another agency → 404, submitted → read-only)."""

import pytest
from django.urls import reverse

from screening import services
from screening.models import Consent, Screening

pytestmark = pytest.mark.django_db

FLAG_SCREEN = "test-flag-screen/1"
SAFE_GATE = {
    "instrument_version": FLAG_SCREEN,
    "setting": "station",
    "safe_to_talk": "yes",
    "alone": "yes",
    "interpreter_used": "no",
}
CONSENT = {"explained": "on", "agrees": "yes", "method": "verbal", "witness": ""}


def gate_url(case):
    return reverse("screening:screening-gate", kwargs={"reference": case.reference})


def consent_url(case):
    return reverse("screening:screening-consent", kwargs={"reference": case.reference})


def step_url(screening, step):
    return reverse(
        "screening:screening-section", kwargs={"screening_id": screening.pk, "step": step}
    )


def review_url(screening):
    return reverse("screening:screening-review", kwargs={"screening_id": screening.pk})


def result_url(screening):
    return reverse("screening:screening-result", kwargs={"screening_id": screening.pk})


def test_a_whole_screening_from_gate_to_result(client_for, officer, case, instrument_version):
    client = client_for(officer)

    gate = client.get(gate_url(case))
    assert gate.status_code == 200
    assert "Is it safe for you to talk now?".lower() in gate.content.decode().lower()
    response = client.post(gate_url(case), SAFE_GATE)
    assert response.status_code == 302 and response["Location"] == consent_url(case)
    assert not Screening.objects.exists()  # nothing is recorded before consent

    explanation = client.get(consent_url(case)).content.decode()
    assert "You do not have to tell me anything" in explanation
    assert "child welfare" in explanation
    response = client.post(consent_url(case), CONSENT)
    screening = Screening.objects.get()
    assert response["Location"] == step_url(screening, 1)
    consent = Consent.objects.get()
    assert screening.consent == consent and consent.scope == "screening"
    assert screening.safe_to_talk == "yes" and screening.setting == "station"

    page = client.get(step_url(screening, 1)).content.decode()
    assert "Step 1 of 2" in page
    assert "Have you ever run away?" in page
    assert "Why we ask" in page and "Running away is a known risk factor." in page
    # Every question offers "don't know" and "prefer not to say".
    assert page.count('value="unknown"') == 3 and page.count('value="declined"') == 3
    assert "Prefer not to say" in page and "Don&#x27;t know" in page
    assert "<legend" in page and "data-quick-exit" in page

    response = client.post(
        step_url(screening, 1),
        {
            "_version": 1,
            "_action": "next",
            "ran_away": "yes",
            "police_contact": "yes",
            "injury": "unknown",
        },
    )
    assert response["Location"] == step_url(screening, 2)
    response = client.post(
        step_url(screening, 2),
        {"_version": 2, "_action": "next", "in_danger_now": "no", "sleeping_place": "declined"},
    )
    assert response["Location"] == review_url(screening)
    screening.refresh_from_db()
    assert screening.answers == {
        "ran_away": "yes",
        "police_contact": "yes",
        "injury": "unknown",
        "in_danger_now": "no",
        "sleeping_place": "declined",
    }

    review = client.get(review_url(screening)).content.decode()
    assert "Have you ever been badly hurt?" in review and "Don&#x27;t know" in review
    assert step_url(screening, 2) in review  # the edit link

    response = client.post(review_url(screening), {"_version": screening.version})
    assert response["Location"] == result_url(screening)
    result = client.get(result_url(screening)).content.decode()
    assert "Screen positive" in result
    assert "The tool supports your decision; it does not make it." in result
    assert "Suggested referrals" in result

    # Submitted: the wizard is read-only and sends the worker to the result.
    again = client.get(step_url(screening, 1), follow=True)
    assert again.redirect_chain[-1][0] == result_url(screening)
    assert "submitted screenings cannot be edited" in again.content.decode()
    assert client.get(review_url(screening))["Location"] == result_url(screening)


def test_back_and_stop_buttons_save_too(client_for, officer, draft):
    client = client_for(officer)
    response = client.post(
        step_url(draft, 2), {"_version": 1, "_action": "back", "in_danger_now": "no"}
    )
    assert response["Location"] == step_url(draft, 1)
    response = client.post(step_url(draft, 1), {"_version": 2, "_action": "stop", "injury": "no"})
    assert response["Location"] == f"/cases/{draft.case.reference}/"
    draft.refresh_from_db()
    assert draft.answers == {"in_danger_now": "no", "injury": "no"}


@pytest.mark.parametrize(
    "answers",
    [{"safe_to_talk": "no"}, {"alone": "no"}, {"safe_to_talk": "no", "alone": "no"}],
)
def test_an_unsafe_gate_stops_calmly_and_records_nothing(
    client_for, officer, case, instrument_version, answers
):
    client = client_for(officer)
    response = client.post(gate_url(case), {**SAFE_GATE, **answers})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop here for now" in page
    assert "nothing has been recorded" in page.lower() or "stop here" in page.lower()
    assert not Screening.objects.exists() and not Consent.objects.exists()
    # And the consent step does not open without a gate that said go.
    assert client.get(consent_url(case))["Location"] == gate_url(case)


def test_a_dependent_interpreter_is_refused_at_the_gate(
    client_for, officer, case, instrument_version
):
    response = client_for(officer).post(
        gate_url(case),
        {
            **SAFE_GATE,
            "interpreter_used": "yes",
            "interpreter_independent": "no",
            "interpreter_language": "es",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Use an independent interpreter" in page
    assert 'href="#id_interpreter_independent_0"' in page


def test_a_person_who_does_not_agree_is_not_screened(client_for, officer, case, instrument_version):
    client = client_for(officer)
    client.post(gate_url(case), SAFE_GATE)
    response = client.post(consent_url(case), {**CONSENT, "agrees": "no"})
    assert response.status_code == 200
    assert "does not want to answer questions" in response.content.decode()
    assert not Consent.objects.exists() and not Screening.objects.exists()


def test_consent_without_the_explanation_is_an_error(client_for, officer, case, instrument_version):
    client = client_for(officer)
    client.post(gate_url(case), SAFE_GATE)
    response = client.post(consent_url(case), {**CONSENT, "explained": ""})
    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_the_interpreter_is_recorded_on_consent_and_screening(
    client_for, officer, case, instrument_version
):
    client = client_for(officer)
    client.post(
        gate_url(case),
        {
            **SAFE_GATE,
            "interpreter_used": "yes",
            "interpreter_independent": "yes",
            "interpreter_language": "es",
        },
    )
    client.post(consent_url(case), {**CONSENT, "method": "written", "witness": "duty nurse"})
    screening = Screening.objects.get()
    assert screening.interpreter_used and screening.interpreter_independent
    assert screening.consent.interpreter_language == "es"
    assert screening.consent.method == "written" and screening.consent.witness == "duty nurse"


@pytest.mark.parametrize(
    "posted, message",
    [
        ({"ran_away": "yes", "made_up_key": "yes"}, "is not a question on this page"),
        ({"ran_away": "yes", "in_danger_now": "yes"}, "is not a question on this page"),
        ({"ran_away": "maybe"}, "Select a valid choice"),
    ],
)
def test_bad_answers_save_nothing(client_for, officer, draft, posted, message):
    response = client_for(officer).post(step_url(draft, 1), {"_version": 1, **posted})
    assert response.status_code == 400
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.answers == {} and draft.version == 1


def test_a_stale_version_is_a_conflict_and_saves_nothing(client_for, officer, draft):
    services.screening_save_answers(
        screening=draft, by=officer, answers={"injury": "no"}, expected_version=1
    )
    response = client_for(officer).post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"})
    assert response.status_code == 409
    assert "saved since you opened this page, by a colleague or by you on another device" in (
        response.content.decode()
    )
    draft.refresh_from_db()
    assert draft.answers == {"injury": "no"}


def test_a_conflict_with_the_same_browsers_other_tab_says_so(client_for, officer, draft):
    """Before: "Someone else saved this screening" when it was the same person's other tab."""
    client = client_for(officer)
    first_tab = client.post(step_url(draft, 1), {"_version": 1, "injury": "no"})
    assert first_tab.status_code == 302
    # The second tab was opened at version 1, before the first tab saved.
    second_tab = client.post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"})
    assert second_tab.status_code == 409
    page = second_tab.content.decode()
    assert "You saved this screening in another tab or window" in page
    assert "Someone else" not in page and "by a colleague" not in page
    draft.refresh_from_db()
    assert draft.answers == {"injury": "no"}


def test_withdrawn_consent_stops_saving(client_for, officer, draft, screening_consent):
    services.consent_withdraw(consent=screening_consent, by=officer)
    response = client_for(officer).post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"})
    assert response.status_code == 400
    assert "consent to this screening is no longer active" in response.content.decode()
    draft.refresh_from_db()
    assert draft.answers == {}


def test_autosave_answers_with_json(client_for, officer, draft):
    client = client_for(officer)
    response = client.post(
        step_url(draft, 1), {"_version": 1, "ran_away": "no"}, HTTP_X_AUTOSAVE="1"
    )
    assert response.status_code == 200
    assert response.json() == {"saved": True, "version": 2}
    bad = client.post(step_url(draft, 1), {"_version": 2, "nope": "yes"}, HTTP_X_AUTOSAVE="1")
    assert bad.status_code == 400 and bad.json()["saved"] is False
    draft.refresh_from_db()
    assert draft.answers == {"ran_away": "no"}


def test_a_step_outside_the_instrument_is_404(client_for, officer, draft):
    assert client_for(officer).get(step_url(draft, 3)).status_code == 404
    assert client_for(officer).get(step_url(draft, 0)).status_code == 404


def test_wizard_pages_need_login(client, case, draft):
    for url in (gate_url(case), consent_url(case), step_url(draft, 1), review_url(draft)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"})
    draft.refresh_from_db()
    assert draft.answers == {}


def test_another_agencys_screening_is_404(client_for, outsider, case, draft):
    client = client_for(outsider)
    assert client.get(gate_url(case)).status_code == 404
    assert client.post(gate_url(case), SAFE_GATE).status_code == 404
    assert client.get(step_url(draft, 1)).status_code == 404
    assert client.post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"}).status_code == 404
    assert client.get(review_url(draft)).status_code == 404
    assert client.post(review_url(draft), {"_version": 1}).status_code == 404
    draft.refresh_from_db()
    assert draft.answers == {} and draft.status == "draft"


def test_a_shared_agency_cannot_fill_in_a_screening(
    client_for, supervisor, outsider, other_agency, case, draft
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    client = client_for(outsider)
    assert client.get(step_url(draft, 1)).status_code == 403
    assert client.post(step_url(draft, 1), {"_version": 1, "ran_away": "yes"}).status_code == 403


def test_submitting_twice_gives_one_result(client_for, officer, draft):
    client = client_for(officer)
    first = client.post(review_url(draft), {"_version": 1})
    second = client.post(review_url(draft), {"_version": 1})
    assert first["Location"] == second["Location"] == result_url(draft)
    assert Screening.objects.get().status == "submitted"


def test_the_question_language_can_be_switched(
    client_for, officer, case, screening_consent, frontline_version
):
    screening = services.screening_start(
        case=case,
        by=officer,
        instrument_version=frontline_version,
        setting="clinic",
        safe_to_talk="yes",
        alone="yes",
    )
    client = client_for(officer)
    english = client.get(step_url(screening, 1)).content.decode()
    assert "Do you feel you are in danger right now?" in english
    assert "Step 1 of 7" in english
    assert 'href="?lang=es"' in english

    spanish = client.get(step_url(screening, 1) + "?lang=es").content.decode()
    assert "¿Siente que está en peligro en este momento?" in spanish
    assert "Seguridad y cómo se encuentra ahora" in spanish
    assert "La seguridad inmediata va antes que cualquier otra pregunta." in spanish
    assert "Prefiere no decirlo" in spanish and "No sabe" in spanish
    assert 'lang="es"' in spanish

    # Remembered for this screening; a language the instrument lacks is ignored.
    assert "Cómo llegó a este trabajo" in client.get(step_url(screening, 2)).content.decode()
    still = client.get(step_url(screening, 1) + "?lang=fr").content.decode()
    assert "¿Siente que está en peligro en este momento?" in still
    back = client.get(step_url(screening, 1) + "?lang=en").content.decode()
    assert "Do you feel you are in danger right now?" in back


def test_an_interpreter_language_the_instrument_has_is_the_default(
    client_for, officer, case, frontline_version
):
    client = client_for(officer)
    client.post(
        gate_url(case),
        {
            **SAFE_GATE,
            "instrument_version": "frontline-adult-conversation/1",
            "interpreter_used": "yes",
            "interpreter_independent": "yes",
            "interpreter_language": "es",
        },
    )
    response = client.post(consent_url(case), CONSENT, follow=True)
    assert "¿Siente que está en peligro en este momento?" in response.content.decode()
