"""A realistic ILO/EC adult-labour screening for result-page tests (page and browser): a person
misled about the job and the pay, working very long hours for little, whose papers are kept and
who owes a debt to the employer; most other questions answered no, a few "don't know" or
declined. Fictional."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command

from indicators.models import InstrumentVersion
from screening import services
from screening.models import Screening, User

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "instruments"

YES = (
    "deceived_about_job_nature",  # strong, deceptive recruitment
    "deceived_about_pay",  # medium, deceptive recruitment
    "deceived_about_travel",  # medium, deceptive recruitment
    "recruitment_debt_bondage",  # medium, coercive recruitment
    "economic_pressure_at_recruitment",  # medium, recruitment abuse of vulnerability
    "excessive_hours",  # strong, exploitation
    "low_or_no_pay",  # medium, exploitation
    "bad_living_conditions",  # medium, exploitation
    "documents_kept_at_destination",  # strong, coercion at destination
    "debt_bondage_at_destination",  # strong, coercion at destination
    "dependent_on_employer",  # medium, abuse of vulnerability at destination
)
OPEN = {
    "recruitment_threats_of_violence": "unknown",
    "recruitment_isolation_confinement": "unknown",
    "legal_status_fear_at_destination": "declined",
    "threats_of_violence_at_destination": "unknown",
}


def ilo_ec_version(slug: str = "ilo-ec-adult-labour", number: int = 2) -> InstrumentVersion:
    call_command("load_instruments", str(SEEDS / f"{slug}.v{number}.yaml"), stdout=io.StringIO())
    return InstrumentVersion.objects.get(instrument__slug=slug, number=number)


def ilo_ec_answers(version: InstrumentVersion) -> dict[str, str]:
    answers = {item.key: "no" for item in version.items.all()}
    answers.update(dict.fromkeys(YES, "yes"))
    answers.update(OPEN)
    return answers


def ilo_ec_screening_submit(
    *, officer: User, version: InstrumentVersion, answers: dict[str, str] | None = None
) -> Screening:
    """A case (age 34), its screening consent and an ILO/EC screening submitted."""
    case = services.case_create(created_by=officer, age=34, exploitation_type="labour")
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
        screening=screening,
        by=officer,
        answers=answers if answers is not None else ilo_ec_answers(version),
        expected_version=screening.version,
    )
    return services.screening_submit(screening=screening, by=officer)
