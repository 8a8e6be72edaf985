"""How long scoring takes, in process: median and p95 over many runs.

Loads every seeds/instruments/*.yaml that parses, takes the one with the most items, builds one
realistic answer set (seeded, so runs are comparable) and times `score()` and
`score().to_dict()` (what a submit stores). Prints Markdown table rows.

    .venv/bin/python bench/score_bench.py --runs 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators.engine import (  # noqa: E402  (after the path set-up above)
    InstrumentDefinition,
    InstrumentFileError,
    load_instrument_file,
    score,
)


def realistic_answers(definition: InstrumentDefinition, rng: random.Random) -> dict[str, Any]:
    """Mostly "no", some "yes", a few unknown / declined / not asked, like a real interview."""
    answers: dict[str, Any] = {}
    for item in definition.items:
        roll = rng.random()
        if roll < 0.05:
            continue  # not answered yet
        if roll < 0.12:
            answers[item.key] = "unknown"
            continue
        if roll < 0.15:
            answers[item.key] = "declined"
            continue
        options = [option.key for option in item.options or ()]
        if item.response_type == "yes_no":
            answers[item.key] = "yes" if rng.random() < 0.3 else "no"
        elif item.response_type == "single_choice":
            answers[item.key] = rng.choice(options)
        elif item.response_type == "multiple_choice":
            answers[item.key] = rng.sample(options, rng.randint(0, len(options)))
        elif item.response_type == "number":
            answers[item.key] = rng.randint(0, 16)
        else:
            day = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 1800))
            answers[item.key] = day.isoformat()
    return answers


def timings(call: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(min(50, runs)):  # warm caches (content hash, lookups)
        call()
    results = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        results.append((time.perf_counter_ns() - start) / 1e6)
    return results


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2009)
    parser.add_argument("--dir", type=Path, default=ROOT / "seeds" / "instruments")
    options = parser.parse_args()

    definitions = []
    for path in sorted(options.dir.glob("*.yaml")):
        try:
            definitions.append(load_instrument_file(path))
        except InstrumentFileError as error:
            print(f"skipped {path.name}: {len(error.problems)} problem(s)", file=sys.stderr)
    if not definitions:
        print(f"no instrument in {options.dir} parses", file=sys.stderr)
        return 1
    definition = max(definitions, key=lambda d: (len(d.items), d.slug))
    answers = realistic_answers(definition, random.Random(options.seed))
    context = {"age": 34, "exploitation_type": "labour"}
    result = score(definition, answers, context).to_dict()

    print(f"<!-- {len(definitions)} instruments parsed; outcome {result['outcome']} -->")
    print("| instrument | items | answered | runs | call | median (ms) | p95 (ms) |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name, call in (
        ("score()", lambda: score(definition, answers, context)),
        ("score().to_dict()", lambda: score(definition, answers, context).to_dict()),
    ):
        values = timings(call, options.runs)
        print(
            f"| {definition.slug} v{definition.version} | {len(definition.items)} "
            f"| {result['coverage']['answered']} | {options.runs} | `{name}` "
            f"| {statistics.median(values):.3f} | {p95(values):.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
