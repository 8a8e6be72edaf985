"""The result page leads with a plain summary, shows the ILO/EC dimensions as a picture with a
text equivalent, states the ILO/EC rule once and folds the answers away (issue 16); the other
instruments keep working, with the summary first and a bar for their counting rules."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from indicators.engine import load_instrument_file
from indicators.models import InstrumentVersion
from screening import services
from tests.ilo_ec_screening import (
    OPEN,
    YES,
    ilo_ec_answers,
    ilo_ec_screening_submit,
    ilo_ec_version,
)

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "instruments"
_VOID = frozenset({"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col", "area"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    ancestors: list[tuple[str, dict[str, str]]]
    words: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.words).split())

    def inside(self, tag: str) -> bool:
        return any(name == tag for name, _ in self.ancestors)


class _Elements(HTMLParser):
    """Every element of a page with its text and its ancestors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        element = Element(
            tag, {k: v or "" for k, v in attrs}, [(e.tag, e.attrs) for e in self._open]
        )
        self.elements.append(element)
        for parent in self._open:  # an element's start separates words, as a browser shows it
            parent.words.append(" ")
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element.words.append(data)


def elements(html: str) -> list[Element]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def by_id(html: str, element_id: str) -> Element:
    found = [element for element in elements(html) if element.attrs.get("id") == element_id]
    assert len(found) == 1, f"{len(found)} elements with id {element_id}"
    return found[0]


def by_class(html: str, name: str) -> list[Element]:
    return [e for e in elements(html) if name in e.attrs.get("class", "").split()]


def result_page(client, screening) -> str:
    url = reverse("screening:screening-result", kwargs={"screening_id": screening.pk})
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def ilo_ec(officer):
    version = ilo_ec_version()
    return ilo_ec_screening_submit(officer=officer, version=version)


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
    def run(version, answers, *, age=30):
        case = services.case_create(created_by=officer, age=age)
        services.consent_record(case=case, by=officer, scope="screening", method="verbal")
        screening = services.screening_start(
            case=case,
            by=officer,
            instrument_version=version,
            setting="shelter",
            safe_to_talk="yes",
            alone="yes",
        )
        screening = services.screening_save_answers(
            screening=screening, by=officer, answers=answers, expected_version=screening.version
        )
        return services.screening_submit(screening=screening, by=officer)

    return run


ILO_SUMMARY = (
    "3 of 6 ILO/EC dimensions met: deceptive recruitment, exploitation and coercion at "
    "destination. 1 more could still be met. 11 of 67 questions answered yes, 4 not known or "
    "not given."
)


def test_the_ilo_ec_result_leads_with_a_summary_in_plain_words(client_for, officer, ilo_ec):
    assert ilo_ec.outcome == "indicated"
    page = result_page(client_for(officer), ilo_ec)
    summary = by_id(page, "result-summary")
    assert summary.text == ILO_SUMMARY
    # First under the outcome's heading, before the picture, the actions and the answers.
    outcome_paragraphs = [e for e in elements(page) if e.tag == "p" and e.inside("section")]
    assert outcome_paragraphs[0].attrs.get("id") == "result-summary"
    position = page.index('id="result-summary"')
    for later in ('id="actions-title"', 'id="dimension-picture"', 'id="answer-details"'):
        assert position < page.index(later), later


def test_the_step_1_rule_text_appears_once(client_for, officer, ilo_ec):
    definition = load_instrument_file(SEEDS / "ilo-ec-adult-labour.v2.yaml")
    rule_text = definition.rule("ilo_dimensions").text.en
    page = result_page(client_for(officer), ilo_ec)
    # The engine's stored reasons repeat it for every dimension; the page states it once.
    assert sum(rule_text in reason["text"] for reason in ilo_ec.result["reasons"]) >= 3
    assert html.unescape(page).count(rule_text) == 1
    assert page.count("Step 1 of the ILO/EC rule") == 1
    assert "A dimension is met by two strong indicators; or one strong and one medium or weak" in (
        by_id(page, "dimension-picture").text
    )


@pytest.mark.parametrize(
    ("dimension", "status", "named"),
    [
        (
            "deceptive_recruitment",
            "Met",
            [
                "Strong Deceived about job nature",
                "Medium Deceived about travel",
                "Medium Deceived about pay",
            ],
        ),
        ("coercive_recruitment", "Could be met", ["Medium Recruitment debt bondage"]),
        (
            "recruitment_abuse_of_vulnerability",
            "Not met",
            ["Medium Economic pressure at recruitment"],
        ),
        (
            "exploitation",
            "Met",
            ["Strong Excessive hours", "Medium Bad living conditions", "Medium Low or no pay"],
        ),
        (
            "coercion_at_destination",
            "Met",
            ["Strong Documents kept at destination", "Strong Debt bondage at destination"],
        ),
        ("abuse_of_vulnerability_at_destination", "Not met", ["Medium Dependent on employer"]),
    ],
)
def test_each_dimension_names_its_yes_indicators_with_their_strength(
    client_for, officer, ilo_ec, dimension, status, named
):
    page = result_page(client_for(officer), ilo_ec)
    card = by_id(page, f"dimension-{dimension}")
    assert card.text.split(maxsplit=1)[1].startswith(status)
    yes_items = [
        e.text
        for e in elements(page)
        if e.tag == "li"
        and (card.tag, card.attrs) in e.ancestors
        and any("yes-items" in attrs.get("class", "") for _, attrs in e.ancestors)
    ]
    assert yes_items == named


def test_a_met_dimension_says_which_combination_met_it(client_for, officer, ilo_ec):
    page = result_page(client_for(officer), ilo_ec)
    assert "Met: two strong indicators." in by_id(page, "dimension-coercion_at_destination").text
    assert "Met: one strong and one medium or weak indicator." in (
        by_id(page, "dimension-deceptive_recruitment").text
    )
    assert "strong:1+medium_or_weak:1" not in page


def test_the_picture_has_a_text_equivalent(client_for, officer, ilo_ec):
    page = result_page(client_for(officer), ilo_ec)
    # The pips are drawn for the eye only; each row says its counts in words ...
    pips = by_class(page, "pips")
    assert pips and all(e.attrs.get("aria-hidden") == "true" for e in pips)
    card = by_id(page, "dimension-coercion_at_destination")
    for words in ("Strong 2 of 4 yes", "Medium 0 of 10 yes, 1 open", "Weak 0 of 1 yes"):
        assert words in card.text
    # ... and a table gives every dimension's numbers.
    rows = [
        e.text for e in elements(page) if e.tag == "tr" and e.inside("table") and e.inside("tbody")
    ]
    assert rows == [
        "Deceptive recruitment Met 1 of 1 2 of 8 0 of 1",
        "Coercive recruitment Could be met (2 open) 0 of 1 1 of 9 — no indicator of this grade",
        "Recruitment by abuse of vulnerability Not met — no indicator of this grade 1 of 14 0 of 2",
        "Exploitation Met 1 of 1 2 of 7 0 of 1",
        "Coercion at destination Met (1 open) 2 of 4 0 of 10 0 of 1",
        "Abuse of vulnerability at destination Not met (1 open) — no indicator of this grade "
        "1 of 5 0 of 2",
    ]


def test_status_is_never_told_by_colour_alone(client_for, officer, ilo_ec):
    page = result_page(client_for(officer), ilo_ec)
    marks = {
        card.attrs["id"]: card.text.split()[0]
        for card in by_class(page, "dimension")
        if card.tag == "li"
    }
    assert marks["dimension-exploitation"] == "✓"
    assert marks["dimension-coercive_recruitment"] == "?"
    assert marks["dimension-recruitment_abuse_of_vulnerability"] == "–"


def test_the_answer_details_are_folded_away(client_for, officer, ilo_ec):
    page = result_page(client_for(officer), ilo_ec)
    answer_lists = by_class(page, "reason-items")
    assert answer_lists, "the answers behind the outcome are on the page"
    assert all(answers.inside("details") for answers in answer_lists)
    assert "<details open" not in page and " open>" not in page
    # The questions as asked are there, folded, with their answers.
    prompt = "Do you work very long hours, or nearly every day, without proper rest?"
    assert prompt in by_id(page, "answer-details").text


def test_dimension_reasons_are_short(client_for, officer, ilo_ec):
    page = result_page(client_for(officer), ilo_ec)
    reasons = by_id(page, "answer-details").text
    assert "Exploitation: met." in reasons
    assert "indicator(s) present" not in reasons


def test_an_open_ilo_ec_result_says_what_could_change_it(client_for, officer):
    version = ilo_ec_version()
    answers = ilo_ec_answers(version)
    # Exploitation rests on one strong "yes" and open medium indicators.
    answers.update({"low_or_no_pay": "unknown", "bad_living_conditions": "unknown"})
    screening = ilo_ec_screening_submit(officer=officer, version=version, answers=answers)
    assert screening.outcome == "indeterminate"
    summary = by_id(result_page(client_for(officer), screening), "result-summary").text
    assert summary.startswith("2 of 6 ILO/EC dimensions met: deceptive recruitment and coercion")
    assert "2 more could still be met." in summary
    assert "Open questions could change it: the result lies between" in summary


def test_an_ilo_ec_v1_result_gets_the_picture_too(client_for, officer):
    version = ilo_ec_version(number=1)
    screening = ilo_ec_screening_submit(officer=officer, version=version)
    page = result_page(client_for(officer), screening)
    assert by_id(page, "result-summary").text == ILO_SUMMARY
    assert 'id="dimension-exploitation"' in page


def test_the_realistic_answers_are_what_the_tests_say(ilo_ec):
    assert sum(answer == "yes" for answer in ilo_ec.answers.values()) == len(YES)
    assert all(ilo_ec.answers[key] == value for key, value in OPEN.items())


# --- the other instruments -------------------------------------------------------------------


QYIT_ANSWERS = {
    "felt_unsafe_where_working": "no",
    "afraid_to_leave_threats": "yes",
    "something_in_exchange_for_sex": "unknown",
    "earnings_kept_by_someone": "no",
}


def test_qyit_leads_with_the_summary_and_shows_its_count_as_a_bar(
    client_for, officer, seed_version, submit
):
    screening = submit(seed_version("qyit", 2), QYIT_ANSWERS, age=20)
    page = result_page(client_for(officer), screening)
    assert by_id(page, "result-summary").text == (
        "1 of 4 questions answered yes, 1 not known or not given."
    )
    assert page.index('id="result-summary"') < page.index('id="rule-bars"')
    bar = by_id(page, "rule-bar-one_or_more_yes")
    assert "1 yes, 1 needed; 1 open: met." in bar.text
    drawn = [e.attrs["class"] for e in elements(page) if e.inside("li") and e.tag == "span"]
    assert drawn[drawn.index("pip pip-yes") :][:3] == [
        "pip pip-yes",
        "threshold-mark",
        "pip pip-open",
    ]
    assert 'id="dimension-picture"' not in page


def test_the_forced_labour_list_shows_both_counts(client_for, officer, seed_version, submit):
    version = seed_version("ilo-forced-labour-11", 1)
    answers = {item.key: "no" for item in version.items.all() if item.response_type == "yes_no"}
    first, second = list(answers)[:2]
    answers.update({first: "yes", second: "yes"})
    page = result_page(client_for(officer), submit(version, answers))
    assert "2 yes, 1 needed: met." in by_id(page, "rule-bar-any_indicator").text
    assert "2 yes, 3 needed: not met." in by_id(page, "rule-bar-three_or_more").text


def test_the_premises_checklist_shows_its_score_against_its_bands(
    client_for, officer, seed_version, submit
):
    version = seed_version("imb-premises", 1)
    answers = {item.key: "no" for item in version.items.all() if item.response_type == "yes_no"}
    first = next(iter(answers))
    answers[first] = "yes"
    page = result_page(client_for(officer), submit(version, answers))
    bar = by_id(page, "rule-bar-premises_score")
    assert "The red lines mark where the bands start: medium from 4; high from 8." in bar.text
    svg = [e for e in elements(page) if e.tag == "svg"]
    assert len(svg) == 1 and svg[0].attrs["aria-hidden"] == "true"
    assert "style=" not in page[page.index("<svg") : page.index("</svg>")]


def test_the_hotline_triage_has_the_summary_and_no_bar(client_for, officer, seed_version, submit):
    version = seed_version("hotline-triage", 1)
    answers = {item.key: "no" for item in version.items.all() if item.response_type == "yes_no"}
    page = result_page(client_for(officer), submit(version, answers))
    assert by_id(page, "result-summary").text.startswith("0 of ")
    assert 'id="rule-bars"' not in page and 'id="dimension-picture"' not in page


def test_the_youth_short_screen_has_the_summary_first(client_for, officer, seed_version, submit):
    version = seed_version("youth-short-screen", 2)
    answers = {item.key: "no" for item in version.items.all()}
    page = result_page(client_for(officer), submit(version, answers, age=15))
    summary = by_id(page, "result-summary").text
    assert summary.startswith("The person is under 18: child welfare must be told now.")
    assert page.index('id="result-summary"') < page.index('id="mandatory-report"')


def test_the_frontline_conversation_gets_the_dimension_picture(
    client_for, officer, seed_version, submit
):
    version = seed_version("frontline-adult-conversation", 2)
    answers = {
        "in_danger_now": "no",
        "deceived_about_job": "yes",
        "deceived_about_pay": "yes",
        "excessive_hours": "yes",
        "low_or_no_pay": "yes",
        "documents_held": "yes",
        "locked_in_or_watched": "yes",
    }
    page = result_page(client_for(officer), submit(version, answers))
    assert by_id(page, "result-summary").text.startswith("3 of 6 ILO/EC dimensions met:")
    assert "Strong Documents held" in by_id(page, "dimension-coercion_at_destination").text


def test_a_stored_result_without_dimensions_still_shows(client_for, officer, ilo_ec):
    """A result stored by an older engine, or edited by hand in a fixture, lacks the picture's
    data: the page says what it can without it."""
    result = dict(ilo_ec.result)
    del result["dimensions"]
    ilo_ec.result = result
    ilo_ec.save(update_fields=["result"])
    page = result_page(client_for(officer), ilo_ec)
    assert 'id="dimension-picture"' not in page
    assert by_id(page, "result-summary").text.startswith("11 of 67 questions answered yes")
