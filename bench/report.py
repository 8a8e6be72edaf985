"""Writing benchmark results into docs/benchmarks.md and charts under docs/benchmarks/.

`make bench` (bench/run_all.py) owns only what sits between a pair of markers:

    <!-- bench:NAME start (written by make bench; edit outside the markers) -->
    ...
    <!-- bench:NAME end -->

Everything else in the file, the hand-written explanations, is left as it is. A section whose
markers are not in the file yet is appended at the end; move the markers anywhere and later
runs replace the block where it stands. Charts are PNGs drawn with matplotlib's Agg backend
(no display needed).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

TARGET_P95_MS = 50.0
TARGET_FLAT = 1.5
TARGET_RATIO = 1.5
PANEL_TITLES = {
    "wide": "wide view: supervisor of the largest agency;\n"
    "busiest hotline, longest queue, busiest inbox",
    "narrow": "narrow view: a worker of that agency, the smallest\n"
    "agency's supervisor; quietest hotline, queue, inbox",
}


def _start(name: str) -> str:
    return f"<!-- bench:{name} start (written by make bench; edit outside the markers) -->"


def _end(name: str) -> str:
    return f"<!-- bench:{name} end -->"


def section_replace(text: str, name: str, body: str) -> str:
    """`text` with the block between `name`'s markers replaced by `body` (markers kept), or
    with a new marked block appended when the markers are not there."""
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"section name {name!r}: lowercase letters, digits and dashes only")
    block = f"{_start(name)}\n{body.strip()}\n{_end(name)}"
    pattern = re.compile(
        re.escape(_start(name).split(" (")[0]) + r"[^\n]*\n.*?" + re.escape(_end(name)),
        re.DOTALL,
    )
    found = pattern.findall(text)
    if len(found) > 1:
        raise ValueError(f"section {name!r} is marked {len(found)} times; keep one")
    if found:
        return pattern.sub(lambda _: block, text, count=1)
    if _end(name) in text:
        raise ValueError(f"section {name!r} has an end marker without its start marker")
    return text.rstrip("\n") + "\n\n" + block + "\n"


def sections_write(path: Path, sections: dict[str, str]) -> None:
    """Replace (or append) each named section of the Markdown file at `path`."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for name, body in sections.items():
        text = section_replace(text, name, body)
    path.write_text(text)


# --- numbers ---------------------------------------------------------------------------


def p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(value: float | None, target: float | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.2f}"
    return f"**{text}**" if target is not None and value > target else text


def _scenario_key(scenario: dict[str, Any]) -> tuple[str, str, str]:
    """A list, a person and "page 1" or "deep": the deep page's number depends on how long
    the list is at each size (page 21, or the last page of a shorter list)."""
    return scenario["list"], scenario["who"], _page_kind(scenario)


def _page_kind(scenario: dict[str, Any]) -> str:
    return "page 1" if scenario["page"] == 1 else "deep"


# --- the lists benchmark ------------------------------------------------------------------


def lists_markdown(runs: list[dict[str, Any]]) -> str:
    """Tables for the list benchmark: one row per list, user and page, across the data sizes
    in `runs` (one dict per database, smallest first), then the query-level comparison with
    the unfiltered baseline at the largest size. Values over a target are in bold."""
    runs = sorted(runs, key=lambda run: run["cases"])
    sizes = [run["cases"] for run in runs]
    by_size = [{_scenario_key(s): s for s in run["scenarios"]} for run in runs]
    keys = list(dict.fromkeys(_scenario_key(s) for run in runs for s in run["scenarios"]))
    largest = by_size[-1]
    lines = []
    head = " | ".join(f"p95 {_cases(size)} (ms)" for size in sizes)
    big, small = _cases(sizes[-1]), _cases(sizes[0])
    lines.append(
        f"| list | as | sees at {big} | page | queries | {head} | p50 {big} (ms) | "
        f"CPU p50 {big} (ms) | p95 {big} / {small} |"
    )
    lines.append("|---|---|---:|---|---:|" + "---:|" * len(sizes) + "---:|---:|---:|")
    for key in keys:
        rows = [table.get(key) for table in by_size]
        last = rows[-1] or next(row for row in reversed(rows) if row)
        p95s = [row["request"]["p95"] if row else None for row in rows]
        flat = p95s[-1] / p95s[0] if len(sizes) > 1 and p95s[0] and p95s[-1] else None
        cells = " | ".join(
            f"**{_ms(value)}**" if value is not None and value > TARGET_P95_MS else _ms(value)
            for value in p95s
        )
        page = last["page_label"]
        if key[2] == "deep":
            page = "deep: page " + " / ".join(str(row["page"]) if row else "–" for row in rows)
        lines.append(
            f"| {last['list']} | {last['who']} | {last['sees']:,} | {page} | "
            f"{last['queries']} | {cells} | {_ms(last['request']['p50'])} | "
            f"{_ms(last.get('cpu', {}).get('p50'))} | {_ratio(flat, TARGET_FLAT)} |"
        )
    floors = [run.get("floor") for run in runs]
    if all(floors):
        lines.append("")
        lines.append(
            "Floor, in the same loop: a signed-in GET of a view that does nothing "
            "(bench/urls.py `bare`; session, MFA check, middleware, access-log row): "
            + "; ".join(
                f"{_cases(size)}: p50 {_ms(floor['request']['p50'])} ms, p95 "
                f"{_ms(floor['request']['p95'])} ms, CPU p50 {_ms(floor['cpu']['p50'])} ms, "
                f"{floor['queries']} queries"
                for size, floor in zip(sizes, floors, strict=True)
            )
            + "."
        )
    # Runs since 2 Dec 2026: the baseline is the list's own query without the visibility
    # filter (a case list keeps its per-row annotations), and a third read drops those too
    # (`rows_only`, the earlier baseline). Earlier runs: rows only as the baseline and a floor.
    third = "rows_only" if any(row.get("rows_only") for row in largest.values()) else "floor"
    lines.append("")
    if third == "rows_only":
        lines.append(
            f"Query level at {_cases(sizes[-1])} cases: the list's own queryset (its selector, "
            "with the visibility rule) against the same query without the visibility filter "
            "(the baseline: every row of the model, with the list's per-row annotations, "
            "related rows, order and page size), each evaluated through the ORM, interleaved. "
            "For the case lists also the same page with none of the per-row annotations (what "
            "the user may do with each case), the rows only, the baseline of earlier runs; and "
            "each read's CPU in this process (Python: building, compiling, making the rows), "
            "which a busy machine disturbs least:"
        )
        third_head = "rows only p50 / p95 (ms) | visible / rows only p95"
        cpu_head = "CPU p50 visible / baseline / rows only (ms)"
    else:
        lines.append(
            f"Query level at {_cases(sizes[-1])} cases: the list's own queryset (its selector, "
            "with the visibility rule) against the same model's rows in the same order and page "
            "size without it (the baseline), each evaluated through the ORM, interleaved. For "
            "the case lists also a floor: the same page with the list's per-row annotations "
            "(what the user may do with each case) and related rows on the agency index, "
            "without the visibility rule, the least any rule can cost; and each read's CPU in "
            "this process (Python: building, compiling, making the rows), which a busy machine "
            "disturbs least:"
        )
        third_head = "floor p50 / p95 (ms) | floor / baseline p95"
        cpu_head = "CPU p50 visible / baseline / floor (ms)"
    lines.append("")
    lines.append(
        "| list | as | page | with visibility p50 / p95 (ms) | baseline p50 / p95 (ms) "
        f"| ratio p50 | ratio p95 | {third_head} | {cpu_head} | CPU ratio visible / baseline |"
    )
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        row = largest.get(key)
        if row is None:
            continue
        visible, baseline, other = row["visible"], row["baseline"], row.get(third)
        cpu = [row.get(f"{read}_cpu") for read in ("visible", "baseline", third)]
        cpu_cells = " / ".join(_ms(value["p50"]) if value else "–" for value in cpu)
        cpu_ratio = cpu[0]["p50"] / cpu[1]["p50"] if cpu[0] and cpu[1] else None
        other_cells = f"{_ms(other['p50'])} / {_ms(other['p95'])}" if other else "–"
        if not other:
            other_ratio = "–"
        elif third == "rows_only":
            other_ratio = _ratio(visible["p95"] / other["p95"])
        else:
            other_ratio = _ratio(other["p95"] / baseline["p95"])
        lines.append(
            f"| {row['list']} | {row['who']} | {row['page_label']} | "
            f"{_ms(visible['p50'])} / {_ms(visible['p95'])} | "
            f"{_ms(baseline['p50'])} / {_ms(baseline['p95'])} | "
            f"{_ratio(visible['p50'] / baseline['p50'])} | "
            f"{_ratio(visible['p95'] / baseline['p95'], TARGET_RATIO)} | "
            f"{other_cells} | {other_ratio} | {cpu_cells} | "
            f"{_ratio(cpu_ratio) if cpu_ratio else '–'} |"
        )
    return "\n".join(lines)


def jit_markdown(jit: list[dict[str, Any]], cases: int) -> str:
    lines = [
        f"Each case list's main query at {_cases(cases)} cases as Django sends it (captured, "
        "then re-run on one connection), `SET jit = on` and `off` alternating, everything else "
        "at PostgreSQL's defaults:",
        "",
        "| list | as | page | plan cost | JIT used | jit=on p50 / p95 (ms) | "
        "jit=off p50 / p95 (ms) | on / off p95 |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    for row in jit:
        on, off = row["on"], row["off"]
        lines.append(
            f"| {row['list']} | {row['who']} | {row['page_label']} | {row['cost']:,.0f} | "
            f"{'yes' if row['jit_used'] else 'no'} | {_ms(on['p50'])} / {_ms(on['p95'])} | "
            f"{_ms(off['p50'])} / {_ms(off['p95'])} | {on['p95'] / off['p95']:.2f} |"
        )
    return "\n".join(lines)


def _cases(count: int) -> str:
    if count >= 1_000_000 and count % 100_000 == 0:
        return f"{count / 1_000_000:g}M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return f"{count:,}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart_p95_by_size(runs: list[dict[str, Any]], path: Path) -> Path:
    """p95 per request against the number of cases (log x), one line per list and page,
    one panel per kind of user; the 50 ms target as a dashed line."""
    plt = _pyplot()
    runs = sorted(runs, key=lambda run: run["cases"])
    whos = list(dict.fromkeys(s["who_kind"] for run in runs for s in run["scenarios"]))
    figure, axes = plt.subplots(1, len(whos), figsize=(6.5 * len(whos), 5), squeeze=False)
    for axis, who in zip(axes[0], whos, strict=True):
        axis.set_prop_cycle(color=plt.cm.tab20.colors)  # 14 lines: ten colours would repeat
        lines: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for run in runs:
            for scenario in run["scenarios"]:
                if scenario["who_kind"] == who:
                    line = (scenario["list"], _page_kind(scenario))
                    lines.setdefault(line, []).append((run["cases"], scenario["request"]["p95"]))
        for (name, page), points in lines.items():
            xs, ys = zip(*points, strict=True)
            axis.plot(
                xs,
                ys,
                marker="o",
                linestyle="-" if page == "page 1" else "--",
                label=f"{name}, {page}",
            )
        axis.axhline(TARGET_P95_MS, color="grey", linestyle=":", label="target 50 ms")
        axis.set_xscale("log")
        axis.set_xlabel("cases in the database")
        axis.set_ylabel("p95 per request (ms)")
        axis.set_title(PANEL_TITLES.get(who, who), fontsize=9)
        axis.set_ylim(bottom=0)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def chart_visibility_ratio(runs: list[dict[str, Any]], path: Path) -> Path:
    """The p95 ratio visibility / baseline (query level) per list, user and page, one bar per
    data size; the 1.5 target as a dashed line."""
    plt = _pyplot()
    runs = sorted(runs, key=lambda run: run["cases"])
    keys = list(dict.fromkeys(_scenario_key(s) for run in runs for s in run["scenarios"]))
    width = 0.8 / max(1, len(runs))
    figure, axis = plt.subplots(figsize=(max(8, 0.55 * len(keys)), 5.5))
    for index, run in enumerate(runs):
        table = {_scenario_key(s): s for s in run["scenarios"]}
        values = [
            table[key]["visible"]["p95"] / table[key]["baseline"]["p95"] if key in table else 0
            for key in keys
        ]
        axis.bar(
            [position + index * width for position in range(len(keys))],
            values,
            width,
            label=f"{_cases(run['cases'])} cases",
        )
    axis.axhline(TARGET_RATIO, color="grey", linestyle=":", label="target 1.5")
    axis.set_xticks([position + width * (len(runs) - 1) / 2 for position in range(len(keys))])
    axis.set_xticklabels([f"{n}\n{who}, {page}" for n, who, page in keys], rotation=70, fontsize=7)
    axis.set_ylabel("p95 with the visibility rule / p95 without (query level)")
    axis.set_ylim(bottom=0)
    axis.grid(True, axis="y", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plans_markdown(plans: Iterable[dict[str, Any]], *, database: str, settings: str) -> str:
    lines = [
        "# Query plans of the lists at the largest data size",
        "",
        f"Written by `make bench` (bench/lists_bench.py) from database `{database}`; "
        f"{settings}. Each list's main query is the one Django ran for the request (captured "
        "with `CaptureQueriesContext`), re-run as `EXPLAIN (ANALYZE, BUFFERS)` right after "
        "the timed rounds (so the cache is warm, as in the timings).",
        "",
    ]
    for plan in plans:
        lines += [
            f"## {plan['list']}, {plan['who']}, {plan['page_label']}",
            "",
            f"Sees {plan['sees']:,}; {plan['queries']} queries for the request.",
            "",
            "```sql",
            plan["sql"],
            "```",
            "",
            "```",
            plan["plan"],
            "```",
            "",
        ]
    return "\n".join(lines)
