"""The benchmarks still run against the current runner and linter (``--smoke``: a hundredth of
the work). Nothing here looks at a time: only at what the benchmarks count and check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def smoke(script: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "result.json"
    result = subprocess.run(
        [sys.executable, f"bench/{script}", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"wrote {out}" in result.stdout
    data: dict[str, Any] = json.loads(out.read_text())
    assert data["machine"]["cpus"] >= 1
    return data


def test_runner_benchmark(tmp_path: Path) -> None:
    data = smoke("bench_runner.py", tmp_path)
    assert data["trivial"]["units"] == 1_000
    for place in ("disk", "tmpfs") if Path("/dev/shm").is_dir() else ("disk",):
        assert data["trivial"][place]["unitwise_units_per_s"] > 0
        assert data["cpu_5ms"][place]["ratio_vs_bare"] > 0
    assert data["resume"]["units"] == 1_000
    assert set(data["memory"]) == {"200", "1000"}


def test_s3_benchmark_counts_one_list_request_per_1000_outputs(tmp_path: Path) -> None:
    data = smoke("bench_s3.py", tmp_path)
    assert data["units"] == 1_000
    assert data["unitwise"]["requests"] == data["unitwise"]["list_requests"] == 1
    assert data["unitwise"]["object_requests"] == 0
    assert data["one_check_per_unit"]["requests_per_unit"] >= 1


def test_linter_benchmark(tmp_path: Path) -> None:
    data = smoke("bench_linter.py", tmp_path)
    assert data["files"] > 5
    rows = data["contenders"]
    for label in ("unitwise-lint --jobs 1", "unitwise-lint, second run (cache)"):
        assert rows[label]["seconds"] > 0 and rows[label]["exit"] in (0, 1), rows[label]


def test_cost_benchmark_runs_every_contender_and_checks_each_goal(tmp_path: Path) -> None:
    data = smoke("bench_cost.py", tmp_path)
    for case, units in (("trivial", 500), ("cpu_5ms", 40)):
        assert data[case]["units"] == units
        for contender in (
            "unitwise",
            "ProcessPoolExecutor",
            "multiprocess.Pool",
            "joblib",
            "mpire",
        ):
            row = data[case][contender]
            assert len(row["rounds"]) == data["rounds"] == 3
            assert all(run["exit"] == 0 and run["user"] > 0 for run in row["rounds"]), row
            if case == "trivial":  # start-up runs (in a smoke run, as long as the whole)
                assert row["startup_cpu_median_s"] > 0, row
                assert isinstance(row["net_cpu_us_per_unit_median"], float), row
    assert data["many"]["plan_units"] == 50_000 and data["many"]["resume_units"] == 5_000
    assert len(data["goals"]) == 8
    assert all(set(goal) == {"value", "target", "met"} for goal in data["goals"].values())


def test_report_benchmark_reads_every_unit_and_writes_a_small_page(tmp_path: Path) -> None:
    data = smoke("bench_report.py", tmp_path)
    assert data["units"] == 1_000 and data["failures"] == 3
    assert data["figures"] >= 5 and 0 < data["html_bytes"] < 5 * 2**20


def test_gather_benchmark_counts_one_listing_and_one_get_per_output(tmp_path: Path) -> None:
    data = smoke("bench_gather.py", tmp_path)
    assert set(data["local"]) == {"10", "1000"}
    for count, row in data["local"].items():
        assert row["units"] == int(count) and row["peak_mib"] > 0
        assert row["appended"] == max(1, int(count) // 100)  # appended, checked equal to a rebuild
    s3 = data["s3"]
    assert (s3["units"], s3["list_requests"], s3["get_requests"]) == (20, 1, 20)
    assert s3["head_requests"] == s3["other_requests"] == 0
    assert data["resume"]["units"] == data["resume"]["skipped"] == 1_000
