"""The report as one HTML file: tables as text, figures as inline PNG (``data:`` URLs).

Self-contained by construction: a Content-Security-Policy lets the page load nothing but its
own inline images, style and script, so it opens offline and never fetches anything.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from ..log import duration
from .model import Attempt, Failure, Model, Run, Totals

#: Unit ids listed per cause at most; tracebacks included at most.
IDS_PER_CAUSE = 50
MAX_TRACEBACKS = 300

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1240px; padding: 0 16px;
       color: #222; }
h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #f4f4f4; }
img { max-width: 100%; border: 1px solid #eee; }
.note { background: #fff8e0; border-left: 4px solid #f0a030; padding: 4px 10px; }
.muted { color: #666; } code, pre { font-size: 12px; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
details:target, details[open] { background: #fff4f4; }
"""

#: Opens the traceback a link points at (``:target`` alone does not open a <details>).
_SCRIPT = """
function openTarget() {
  var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target && target.tagName === "DETAILS") { target.open = true; }
}
window.addEventListener("hashchange", openTarget);
openTarget();
"""

_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


@dataclass
class Picture:
    """A figure on the page: its PNG bytes, the file it was also written to, a note."""

    png: bytes
    file: str
    alt: str
    note: str = ""

    def html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        note = f'<p class="note">{escape(self.note)}</p>' if self.note else ""
        return (
            f'{note}<img src="data:image/png;base64,{data}" alt="{escape(self.alt)}">'
            f'<p class="muted">Also in <code>{escape(self.file)}</code>.</p>'
        )


def when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _cell(value: object) -> str:
    if value is None or value == "":
        return '<span class="muted">-</span>'
    if isinstance(value, dict):
        return "<br>".join(f"{escape(str(k))}={escape(_plain(v))}" for k, v in value.items())
    return escape(_plain(value))


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    def tag(name: str, index: int, text: str) -> str:
        return f"<{name}{' class=n' if index in numeric else ''}>{text}</{name}>"

    cells = "".join(tag("th", index, text) for index, text in enumerate(head))
    body = "".join(
        "<tr>" + "".join(tag("td", index, text) for index, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


def _totals_rows(per_shard: list[Totals], overall: Totals) -> str:
    head = ["", "units", "done", "of which skipped (done before)", "failed", "pending", "runs"]
    rows = [
        [
            escape(t.name),
            f"{t.units:,}",
            f"{t.done:,}",
            f"{t.skipped:,}",
            f"{t.failed:,}",
            f"{t.pending:,}",
            f"{t.runs:,}",
        ]
        for t in [*per_shard, overall]
    ]
    table = _table(head, rows, {1, 2, 3, 4, 5, 6})
    if len(per_shard) > 1:  # the last row is the total
        cut = table.rfind("<tr>")
        table = table[:cut] + '<tr class="total">' + table[cut + 4 :]
    return table


def _run_rows(runs: Sequence[Run]) -> str:
    head = [
        "run",
        "shard",
        "started",
        "lasted",
        "state",
        "units",
        "skipped",
        "done",
        "failed",
        "pending",
        "units/s",
        "workers",
        "parameters",
        "code version",
        "also recorded",
    ]
    rows = []
    for run in runs:
        seconds = run.last - run.started
        rate = (run.done + run.failed) / seconds if seconds > 0 else 0.0
        state = escape(run.state) + (
            f'<br><span class="muted">{escape(run.stopped)}</span>' if run.stopped else ""
        )
        rows.append(
            [
                f'<a href="#run-{escape(run.name)}">{escape(run.name)}</a>',
                _cell(run.shard),
                escape(when(run.started)),
                duration(seconds) if seconds >= 60 else f"{seconds:.1f} s",
                state,
                f"{run.units:,}",
                f"{run.skipped:,}",
                f"{run.done:,}",
                f"{run.failed:,}",
                f"{run.pending:,}",
                f"{rate:.1f}",
                _cell(run.header.get("workers")),
                _cell(run.parameters),
                _cell(run.code),
                _cell(run.extra),
            ]
        )
    return _table(head, rows, {5, 6, 7, 8, 9, 10, 11})


def _slowest_rows(slowest: Sequence[Attempt], runs: Sequence[Run]) -> str:
    head = ["unit", "seconds", "output", "run", "steps (seconds)"]
    rows = [
        [
            f"<code>{escape(a.unit)}</code>",
            f"{a.seconds or 0.0:.3f}",
            _cell(a.output),
            escape(runs[a.run].name),
            _cell({name: round(value, 4) for name, value in (a.steps or {}).items()} or None),
        ]
        for a in slowest
    ]
    return _table(head, rows, {1})


def _step_rows(model: Model) -> str:
    totals: dict[str, list[float]] = {}
    for attempt in model.attempts:
        for name, seconds in (attempt.steps or {}).items():
            totals.setdefault(name, []).append(seconds)
    if not totals:
        return '<p class="muted">No step timings: wrap the steps of process() in step("name").</p>'
    grand = sum(sum(values) for values in totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -sum(item[1]))
    rows = [
        [
            f"<code>{escape(name)}</code>",
            f"{sum(values):.2f}",
            f"{100 * sum(values) / grand:.1f}%",
            f"{sum(values) / len(values):.4f}",
            f"{max(values):.4f}",
            f"{len(values):,}",
        ]
        for name, values in ranked
    ]
    return _table(
        ["step", "total seconds", "share", "mean per unit", "slowest", "units"],
        rows,
        {1, 2, 3, 4, 5},
    )


def _failure_sections(model: Model) -> tuple[str, str]:
    """The failures by cause (ids linking to tracebacks) and the tracebacks themselves."""
    by_cause: dict[str, list[tuple[int, Failure]]] = {}
    for index, failure in enumerate(model.failures):
        by_cause.setdefault(failure.cause, []).append((index, failure))
    shown = set(range(max(len(model.failures) - MAX_TRACEBACKS, 0), len(model.failures)))
    rows = []
    for cause, items in sorted(by_cause.items(), key=lambda item: -len(item[1])):
        links = []
        for index, failure in items[:IDS_PER_CAUSE]:
            label = f"<code>{escape(failure.unit)}</code>"
            links.append(f'<a href="#failure-{index}">{label}</a>' if index in shown else label)
        more = len(items) - IDS_PER_CAUSE
        rows.append(
            [
                f"<code>{escape(cause)}</code>",
                f"{len(items):,}",
                escape(when(min(f.at for _, f in items))),
                escape(when(max(f.at for _, f in items))),
                escape(items[-1][1].message[:300]),
                ", ".join(links) + (f" and {more:,} more" if more > 0 else ""),
            ]
        )
    table = _table(["cause", "units", "first", "last", "last message", "unit ids"], rows, {1})
    details = []
    for index in sorted(shown):
        failure = model.failures[index]
        details.append(
            f'<details id="failure-{index}"><summary><code>{escape(failure.unit)}</code> '
            f"{escape(failure.cause)} at {escape(when(failure.at))} "
            f"(run {escape(model.runs[failure.run].name)})</summary>"
            f"<pre>{escape(failure.traceback or failure.message)}</pre></details>"
        )
    note = ""
    if len(model.failures) > MAX_TRACEBACKS:
        note = (
            f'<p class="note">The {MAX_TRACEBACKS} latest of {len(model.failures):,} '
            "tracebacks are included; every one is in the runs' failures.jsonl.</p>"
        )
    return table, note + "".join(details)


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
    )


def render_probe(body: str) -> str:
    """A page with the report's head around ``body``: tests check with it that a browser
    reports what the policy blocks and what a script breaks."""
    return f"{_head('probe')}{body}</body></html>\n"


@dataclass
class RunSection:
    run: Run
    pictures: list[Picture]


def render(
    model: Model,
    title: str,
    per_shard: list[Totals],
    overall: Totals,
    pictures: dict[str, Picture | None],
    slowest: Sequence[Attempt],
    sections: Sequence[RunSection],
    skipped_sections: int,
) -> str:
    """The whole page."""
    notes = []
    for run in model.running:
        notes.append(
            f"Snapshot at {when(model.read_at)}: run {run.name} is still going "
            f"({run.done + run.failed:,} of {run.todo:,} units finished, {run.in_flight} in "
            "flight); generate the report again for a newer picture."
        )
    failures_table, tracebacks = _failure_sections(model)

    def picture(key: str, empty: str) -> str:
        drawn = pictures.get(key)
        return drawn.html() if drawn else f'<p class="muted">{escape(empty)}</p>'

    run_sections = "".join(
        f'<h3 id="run-{escape(s.run.name)}">Run {escape(s.run.name)}</h3>'
        f"<p>{escape(s.run.group)}, {escape(s.run.state)}, started {escape(when(s.run.started))}"
        f"{', ' + escape(s.run.stopped) if s.run.stopped else ''}.</p>"
        + "".join(p.html() for p in s.pictures)
        for s in sections
    )
    if skipped_sections:
        run_sections += (
            f'<p class="note">Pictures are drawn for the {len(sections)} latest runs; the '
            f"{skipped_sections:,} older ones are in the tables above and in the pictures of "
            "all runs together.</p>"
        )
    finished = model.finished()
    parts = [
        _head(title),
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{len(model.runs):,} runs of <code>{escape(model.location)}</code>, '
        f"{len(finished):,} unit attempts; read {escape(when(model.read_at))}.</p>",
        "".join(f'<p class="note">{escape(note)}</p>' for note in notes),
        '<nav><a href="#summary">Summary</a><a href="#timeline">Timeline</a>'
        '<a href="#throughput">Throughput and ETA</a><a href="#durations">Durations</a>'
        '<a href="#failures">Failures</a><a href="#runs">Each run</a></nav>',
        '<h2 id="summary">Summary</h2>',
        "<p>Where each shard stands after its latest run (done counts units whose output "
        "existed at a run's start as well as those done since).</p>",
        _totals_rows(per_shard, overall),
        "<h3>Runs</h3>",
        _run_rows(model.runs),
        '<h2 id="timeline">Timeline</h2>',
        "<p>One row per worker process of each shard, one bar per unit from START to END or "
        "FAIL; white space on a row is a worker with nothing to do.</p>",
        picture("timeline", "No unit started yet."),
        '<h2 id="throughput">Throughput and ETA</h2>',
        "<p>Units finished per minute, and the end each run predicted as it went (its ETA "
        "lines), against when it actually ended (dashed line, star).</p>",
        picture("throughput", "No unit finished yet."),
        '<h2 id="durations">Durations</h2>',
        picture("durations", "No unit finished yet."),
        f"<h3>The {len(slowest)} slowest units</h3>",
        _slowest_rows(slowest, model.runs),
        "<h3>Steps</h3>",
        picture("steps", "No step timings recorded."),
        _step_rows(model),
        '<h2 id="failures">Failures</h2>',
        picture("failures", "No unit failed."),
        failures_table if model.failures else "",
        '<h3 id="tracebacks">Tracebacks</h3>' + tracebacks if model.failures else "",
        '<h2 id="runs">Each run</h2>',
        run_sections,
        f"<script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"
