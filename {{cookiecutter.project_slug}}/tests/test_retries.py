"""``--retries N``: a unit whose failure is transient (a connection reset, a worker killed by a
signal) is tried again after a backoff; an error of the unit's own code never is. Every
attempt has its START and END/FAIL lines; the failure record counts attempts; the circuit
breaker counts units. Real worker processes and signals, through the command line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .faultkit import cli, events, job_args, run_dir_of, visible, write_units


def test_transient_failures_are_retried_and_the_units_own_errors_are_not(tmp_path: Path) -> None:
    ids = write_units(tmp_path, ["ok-0", "reset-1", "kill-1", "bad-1", "ok-1"])
    args = job_args("FAULTY", "--workers", "2", "--retries", "2", "--retry-backoff", "0.05")
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "4 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    assert set(visible(tmp_path / "out")) == {f"{u}.out" for u in ids if u != "bad-1"}
    records = events(run_dir_of(tmp_path, result.stdout))
    starts = Counter(r["unit"] for r in records if r["event"] == "START")
    # reset-1 fails twice (connection reset), kill-1 once (SIGKILL); bad-1 is never retried.
    assert starts == {"ok-0": 1, "ok-1": 1, "bad-1": 1, "reset-1": 3, "kill-1": 2}
    attempts = [(r["unit"], r["event"], r.get("attempt")) for r in records if r["unit"] == "reset-1"]
    assert [a for a in attempts if a[1] in ("START", "END", "FAIL")] == [
        ("reset-1", "START", None),
        ("reset-1", "FAIL", 1),
        ("reset-1", "START", 2),
        ("reset-1", "FAIL", 2),
        ("reset-1", "START", 3),
        ("reset-1", "END", 3),
    ]
    retries = [r for r in records if r["event"] == "RETRY"]
    assert [r["attempt"] for r in retries] == [2, 3]
    [failure] = [
        json.loads(line)
        for line in (run_dir_of(tmp_path, result.stdout) / "failures.jsonl").read_text().splitlines()
    ]
    assert (failure["unit"], failure["error"], failure["attempts"]) == ("bad-1", "ValueError", 1)


def test_a_unit_out_of_retries_fails_with_its_attempts_counted(tmp_path: Path) -> None:
    write_units(tmp_path, ["reset-1", "ok-0"])
    args = job_args("FAULTY", "--workers", "1", "--retries", "1", "--retry-backoff", "0.05")
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "1 done, 0 skipped (already done), 1 failed, 0 pending" in result.stdout
    run_dir = run_dir_of(tmp_path, result.stdout)
    [failure] = [json.loads(line) for line in (run_dir / "failures.jsonl").read_text().splitlines()]
    assert failure["unit"] == "reset-1" and failure["attempts"] == 2
    assert failure["error"].startswith("ConnectionResetError")


def test_the_circuit_breaker_counts_units_not_attempts(tmp_path: Path) -> None:
    write_units(tmp_path, [f"down-{n}" for n in range(8)])
    args = job_args("FAULTY", "--workers", "1", "--chunksize", "1", "--retries", "3")
    args += ["--retry-backoff", "0.05", "--max-consecutive-failures", "3"]
    result = cli("run", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "stopped early: 3 units in a row failed with ConnectionRefusedError" in result.stdout
    records = events(run_dir_of(tmp_path, result.stdout))
    fails = [r for r in records if r["event"] == "FAIL"]
    assert len({r["unit"] for r in fails}) == 3 and len(fails) == 3  # three units, one attempt each
    assert "0 done, 0 skipped (already done), 0 failed, 8 pending" in result.stdout
