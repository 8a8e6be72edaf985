"""How bench/lists_bench.py interleaves its databases: the parent drives one child per
database over pipes, round by round, one child working at a time and the first of each round
rotating. Tested with stand-in children (real processes speaking the same protocol, no
database); the timings themselves are never tested."""

from __future__ import annotations

import argparse
import gc
import io
import json
import sys
import textwrap
from pathlib import Path

import pytest

from bench import lists_bench
from bench.lists_bench import FINISH, ROUND, WARMUP, Child, interleave, serve

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for a database's child: the real `serve` loop, with handlers that note when each
# round began and ended (CLOCK_MONOTONIC is one clock for every process) and, at FINISH, write
# a result the way the real child does.
STAND_IN = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {root!r})
    from bench.lists_bench import FINISH, ROUND, WARMUP, serve

    name, log, out, fail_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    done = []

    def round_():
        if len(done) == fail_at:
            sys.exit(3)
        began = time.monotonic()
        time.sleep(0.02)
        done.append(1)
        with open(log, "a") as file:
            file.write(json.dumps([name, began, time.monotonic()]) + "\\n")

    def finish():
        with open(out, "w") as file:
            json.dump({{"database": name, "cases": 1, "iterations": len(done)}}, file)

    sys.exit(0 if serve({{WARMUP: lambda: None, ROUND: round_, FINISH: finish}},
                        sys.stdin, sys.stdout) else 1)
    """
).format(root=str(ROOT))


def _stand_in(tmp_path: Path, name: str, *, out: Path | None = None, fail_at: int = -1) -> Child:
    command = [
        sys.executable,
        "-c",
        STAND_IN,
        name,
        str(tmp_path / f"{name}.log"),
        str(out or tmp_path / f"{name}.json"),
        str(fail_at),
    ]
    return Child(name, command, env={}, cwd=ROOT)


def _rounds_logged(tmp_path: Path) -> list[tuple[str, float, float]]:
    lines = [line for log in tmp_path.glob("*.log") for line in log.read_text().splitlines()]
    return sorted((tuple(json.loads(line)) for line in lines), key=lambda row: row[1])


class FakeChild:
    def __init__(self, name: str, calls: list[tuple[str, str]]) -> None:
        self.name, self.calls = name, calls

    def ask(self, command: str) -> float:
        self.calls.append((self.name, command))
        return 0.01


def test_every_round_runs_each_database_once_and_rotates_which_goes_first():
    calls: list[tuple[str, str]] = []
    children = [FakeChild(name, calls) for name in ("load10k", "load100k", "load1m")]

    schedule = interleave(children, 4)

    assert [[turn["database"] for turn in turns] for turns in schedule] == [
        ["load10k", "load100k", "load1m"],
        ["load100k", "load1m", "load10k"],
        ["load1m", "load10k", "load100k"],
        ["load10k", "load100k", "load1m"],
    ]
    assert calls == [(turn["database"], ROUND) for turns in schedule for turn in turns]
    assert all(turn["position"] == index for turns in schedule for index, turn in enumerate(turns))


def test_a_child_answers_each_command_in_turn_and_finishes_on_finish():
    done: list[str] = []
    answers = io.StringIO()

    finished = serve(
        {
            WARMUP: lambda: done.append("warm"),
            ROUND: lambda: done.append("round"),
            FINISH: lambda: done.append("finish"),
        },
        io.StringIO("warmup\nround\nround\nfinish\nround\n"),
        answers,
    )

    assert finished is True
    assert done == ["warm", "round", "round", "finish"]  # nothing after finish
    assert answers.getvalue().split() == ["ready", "done", "done", "done", "finished"]


def test_a_child_whose_parent_goes_away_reports_it_did_not_finish():
    done: list[str] = []

    finished = serve({ROUND: lambda: done.append("round")}, io.StringIO("round\n"), io.StringIO())

    assert finished is False
    assert done == ["round"]


def test_a_child_refuses_a_command_it_does_not_know():
    with pytest.raises(SystemExit, match="unknown command 'rounds'"):
        serve({ROUND: lambda: None}, io.StringIO("rounds\n"), io.StringIO())


def test_child_processes_never_run_their_rounds_at_the_same_time(tmp_path):
    children = [_stand_in(tmp_path, name) for name in ("a", "b", "c")]
    try:
        for child in children:
            child.ask(WARMUP)
        interleave(children, 3)
        for child in children:
            child.finish()
    finally:
        for child in children:
            child.stop()

    logged = _rounds_logged(tmp_path)
    assert [name for name, _, _ in logged] == list("abcbcacab")
    for (_, _, ended), (_, began, _) in zip(logged, logged[1:], strict=False):
        assert ended <= began  # the next round began only after the previous one ended
    assert [json.loads((tmp_path / f"{n}.json").read_text())["iterations"] for n in "abc"] == [
        3,
        3,
        3,
    ]


def test_a_child_that_dies_mid_run_stops_the_run_with_its_name_and_exit_code(tmp_path):
    children = [_stand_in(tmp_path, "a"), _stand_in(tmp_path, "b", fail_at=1)]
    try:
        with pytest.raises(SystemExit, match=r"on b answered '' instead of 'done' \(exit 3\)"):
            interleave(children, 3)
    finally:
        for child in children:
            child.stop()
    assert children[0].process.returncode is not None  # stopped, not left behind


def test_the_parent_keeps_each_databases_rounds_and_the_interleaved_span(tmp_path, monkeypatch):
    started: list[tuple[str, bool]] = []

    def start_child(name, options, *, out, last):
        started.append((name, last))
        return _stand_in(tmp_path, name, out=out)

    monkeypatch.setattr(lists_bench, "start_child", start_child)
    options = argparse.Namespace(iterations=4)

    runs, span = lists_bench.run_databases(["small", "large"], options)

    assert started == [("small", False), ("large", True)]  # plans and JIT: the last only
    assert [run["database"] for run in runs] == ["small", "large"]
    assert [run["iterations"] for run in runs] == [4, 4]
    for run in runs:
        assert [turn["round"] for turn in run["rounds"]] == [0, 1, 2, 3]
        assert run["interleaved"] == span
        assert run["seconds"] > 0
    assert [turn["position"] for turn in runs[0]["rounds"]] == [0, 1, 0, 1]
    assert [turn["position"] for turn in runs[1]["rounds"]] == [1, 0, 1, 0]
    assert span["databases"] == ["small", "large"] and span["rounds"] == 4
    assert len(span["load_before"]) == 3 and span["seconds"] > 0


def test_a_saved_interleaved_run_is_described_with_its_span():
    run = {
        "database": "load10k",
        "cases": 10_000,
        "contacts": 1,
        "referrals": 1,
        "agencies": 1,
        "staff": 1,
        "users": {
            "worker candidates (visible cases)": [3, 5],
            "largest agency cases": 10,
            "worker sees": 5,
            "case page screenings": 2,
        },
        "iterations": 2,
        "warmup": 1,
        "depth": 1,
        "load_before": [1.5, 1, 1],
        "load_after": [1.25, 1, 1],
        "seconds": 40,
        "rounds": [
            {"round": 0, "position": 0, "seconds": 3.0, "load": 1.5},
            {"round": 1, "position": 1, "seconds": 4.0, "load": 1.75},
        ],
    }
    span = {
        "databases": ["load10k", "load1m"],
        "rounds": 2,
        "seconds": 15,
        "load_before": [1.5, 1, 1],
        "load_after": [1.25, 1, 1],
    }

    line = lists_bench._run_line(run)
    assert "its rounds (7 s of its own, load 1.50-1.75 as they began)" in line
    assert "`load10k`, `load1m`" in lists_bench._span_line(span)
    assert "2 rounds in 15 s" in lists_bench._span_line(span)
    alone = lists_bench._span_line({**span, "databases": ["load10k"]})
    assert alone.startswith("The rounds of `load10k` alone: 2 rounds in 15 s")


def test_the_collections_recorder_counts_only_while_recording_and_by_generation():
    recorder = lists_bench.Collections()
    try:
        gc.collect(2)
        assert recorder.summary()["2"]["count"] == 0  # not recording yet
        recorder.recording = True
        gc.collect(2)
        gc.collect(0)
        summary = recorder.summary()
        assert summary["2"]["count"] == 1 and summary["0"]["count"] >= 1
        assert summary["2"]["cpu_ms_max"] >= 0 and summary["frozen"] == gc.get_freeze_count()
    finally:
        gc.callbacks.remove(recorder._callback)


def test_a_run_line_says_how_many_full_collections_fell_in_the_rounds():
    run = {
        "freeze": "app",
        "collections": {
            "0": {"count": 400, "cpu_ms_total": 90.0, "cpu_ms_max": 0.9},
            "1": {"count": 40, "cpu_ms_total": 70.0, "cpu_ms_max": 4.5},
            "2": {"count": 3, "cpu_ms_total": 9.0, "cpu_ms_max": 4.31},
            "frozen": 146_000,
            "tracked_at_end": 12_000,
        },
    }
    note = lists_bench._collections_note(run)
    assert "the application frozen as config/wsgi.py does, 146,000 objects" in note
    assert "3 full, the longest 4.3 ms of CPU; 40 of generation 1" in note
    assert lists_bench._collections_note({}) == ""
