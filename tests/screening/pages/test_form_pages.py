"""Every form page alike (issue 16): one error summary that names each question and links to
its control; ids and labels that belong to one form even when a page holds several; an action
address that answers a reload with its page, never an empty 405; "(optional)" said once."""

import ast
from pathlib import Path

import pytest
from django import forms
from django.urls import reverse

from referrals import forms as referral_forms
from screening import forms as screening_forms
from screening.models import Consent
from tests.html import parse_page

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def gate_url(case):
    return reverse("screening:screening-gate", kwargs={"reference": case.reference})


def result_url(screening):
    return reverse("screening:screening-result", kwargs={"screening_id": screening.pk})


# --- the error summary --------------------------------------------------------------------


def test_an_empty_safety_gate_names_each_question_in_the_error_summary(
    client_for, officer, case, instrument_version
):
    # What a browser sends for an untouched gate: the preselected "no interpreter" only.
    response = client_for(officer).post(gate_url(case), {"interpreter_used": "no"})
    assert response.status_code == 400
    page = parse_page(response.content)
    assert page.summaries == 1
    texts = [text for _, text in page.summary_links]
    # Before: "This field is required." three times, no question named.
    # In the page's order, the first question first.
    assert texts[0] == "Ask the person: is it safe for you to talk now?: This field is required."
    assert len(set(texts)) == len(texts)
    for href, text in page.summary_links:
        target = href.removeprefix("#")
        assert target in page.ids, f"{text!r} links to a missing control"
        question = text.split(": ")[0]
        assert question != "This field is required."
        # The link's control is the one labelled with that question (or its first choice).
        labelled = page.labels_for(target)
        assert labelled, f"{target} has no label"


def test_an_invalid_consent_to_share_shows_one_error_summary(client_for, officer, case):
    url = reverse("screening:consent-new", kwargs={"reference": case.reference})
    response = client_for(officer).post(url, {"scope": Consent.Scope.REFERRAL_SERVICE_TYPE})
    assert response.status_code == 400
    page = parse_page(response.content)
    assert page.summaries == 1  # before: twice, the page's and the form's own
    assert any(text.startswith("Valid until: ") for _, text in page.summary_links)


def test_a_page_without_an_explicit_summary_still_names_its_errors(client_for, officer):
    """render_page collects the summary from the page's bound forms (password change passes
    none of its own)."""
    response = client_for(officer).post(reverse("screening:password-change"), {"old_password": ""})
    assert response.status_code == 400
    page = parse_page(response.content)
    assert page.summaries == 1
    assert page.summary_links and all(": " in text for _, text in page.summary_links)


# --- one id scheme ------------------------------------------------------------------------


def test_the_supervisors_result_page_labels_point_at_their_own_fields(
    client_for, supervisor, submitted
):
    page = parse_page(client_for(supervisor).get(result_url(submitted)).content)
    assert page.duplicate_ids == []
    [override_note] = [
        target for target, text in page.label_targets if text.startswith("Explain the override")
    ]
    [review_note] = [
        target for target, text in page.label_targets if text.startswith("Review note")
    ]
    assert override_note != review_note
    assert override_note.startswith("id_override-") and review_note.startswith("id_review-")


# --- post/redirect/get --------------------------------------------------------------------


def test_every_action_address_answers_a_get_with_the_page_its_form_is_on(
    client_for, supervisor, officer, submitted
):
    case = submitted.case
    consent = case.consents.first()
    case_page = reverse("screening:case-detail", kwargs={"reference": case.reference})
    pages = {
        reverse("screening:consent-new", kwargs={"reference": case.reference}): case_page,
        reverse(
            "screening:consent-withdraw",
            kwargs={"reference": case.reference, "consent_id": consent.pk},
        ): case_page,
        reverse("screening:case-legal-hold", kwargs={"reference": case.reference}): case_page,
        reverse("screening:screening-override", kwargs={"screening_id": submitted.pk}): (
            result_url(submitted)
        ),
        reverse("screening:screening-mark-reviewed", kwargs={"screening_id": submitted.pk}): (
            result_url(submitted)
        ),
        reverse("screening:break-glass-review", kwargs={"grant_id": 1}): reverse(
            "screening:break-glass-reviews"
        ),
        reverse("screening:staff-unlock", kwargs={"member_id": officer.pk}): reverse(
            "screening:agency-lockouts"
        ),
        reverse("mfa:backup-codes"): reverse("mfa:overview"),
    }
    client = client_for(supervisor)
    for action, page in pages.items():
        response = client.get(action)
        assert response.status_code == 302, action  # before: an empty 405
        assert response["Location"] == page, action
        assert client.get(page).status_code in (200, 403), page  # lockouts: administrators
    assert case.consents.filter(withdrawn_at__isnull=False).count() == 0  # a GET changed nothing


def test_a_failed_override_shows_its_errors_and_a_reload_of_its_address_shows_the_result(
    client_for, supervisor, submitted
):
    client = client_for(supervisor)
    action = reverse("screening:screening-override", kwargs={"screening_id": submitted.pk})
    failed = client.post(action, {"override-outcome": "screen_negative"})
    assert failed.status_code == 400
    assert any(
        text.startswith("Explain the override: ")
        for _, text in parse_page(failed.content).summary_links
    )
    reloaded = client.get(action, follow=True)
    assert reloaded.status_code == 200
    assert reloaded.redirect_chain == [(result_url(submitted), 302)]


def test_no_web_view_answers_a_get_with_a_bare_405():
    """Every POST-only page view goes through `post_only` (Django's require_POST answers a GET
    with an empty 405); the provider callback is an API, not a page."""
    offenders = []
    for path in [*ROOT.glob("screening/views/*.py"), *ROOT.glob("referrals/views/*.py")]:
        if path.name == "callback.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name) and node.id in ("require_POST", "require_http_methods"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# --- "(optional)" once --------------------------------------------------------------------


def _form_classes():
    for module in (screening_forms, referral_forms):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm):
                yield value


def test_no_form_label_says_optional_itself():
    """The field include adds "(optional)" to every field that is not required; a label that
    says it too reads "(optional) (optional)"."""
    saying = [
        f"{form.__name__}.{name}"
        for form in _form_classes()
        for name, field in form.base_fields.items()
        if "(optional)" in str(field.label or "")
    ]
    assert saying == []


def test_the_consent_step_says_optional_once(client_for, officer, case, instrument_version):
    client = client_for(officer)
    client.post(
        gate_url(case),
        {
            "instrument_version": "test-flag-screen/1",
            "setting": "station",
            "safe_to_talk": "yes",
            "alone": "yes",
            "interpreter_used": "no",
        },
    )
    page = client.get(reverse("screening:screening-consent", kwargs={"reference": case.reference}))
    text = parse_page(page.content).text
    assert "Witness (their role) (optional)" in text
    assert "(optional) (optional)" not in text


# --- the wizard's own advice and warnings ---------------------------------------------------


def _through_the_gate(client, case):
    client.post(
        gate_url(case),
        {
            "instrument_version": "test-flag-screen/1",
            "setting": "station",
            "safe_to_talk": "yes",
            "alone": "yes",
            "interpreter_used": "no",
        },
    )
    return reverse("screening:screening-consent", kwargs={"reference": case.reference})


def test_a_person_who_does_not_agree_gets_advice_of_its_own(
    client_for, officer, case, instrument_version
):
    client = client_for(officer)
    consent_url = _through_the_gate(client, case)
    declined = parse_page(
        client.post(consent_url, {"explained": "on", "agrees": "no", "method": "verbal"}).content
    ).text
    not_safe = parse_page(
        client.post(
            gate_url(case),
            {
                "instrument_version": "test-flag-screen/1",
                "setting": "station",
                "safe_to_talk": "no",
                "alone": "yes",
                "interpreter_used": "no",
            },
        ).content
    ).text
    assert "The person does not agree" in declined
    assert "do not make help depend on answering" in declined
    assert "can change their mind" in declined
    # Before: the "not safe" advice, telling the officer to arrange to talk again.
    assert "agree a time and a safe way to talk again" not in declined
    assert "agree a time and a safe way to talk again" in not_safe
    assert not case.screenings.exists()


def test_a_section_page_says_how_to_leave_without_losing_answers(client_for, officer, draft):
    """Without JavaScript nothing is saved until a button is pressed: the page says so next
    to the questions (with it, the browser asks before leaving with answers unsaved)."""
    url = reverse("screening:screening-section", kwargs={"screening_id": draft.pk, "step": 1})
    text = parse_page(client_for(officer).get(url).content).text
    assert "To leave this screening, use Save and stop for now" in text
    script = (ROOT / "static" / "screening.js").read_text()
    assert "beforeunload" in script
