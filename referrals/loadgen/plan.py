"""How big a generated data set is and how it is spread (docs: referrals/loadgen/__init__.py).

Sizes scale with the number of cases so that what one person sees stays about the same: at
100,000 cases, 50 agencies and 2,000 staff (the sizes of issue 12's first measurement);
agencies grow with the square root of the cases, staff in proportion to them, so a worker
sees a few hundred cases at any size while a large agency's supervisors see tens of
thousands at a million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REFERENCE_CASES = 100_000
REFERENCE_AGENCIES = 50
REFERENCE_STAFF = 2_000
# Agency sizes follow a Zipf law with this exponent: a few large agencies, many small ones
# (at 1M cases and 158 agencies the largest holds about 8% of the cases, the smallest 0.2%).
AGENCY_SIZE_EXPONENT = 0.7
# Each agency has at least an administrator, a supervisor and two case workers.
MIN_STAFF_PER_AGENCY = 4
YEARS = 10


def default_agencies(cases: int) -> int:
    return max(3, round(REFERENCE_AGENCIES * math.sqrt(cases / REFERENCE_CASES)))


def default_staff(cases: int, agencies: int) -> int:
    return max(MIN_STAFF_PER_AGENCY * agencies, round(REFERENCE_STAFF * cases / REFERENCE_CASES))


@dataclass(frozen=True)
class LoadPlan:
    cases: int
    agencies: int
    staff: int
    seed: int = 12
    years: int = YEARS
    # Cases generated and written together (all rows that hang off them in the same round).
    chunk: int = 20_000

    @classmethod
    def sized(
        cls,
        *,
        cases: int,
        agencies: int | None = None,
        staff: int | None = None,
        seed: int = 12,
        chunk: int = 20_000,
    ) -> LoadPlan:
        if cases < 1:
            raise ValueError("--cases must be at least 1")
        agencies = agencies or default_agencies(cases)
        if agencies < 1:
            raise ValueError("--agencies must be at least 1")
        staff = staff or default_staff(cases, agencies)
        if staff < MIN_STAFF_PER_AGENCY * agencies:
            raise ValueError(
                f"--staff must be at least {MIN_STAFF_PER_AGENCY} per agency "
                f"({MIN_STAFF_PER_AGENCY * agencies} for {agencies} agencies)"
            )
        if chunk < 1:
            raise ValueError("--chunk must be at least 1")
        return cls(cases=cases, agencies=agencies, staff=staff, seed=seed, chunk=chunk)

    def agency_weights(self) -> list[float]:
        raw = [1 / (rank + 1) ** AGENCY_SIZE_EXPONENT for rank in range(self.agencies)]
        total = sum(raw)
        return [weight / total for weight in raw]
