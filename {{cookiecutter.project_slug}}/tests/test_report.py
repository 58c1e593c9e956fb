"""``report`` from real runs: two shards, failures with three causes, one run caught in the
middle (a snapshot), interrupted with Ctrl-C and resumed; the page opened in a real headless
Chromium{% if cookiecutter.storage == "s3" %}, and the same logs read back from an S3 server{% endif %}."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from {{ cookiecutter.package_name }} import report
{%- if cookiecutter.storage == "s3" %}
from {{ cookiecutter.package_name }}.report.model import read
from {{ cookiecutter.package_name }}.report.source import StateSource
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Shard
from {{ cookiecutter.package_name }}.units import in_shard

from .faultkit import cli, command, environment, wait_for
{%- if cookiecutter.storage == "s3" %}
from .s3server import BUCKET, serving
{%- endif %}

#: Failures first: the FAIL lines of shard 1 (an ERROR flushes the log) show it is under way.
UNITS = ["bad-001", "bad-002", "gone-001", "slow-001"] + [f"ok-{n:03d}" for n in range(24)] + [
    f"hold-{number}" for number in range(4)
]
CAUSES = {"ValueError": {"bad-001", "bad-002"}, "FileNotFoundError [Errno 2]": {"gone-001"}}
SECTIONS = ["summary", "timeline", "throughput", "durations", "failures", "runs", "tracebacks"]
FIGURES = ["timeline", "throughput", "durations", "steps", "failures"]
#: Chromium's switches for a headless run that talks to nothing: no sandbox (root in CI), no
#: background requests, names resolve to nowhere, a fresh profile per run.
CHROMIUM_SWITCHES = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
]


def job(*extra: str) -> list[str]:
    return [
        "--job", "tests.report_jobs:GATED", "--units-file", "units.txt", "--input", "inputs",
        "--output", "out", "--state", "runs", "--no-progress", "--workers", "2", *extra,
    ]


@dataclass(frozen=True)
class History:
    root: Path
    snapshot: report.Written
    final: Path


def _failed_in_shard_1(state: Path) -> bool:
    """Shard 1's log has a FAIL line on disk (and so every line before it)."""
    return any(
        '"event": "FAIL"' in events.read_text(encoding="utf-8")
        for events in state.glob("*-shard1of2/events.jsonl")
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Shard 0 runs to the end; shard 1 is caught mid-run (a report is made then), stopped by
    Ctrl-C and resumed; then ``report`` is run on everything."""
    shard_1 = [unit for unit in UNITS if in_shard(unit, Shard(1, 2))]
    # What the scenario needs of the (stable) split: shard 1 fails and then waits at the gate.
    assert {"bad-001", "bad-002"} <= set(shard_1) and any(u.startswith("hold") for u in shard_1)
    root = tmp_path_factory.mktemp("report")
    (root / "inputs").mkdir()
    (root / "units.txt").write_text("".join(f"{unit}\n" for unit in UNITS))
    first = cli("run", *job("--shard", "0/2"), cwd=root)
    assert first.returncode in (0, 1), first.stderr
    running = subprocess.Popen(
        command("run", *job("--shard", "1/2")),
        cwd=root,
        env=environment(REPORT_GATE=str(root / "gate")),  # never opened: hold-* units wait
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _failed_in_shard_1(root / "runs"), 60, "a failure in shard 1")
        snapshot = report.write(str(root / "runs"), root / "snapshot", "snapshot", "-")
        os.killpg(running.pid, signal.SIGINT)
        _, stderr = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
            running.wait()
    assert running.returncode == 128 + signal.SIGINT, stderr
    resumed = cli("run", *job("--shard", "1/2"), cwd=root)
    assert resumed.returncode in (0, 1), resumed.stderr
    made = cli("report", "--state", "runs", "--out", "report", cwd=root)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("report: report/report.html ("), made.stdout
    return History(root, snapshot, root / "report")


def test_the_page_has_every_section_the_slowest_unit_and_each_cause(history: History) -> None:
    html = (history.final / "report.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    slowest = html.split("slowest units</h3>", 1)[1]
    first_row = slowest.split("<tr>")[2]
    assert "<code>slow-001</code>" in first_row
    assert str(history.root / "out" / "slow-001.txt") in first_row
    failures = html.split('id="failures"', 1)[1]
    for cause, units in CAUSES.items():
        assert f"<code>{cause}</code>" in failures
        for unit in units:  # each failed unit links to its traceback on the page
            anchors = re.findall(rf'<a href="#(failure-\d+)"><code>{unit}</code></a>', failures)
            assert anchors, unit
            for anchor in anchors:
                details = html.split(f'<details id="{anchor}">', 1)[1].split("</details>", 1)[0]
                assert unit in details and "Traceback (most recent call last)" in details
    assert "interrupted by SIGINT" in html
    # Totals after the resume: every unit done but the three that fail on purpose.
    total = html.split("<tr class=\"total\">", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td class=n>([\d,]+)</td>", total)
    count, done, skipped, failed, pending = (int(cell.replace(",", "")) for cell in cells[:5])
    assert (count, done, failed, pending) == (len(UNITS), len(UNITS) - 3, 3, 0), total
    assert skipped > 0  # the resumed run skipped what the interrupted one had done
    assert "shard 0/2" in html and "shard 1/2" in html
    # Self-contained: every image is inline, nothing names another file or a server.
    sources = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert sources and all(src.startswith("data:image/png;base64,") for src in sources)


def test_a_report_made_while_a_run_goes_on_is_a_snapshot(history: History) -> None:
    model = history.snapshot.model
    [running] = model.running
    assert running.shard == "1/2" and running.failed >= 2 and running.closing is None
    html = history.snapshot.html.read_text(encoding="utf-8")
    assert f"run {running.name} is still going" in html


def test_parameters_and_code_version_are_shown_where_a_run_records_them(
    history: History, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(history.root / "runs", runs)
    first, second = sorted(path for path in runs.iterdir() if path.name[:1].isdigit())[:2]
    (first / "provenance.json").write_text(
        '{"params": {"threshold": 0.5}, "commit": "0123456789abcdef", "dirty": true}'
    )
    (second / "provenance.json").write_text(
        '{"params": {}, "code_hash": "feedc0de", "commit": null}'
    )
    model = report.model.read(report.source.StateSource(str(runs)), 0.0)
    assert model.runs[0].parameters == {"threshold": 0.5}
    assert model.runs[0].code == "0123456789ab (uncommitted changes)"
    assert model.runs[1].parameters == {} and model.runs[1].code == "source feedc0de"


def _colours(path: Path) -> set[tuple[int, ...]]:
    with Image.open(path) as image:
        counted = image.convert("RGB").getcolors(1 << 20) or []
    return {colour for _, colour in counted if isinstance(colour, tuple)}


def test_the_figures_are_pngs_with_failures_cut_off_units_and_resumes_drawn(
    history: History,
) -> None:
    pngs = {path.stem for path in history.final.glob("*.png")}
    assert set(FIGURES) <= pngs
    assert len([name for name in pngs if name.startswith("run-")]) == 2 * 3  # 3 runs
    for name in pngs:
        with Image.open(history.final / f"{name}.png") as image:
            assert image.format == "PNG" and image.width >= 800 and image.height >= 150
        assert len(_colours(history.final / f"{name}.png")) > 20, name
    timeline = _colours(history.final / "timeline.png")
    failed, stopped, resume = (0xD6, 0x27, 0x28), (0x94, 0x67, 0xBD), (0x2C, 0xA0, 0x2C)
    assert {failed, stopped, resume} <= timeline


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no headless browser: install Debian's chromium (apt-get install chromium)")


def _open_in_chromium(page: Path, shot: Path, profile: Path, size: str) -> list[str]:
    """Load ``page`` and screenshot it; returns the console messages the page caused."""
    result = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_SWITCHES,
            f"--window-size={size}",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), result.stderr[-3000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_the_page_renders_in_headless_chromium_without_console_errors(
    history: History, tmp_path: Path
) -> None:
    # The check itself: a page that breaks the rules shows up on the console.
    broken = tmp_path / "broken.html"
    broken.write_text(
        report.page.render_probe('<img src="http://127.0.0.1:9/x.png"><script>nothing();</script>')
    )
    messages = _open_in_chromium(broken, tmp_path / "broken.png", tmp_path / "p1", "400,300")
    assert any("Content Security Policy" in line for line in messages), messages
    assert any("nothing is not defined" in line for line in messages), messages

    shot = tmp_path / "report.png"
    messages = _open_in_chromium(history.final / "report.html", shot, tmp_path / "p2", "1280,2000")
    assert messages == []
    assert len(_colours(shot)) > 50


def test_no_run_and_no_matplotlib_are_one_line_errors(tmp_path: Path) -> None:
    empty = cli("report", "--state", "nothing-here", cwd=tmp_path)
    assert empty.returncode == 2
    assert empty.stderr.count("\n") == 1 and "nothing-here does not exist" in empty.stderr
    (tmp_path / "runs").mkdir()
    blocked = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.modules['matplotlib'] = None; "
         "from {{ cookiecutter.package_name }}.cli import main; sys.exit(main(['report']))"],
        cwd=tmp_path, capture_output=True, text=True, check=False, env=environment(),
    )
    assert blocked.returncode == 2
    assert blocked.stderr.count("\n") == 1 and "needs matplotlib" in blocked.stderr
    assert "pip install -e '.[report]'" in blocked.stderr
{%- if cookiecutter.storage == "s3" %}


def test_the_report_reads_logs_copied_to_object_storage(history: History) -> None:
    import fsspec

    local = read(StateSource(str(history.root / "runs")), 0.0)
    with serving():
        fs = fsspec.filesystem("s3")
        fs.put(str(history.root / "runs") + "/", f"{BUCKET}/copied/runs/", recursive=True)
        copied = read(StateSource(f"s3://{BUCKET}/copied/runs"), 0.0)
    assert [(run.name, run.state, run.done, run.failed) for run in copied.runs] == [
        (run.name, run.state, run.done, run.failed) for run in local.runs
    ]
    assert len(copied.runs) == 3 and copied.attempts == local.attempts
    assert copied.failures == local.failures and copied.totals() == local.totals()
{%- endif %}
