"""Accessibility in a real browser (issue 16): Deque's axe-core (axe-playwright-python, the
script bundled in its wheel) over every page of every role, with data and empty
(tests/walkthrough.py), failing on any WCAG 2.0/2.1/2.2 level A or AA violation; every page at
390 px wide without sideways scrolling (tables included); screenshots of each page at 390 and
1280 px in test-output/screenshots/a11y/ (kept by CI); and the screening wizard from the case
page to the result by keyboard alone.

One seed and one axe pass per page keep the suite fast: the data is made once, each role's
pages are visited in one browser context per width, signed in with a session cookie made by
the test client (the sign-in forms themselves are tested in test_mfa_sign_in.py)."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from screening.models import Screening
from screening.roles import Role
from tests.auth import sign_in
from tests.browser import test_screening_flow as flow
from tests.walkthrough import walkthrough_pages, walkthrough_seed

pytestmark = pytest.mark.browser

chromium = flow.chromium

SCREENSHOTS = flow.SCREENSHOTS / "a11y"
# Every success criterion of WCAG 2.0, 2.1 and 2.2 at levels A and AA that axe-core checks.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
WIDTHS = (390, 1280)


@pytest.fixture
def walkthrough(transactional_db):
    """Real commits (the live server answers from another thread)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return walkthrough_seed()


def _axe():
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        flow._unavailable("axe-playwright-python is not installed (dev extra)")
    return Axe()


def _context(chromium, base_url: str, user, width: int):
    context = chromium.new_context(viewport={"width": width, "height": 900})
    if user is not None:
        client = sign_in(Client(), user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
        )
    return context


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _violations(axe, page) -> list[str]:
    results = axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    found = []
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
        found.append(f"{violation['id']} ({violation['impact']}): {'; '.join(targets)}")
    return found


SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) wide.push('the page');
  document.querySelectorAll('.table-wrap').forEach((wrap) => {
    const caption = (wrap.querySelector('caption') || wrap).textContent.trim().slice(0, 40);
    if (wrap.scrollWidth > wrap.clientWidth + 1) wide.push('a table (' + caption + ')');
  });
  return wide;
}"""


def test_every_page_of_every_role_passes_axe_and_fits_a_phone(chromium, live_server, walkthrough):
    axe = _axe()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    by_role = defaultdict(list)
    for entry in walkthrough_pages(walkthrough):
        by_role[entry.role].append(entry)
    problems: list[str] = []
    scanned = 0
    for role, entries in by_role.items():
        user = None if role == "anonymous" else walkthrough.users[role]
        for width in WIDTHS:
            context = _context(chromium, live_server.url, user, width)
            page = context.new_page()
            for entry in entries:
                where = f"{role} · {entry.name} @ {width}px"
                response = page.goto(f"{live_server.url}{entry.url}")
                expected = 404 if entry.name == "not found" else 200
                if response is None or response.status != expected:
                    problems.append(f"{where}: status {response and response.status}")
                    continue
                if width == WIDTHS[-1]:  # one axe pass per page
                    problems += [f"{where}: {text}" for text in _violations(axe, page)]
                    scanned += 1
                else:
                    problems += [
                        f"{where}: {part} scrolls sideways" for part in page.evaluate(SIDEWAYS)
                    ]
                page.screenshot(
                    path=str(SCREENSHOTS / f"{_slug(role)}--{_slug(entry.name)}--{width}.png"),
                    full_page=True,
                )
            context.close()
    assert scanned >= 30
    assert problems == [], "\n".join(problems)


def test_the_scan_reports_a_violation(chromium, live_server, walkthrough):
    """The check can fail: an image without a text alternative and an unlabelled field."""
    axe = _axe()
    context = _context(chromium, live_server.url, walkthrough.users["officer"], 1280)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
      const main = document.querySelector('main');
      main.insertAdjacentHTML('beforeend', '<img src="/static/none.png"><input type="text">');
    }"""
    )
    found = " ".join(_violations(axe, page))
    assert "image-alt" in found and "label" in found
    context.close()


def test_an_error_summary_passes_axe(chromium, live_server, walkthrough):
    """A page in its error state: the safety gate sent untouched."""
    axe = _axe()
    context = _context(chromium, live_server.url, walkthrough.users["officer"], 1280)
    page = context.new_page()
    page.goto(f"{live_server.url}/cases/{walkthrough.case.reference}/screenings/new/")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("[data-error-summary]")
    assert page.locator("[data-error-summary] a").first.inner_text().startswith("Ask the person")
    assert _violations(axe, page) == []
    page.screenshot(path=str(SCREENSHOTS / "officer--gate-errors--1280.png"), full_page=True)
    context.close()


# --- the wizard by keyboard alone ---------------------------------------------------------

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== 'none';
}"""


def _tab_to(page, predicate: str, *, limit: int = 150) -> None:
    """Press Tab until the focused element matches `predicate` (a JS expression of `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate}); }}"):
            return
    raise AssertionError(f"Tab never reached {predicate}")


def _button(text: str) -> str:
    return f"el.tagName === 'BUTTON' && el.textContent.trim() === {text!r}"


def test_the_screening_wizard_by_keyboard_only(chromium, live_server, walkthrough):
    officer = walkthrough.users["officer"]
    context = _context(chromium, live_server.url, officer, 1280)
    page = context.new_page()
    page.goto(f"{live_server.url}/cases/{walkthrough.draft.case.reference}/")

    _tab_to(page, "el.tagName === 'A' && el.textContent.trim() === 'Start a screening'")
    assert page.evaluate(FOCUS_VISIBLE), "the focused link shows no focus indicator"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The safety gate: yes, yes (no interpreter is preselected), a setting, the default form.
    _tab_to(page, "el.id === 'id_safe_to_talk_0'")
    assert page.evaluate(FOCUS_VISIBLE), "the focused radio shows no focus indicator"
    page.keyboard.press("Space")
    _tab_to(page, "el.id === 'id_alone_0'")
    page.keyboard.press("Space")
    _tab_to(page, "el.name === 'setting'")
    page.keyboard.press("Space")
    _tab_to(page, _button("Continue"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Explain, then ask for consent')")
    _tab_to(page, "el.id === 'id_explained'")
    page.keyboard.press("Space")
    _tab_to(page, "el.id === 'id_agrees_0'")
    page.keyboard.press("Space")
    _tab_to(page, _button("Record consent and start"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    steps = int(re.search(r"of (\d+)", page.inner_text(".progress")).group(1))
    for step in range(1, steps + 1):
        page.wait_for_selector(f".progress:has-text('Step {step} of {steps}')")
        names = page.evaluate(
            """() => [...document.querySelectorAll('fieldset.question')].map(
                (q) => q.querySelector('input[type=radio]').name)"""
        )
        for name in names:
            # The first choice of each question ("Yes"); immediate danger "No" (arrow key).
            _tab_to(page, f"el.name === {name!r}")
            page.keyboard.press("ArrowDown" if name == "in_danger_now" else "Space")
        _tab_to(page, _button("Save and continue"))
        with page.expect_navigation():
            page.keyboard.press("Enter")

    page.wait_for_selector("h1:has-text('Check the answers')")
    _tab_to(page, _button("Submit screening"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#outcome-title")
    context.close()

    screening = Screening.objects.filter(case=walkthrough.draft.case).latest("pk")
    assert screening.status == Screening.Status.SUBMITTED
    assert screening.answers.get("in_danger_now") == "no"
    assert len(screening.answers) >= steps


def test_leaving_a_section_with_an_answer_not_yet_saved_asks_first(
    chromium, live_server, walkthrough
):
    context = _context(chromium, live_server.url, walkthrough.users["officer"], 1280)
    page = context.new_page()
    # The autosave never answers (a slow or lost connection).
    page.route(
        "**/step/1/",
        lambda route: (
            route.abort()
            if route.request.method == "POST" and route.request.headers.get("x-autosave")
            else route.continue_()
        ),
    )
    page.goto(f"{live_server.url}/screenings/{walkthrough.draft.pk}/step/1/")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.locator("fieldset.question input[type=radio]").first.check()
    page.click("nav a:has-text('My cases')", no_wait_after=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert "/step/1/" in page.url  # still here, the answer still on the page
    context.close()
