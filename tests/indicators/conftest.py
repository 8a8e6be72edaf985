import textwrap
from pathlib import Path

import pytest

SHORT_SCREEN = textwrap.dedent(
    """\
    slug: test-short-screen
    version: {version}
    status: {status}
    title: {{en: "Test short screen"}}
    audience: child
    purpose: {{en: "A fictional two-of-three screen used only by the test suite."}}
    languages: [en]
    sources:
      - key: test-source
        title: A fictional source for tests
        publisher: Test suite
        year: 2026
        section: whole
    sections:
      - key: history
        title: {{en: "History"}}
        items:
          - key: ran_away
            prompt: {{en: "{prompt}"}}
            why: {{en: "Running away is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
          - key: police_contact
            prompt: {{en: "Have you ever been in trouble with the police?"}}
            why: {{en: "Contact with police is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
          - key: injury
            prompt: {{en: "Have you ever been badly hurt?"}}
            why: {{en: "Serious injury is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
    rules:
      - key: two_or_more
        kind: count
        text: {{en: "Positive at two or more yes answers."}}
        source: test-source
        select: {{items: [ran_away, police_contact, injury]}}
        threshold: 2
      - key: minor
        kind: flag
        text: {{en: "Under 18: child welfare must be told."}}
        source: test-source
        when: {{context: age, op: lt, value: 18}}
        flags: [minor, mandatory_report]
    outcomes:
      - key: screen_negative
        label: {{en: "Screen negative"}}
        description: {{en: "Fewer than two yes answers."}}
        actions: [{{en: "Keep the door open."}}]
      - key: screen_positive
        when: {{rule: two_or_more}}
        label: {{en: "Screen positive"}}
        description: {{en: "Two or more yes answers."}}
        actions: [{{en: "Arrange a fuller assessment."}}]
    """
)


@pytest.fixture
def write_instrument(tmp_path: Path):
    """Write the fictional short screen with optional changes; returns the file path."""

    def write(
        *, version: int = 1, status: str = "published", prompt: str = "Have you ever run away?"
    ) -> Path:
        folder = tmp_path / f"set-{version}-{status}-{abs(hash(prompt))}"
        folder.mkdir(exist_ok=True)
        path = folder / f"test-short-screen.v{version}.yaml"
        path.write_text(SHORT_SCREEN.format(version=version, status=status, prompt=prompt))
        return path

    return write
