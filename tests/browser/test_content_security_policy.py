"""The Content-Security-Policy and Permissions-Policy break nothing, in a real browser: the main
pages load with no policy violation in the console (Chromium reports every blocked inline
script or style, every blocked resource and every unknown Permissions-Policy feature there),
and what the scripts do still works: autosave, the Copy button, Swagger UI, and the quick exit
to a site of another origin (form-action is applied to the redirect after the form post)."""

import pytest

from screening import services
from screening.roles import Role
from tests.browser import test_screening_flow as flow
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# The screening flow's fixtures: a headless Chromium, and a signed-up frontline officer.
chromium = flow.chromium
frontline_officer = flow.frontline_officer

# Chromium logs a violation as a console error; the event listener says it a second way, in
# case a message's wording changes.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("securitypolicyviolation: " + event.violatedDirective + " " + event.blockedURI);
});
"""
POLICY_WORDS = (
    "Content Security Policy",
    "Content-Security-Policy",
    "securitypolicyviolation",
    "Permissions-Policy",
    "Permissions policy",
)


class Watched:
    """A browser context whose pages report policy violations and script errors."""

    def __init__(self, browser, **options):
        self.problems: list[str] = []
        self.context = browser.new_context(**options)
        self.context.add_init_script(REPORT_VIOLATIONS)

    def new_page(self):
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        return page

    def _console(self, message) -> None:
        if any(word in message.text for word in POLICY_WORDS):
            self.problems.append(f"{message.type}: {message.text}")

    def check(self, where: str) -> None:
        assert self.problems == [], f"on {where}"


@pytest.fixture
def watched(chromium):
    contexts: list[Watched] = []

    def make(**options) -> Watched:
        contexts.append(Watched(chromium, **options))
        return contexts[-1]

    yield make
    for context in contexts:
        context.context.close()


def test_the_screening_pages_load_and_work_under_the_policy(
    watched, live_server, frontline_officer
):
    browser = watched(viewport={"width": 390, "height": 844})
    page = browser.new_page()
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    browser.check("the sign-in page")
    flow._sign_in(page, live_server.url, frontline_officer)
    browser.check("the case list")

    page.click("text=Open a new case")
    page.fill("#id_age", "34")
    page.select_option("#id_exploitation_type", "labour")
    page.click("button:has-text('Open case')")
    page.wait_for_selector("h1:has-text('Case C-')")
    browser.check("the case page")

    page.click("text=Start a screening")
    page.check("#id_safe_to_talk_0")
    page.check("#id_alone_0")
    page.check("#id_interpreter_used_1")
    page.check("input[name=setting][value=station]")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("h1:has-text('Explain, then ask for consent')")
    browser.check("the safety gate")
    page.check("#id_explained")
    page.check("#id_agrees_0")
    page.check("input[name=method][value=verbal]")
    page.click("button:has-text('Record consent and start')")
    page.wait_for_selector("text=Step 1 of 7")
    browser.check("the consent step")

    # The autosave script still runs: an answer changed is saved without leaving the page.
    page.locator("fieldset.question input[value='yes']").first.check()
    page.wait_for_selector("[data-autosave-status]:has-text('Saved')")
    browser.check("the first section and its autosave")
    flow._answer_every_section(page, steps=7)
    page.wait_for_selector("h1:has-text('Check the answers')")
    browser.check("the sections and the review page")
    page.click("button:has-text('Submit screening')")
    page.wait_for_selector("#outcome-title")
    browser.check("the result page")

    # The new-token page's Copy button: a script and clipboard-write for this origin.
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("nav >> text=API tokens")
    page.fill("#id_name", "contact-centre")
    with page.expect_navigation():
        page.click("button:has-text('Create token')")
    page.click("button[data-copy]")
    page.wait_for_selector("[data-copy-status]:has-text('Copied.')")
    browser.check("the new-token page")


def test_supervisor_pages_and_the_api_docs_load_under_the_policy(
    watched, live_server, frontline_officer
):
    supervisor = UserFactory(
        username="supervisor.csp", agency=frontline_officer.agency, role=Role.SUPERVISOR
    )
    case = services.case_create(created_by=frontline_officer, age=34)
    browser = watched(viewport={"width": 1280, "height": 900})
    page = browser.new_page()
    flow._sign_in(page, live_server.url, supervisor)
    for path, heading in [
        ("/cases/agency/", "Agency cases"),
        (f"/cases/{case.reference}/", f"Case {case.reference}"),
        (f"/cases/{case.reference}/access-history/", "Access history"),
        (f"/cases/{case.reference}/changes/", "Change history"),
        ("/referrals/queue/", "Referral queue"),
        ("/no-such-page/", "Page not found"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(f"h1:has-text('{heading}')")
        browser.check(path)

    # Swagger UI: its script is a file, its icons data: images allowed on this page alone.
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path:has-text('/api/v1/contacts/')")
    page.locator(".opblock-summary").first.click()  # expanded: icons drawn as data: URLs
    page.wait_for_selector("button.try-out__btn")
    page.wait_for_timeout(500)
    browser.check("the API docs")


def test_the_quick_exit_reaches_a_site_of_another_origin(
    watched, live_server, frontline_officer, settings
):
    # Another origin on this machine stands in for the neutral site: the test never leaves it.
    port = live_server.url.rsplit(":", 1)[1]
    exit_origin = f"http://127.0.0.1:{port}"
    assert exit_origin != live_server.url
    settings.QUICK_EXIT_URL = f"{exit_origin}/healthz"
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**policy["DIRECTIVES"], "form-action": ["'self'", exit_origin]}
    }
    browser = watched()
    page = browser.new_page()
    flow._sign_in(page, live_server.url, frontline_officer)
    with page.expect_navigation(url=settings.QUICK_EXIT_URL):
        page.keyboard.press("Escape")
    browser.check("the quick exit")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_the_django_admin_loads_under_the_policy(watched, live_server, frontline_officer):
    administrator = UserFactory(
        username="admin.csp",
        agency=frontline_officer.agency,
        is_staff=True,
        is_superuser=True,
    )
    browser = watched(viewport={"width": 1280, "height": 900})
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    browser.check("the admin sign-in page")
    page.fill("#id_username", administrator.username)
    page.fill("#id_password", flow.PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    browser.check("the admin index")
    for path in [
        "/admin/screening/user/",
        f"/admin/screening/user/{administrator.pk}/change/",
        "/admin/referrals/referral/",
        "/admin/core/accesslogentry/",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector("#content")
        browser.check(path)
