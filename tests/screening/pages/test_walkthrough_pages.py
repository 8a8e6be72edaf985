"""Every page of every role, with data and empty (tests/walkthrough.py), read as a person
reads it: no stored code or internal name shown where words belong ("legal_aid",
"proposed → blocked_needs_consent", "indicated_core_services", a 32-character hex key, "high"
alone in a cell), ids unique, every label pointing at a control that exists."""

import re

import pytest

from config.labels import known_codes, label
from tests.auth import sign_in
from tests.html import parse_page
from tests.walkthrough import walkthrough_pages, walkthrough_seed

pytestmark = pytest.mark.django_db

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
HEX_KEY = re.compile(r"\b[0-9a-f]{16,}\b")
# Codes that are also plain words a sentence may hold; alone in a cell they are still codes.
STANDALONE = {code for codes in known_codes().values() for code in codes if not code.isdigit()}


def _outcome_keys() -> set[str]:
    """The outcome keys of the instruments loaded: shown alone, they are codes too."""
    from indicators.models import InstrumentVersion

    return {
        outcome["key"]
        for definition in InstrumentVersion.objects.values_list("definition", flat=True)
        for outcome in definition.get("outcomes", ())
    }


def raw_codes(text_nodes: list[str], extra: set[str] = frozenset()) -> list[str]:
    found = []
    for node in text_nodes:
        found += SNAKE_CASE.findall(node)
        found += HEX_KEY.findall(node)
        bare = node.strip(" ()·,.:")
        if (bare in STANDALONE or bare in extra) and bare not in found:
            found.append(bare)
    return found


@pytest.fixture
def seed():
    return walkthrough_seed()


def test_the_seed_holds_what_the_pages_need(seed):
    assert {"blocked_needs_consent", "pending_approval", "delivered_sent", "delivered_failed"} <= (
        set(seed.referrals)
    )
    assert seed.submitted.outcome == "indicated"


def test_every_page_of_every_role_shows_words_not_codes(seed, client):
    problems = []
    clients = {}
    outcomes = _outcome_keys()
    assert "indicated" in outcomes
    for page in walkthrough_pages(seed):
        if page.role not in clients:
            clients[page.role] = (
                client
                if page.role == "anonymous"
                else sign_in(type(client)(), seed.users[page.role])
            )
        response = clients[page.role].get(page.url)
        where = f"{page.role} · {page.name}"
        expected = 404 if page.name == "not found" else 200
        if response.status_code != expected:
            problems.append(f"{where}: status {response.status_code}")
            continue
        parsed = parse_page(response.content)
        codes = raw_codes(parsed.nodes, outcomes)
        if codes:
            problems.append(f"{where}: shows codes {sorted(set(codes))}")
        if parsed.duplicate_ids:
            problems.append(f"{where}: duplicate ids {parsed.duplicate_ids}")
        missing = sorted({target for target, _ in parsed.label_targets} - set(parsed.ids))
        if missing:
            problems.append(f"{where}: labels for missing ids {missing}")
    assert problems == [], "\n".join(problems)


def test_the_scan_finds_the_codes_it_looks_for():
    """The check itself can fail: each finding of the walk-through is one it reports."""
    assert raw_codes(["(legal_aid)"]) == ["legal_aid"]
    assert raw_codes(["proposed → blocked_needs_consent"]) == ["blocked_needs_consent"]
    assert raw_codes(["indicated_core_services"]) == ["indicated_core_services"]
    assert raw_codes(["0f3c9a1b2c3d4e5f60718293a4b5c6d7"]) == ["0f3c9a1b2c3d4e5f60718293a4b5c6d7"]
    assert raw_codes(["high"]) == ["high"] and raw_codes(["labour"]) == ["labour"]
    assert raw_codes(["Labour rights", "High", "Shelter"]) == []


def test_one_place_names_each_code(seed):
    assert label("legal_aid", "service_type") == "Legal aid"
    assert label("blocked_needs_consent", "referral_status") == "Blocked: needs consent"
    assert label(2, "priority") == label("high", "priority") == "High"
    assert label("adult", "age_band") == "18 or over"
    assert label("labour", "exploitation_type") == "Labour"
    assert label("safe-harbour-shelter", "provider") == "Safe Harbour Shelter"
    assert label("service_type", "packet_field") == "Service"
    assert label("indicated_core_services", "routing_rule").startswith("Trafficking indicated")
    assert label("0f3c9a1b2c3d4e5f60718293a4b5c6d7", "referral_reference") == "R-0F3C-9A1B"
    assert label("es", "language") == "Spanish"
    # A code nobody labelled yet still reads as words.
    assert label("brand_new_service", "service_type") == "Brand new service"
