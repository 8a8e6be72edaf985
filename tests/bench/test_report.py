"""The writer `make bench` uses for docs/benchmarks.md and its charts (bench/report.py), on
made-up numbers: hand-written text outside the markers survives, a section is replaced where
it stands, charts are real PNG files. The timings themselves are never tested."""

from __future__ import annotations

import pytest

from bench.report import (
    chart_p95_by_size,
    chart_visibility_ratio,
    lists_markdown,
    section_replace,
    sections_write,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _scenario(name, who, kind, page, p95_ms, visible_ms, baseline_ms):
    return {
        "list": name,
        "who": who,
        "who_kind": kind,
        "sees": 240,
        "page": page,
        "page_label": f"page {page}",
        "queries": 8,
        "request": {"p50": p95_ms * 0.8, "p95": p95_ms, "n": 20},
        "visible": {"p50": visible_ms * 0.9, "p95": visible_ms, "n": 20},
        "baseline": {"p50": baseline_ms * 0.9, "p95": baseline_ms, "n": 20},
    }


def _runs():
    return [
        {
            "cases": cases,
            "scenarios": [
                _scenario("API cases", "supervisor", "wide", 1, 20.0 * factor, 2.0, 1.5),
                _scenario("API cases", "supervisor", "wide", 21, 22.0 * factor, 2.2, 1.6),
                _scenario("web my cases", "worker", "narrow", 1, 30.0 * factor, 9.0, 3.0),
            ],
        }
        for cases, factor in ((1_000_000, 3.0), (10_000, 1.0), (100_000, 1.2))
    ]


def test_a_section_is_replaced_where_it_stands_and_the_rest_kept():
    text = "# Benchmarks\n\nHand-written intro.\n"
    first = section_replace(text, "lists", "old numbers")
    first += "\nA note written after the generated block.\n"
    second = section_replace(first, "lists", "new numbers")

    assert "Hand-written intro." in second
    assert "A note written after the generated block." in second
    assert "new numbers" in second and "old numbers" not in second
    assert second.index("new numbers") < second.index("A note written after")
    assert second.count("<!-- bench:lists start") == 1
    assert second.count("<!-- bench:lists end -->") == 1


def test_sections_of_similar_names_stay_apart(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nKept.\n")
    sections_write(doc, {"lists": "L1", "lists-jit": "J1"})
    sections_write(doc, {"lists": "L2"})

    text = doc.read_text()
    assert "Kept." in text
    assert "L2" in text and "L1" not in text
    assert "J1" in text


def test_a_section_marked_twice_is_refused_not_guessed():
    once = section_replace("# B\n", "score", "a")
    with pytest.raises(ValueError, match="marked 2 times"):
        section_replace(once + once, "score", "b")


def test_lists_table_orders_sizes_and_marks_what_misses_a_target():
    table = lists_markdown(_runs())

    header = table.splitlines()[0]
    assert header.index("p95 10k") < header.index("p95 100k") < header.index("p95 1M")
    worker_row = next(line for line in table.splitlines() if line.startswith("| web my cases"))
    assert "**90.0**" in worker_row  # 30 ms x 3 at 1M: over 50 ms
    assert "**3.00**" in worker_row  # flatness 1M / 10k over 1.5
    ratio_lines = [line for line in table.splitlines() if line.startswith("| list | as |")]
    ratio_header = [cell.strip() for cell in ratio_lines[-1].strip("|").split("|")]
    ratio_row = [line for line in table.splitlines() if line.startswith("| web my cases")][-1]
    cells = dict(
        zip(ratio_header, (c.strip() for c in ratio_row.strip("|").split("|")), strict=True)
    )
    assert cells["ratio p50"] == "3.00"  # 9 / 3 with visibility / baseline
    assert cells["ratio p95"] == "**3.00**"  # over the 1.5 target: marked


def test_the_rows_only_read_is_shown_beside_the_baseline_when_a_run_has_it():
    runs = _runs()
    for run in runs:
        for scenario in run["scenarios"]:
            scenario["rows_only"] = {"p50": 1.8, "p95": 2.0, "n": 20}
    table = lists_markdown(runs)
    ratio_lines = [line for line in table.splitlines() if line.startswith("| list | as |")]
    ratio_header = [cell.strip() for cell in ratio_lines[-1].strip("|").split("|")]
    ratio_row = [line for line in table.splitlines() if line.startswith("| web my cases")][-1]
    cells = dict(
        zip(ratio_header, (c.strip() for c in ratio_row.strip("|").split("|")), strict=True)
    )
    assert "without the visibility filter" in table
    assert cells["ratio p95"] == "**3.00**"  # against the baseline, as before
    assert cells["rows only p50 / p95 (ms)"] == "1.80 / 2.00"
    assert cells["visible / rows only p95"] == "4.50"  # 9 / 2


def test_charts_are_png_files(tmp_path):
    p95_chart = chart_p95_by_size(_runs(), tmp_path / "charts" / "p95.png")
    ratio_chart = chart_visibility_ratio(_runs(), tmp_path / "charts" / "ratio.png")

    for chart in (p95_chart, ratio_chart):
        assert chart.read_bytes()[:8] == PNG_SIGNATURE
        assert chart.stat().st_size > 5000
