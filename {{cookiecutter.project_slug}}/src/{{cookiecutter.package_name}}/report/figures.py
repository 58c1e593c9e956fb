"""The report's pictures, drawn with matplotlib's object API.

``Figure`` objects are rendered by the Agg canvas: no pyplot (no global state, no GUI), the
same PNG bytes go to a file and into the HTML. Times are UTC dates on the x axis, so a burst
of failures at 3 a.m. shows as 3 a.m.
"""

from __future__ import annotations

import io
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from matplotlib import dates
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .model import Attempt, Model, Run

COLOURS = {"done": "#4c72b0", "failed": "#d62728", "in flight": "#f0a030"}
RESUME = "#2ca02c"
STOP = "#9467bd"
#: Above this many attempts, a worker's neighbouring bars closer than a pixel are merged.
MAX_BARS = 20_000
#: The timeline plot's width in pixels, about: closer bars merge, none is drawn thinner than one.
MERGE_PIXELS = 800
#: Above this many worker rows, the timeline draws one row per shard instead.
MAX_ROWS = 120
#: ETA readings drawn per run at most (evenly spaced).
MAX_ETA_POINTS = 2_000
WIDTH = 12.0
#: The epoch as matplotlib's date number (a naive datetime is UTC to matplotlib).
_ZERO = float(dates.date2num(datetime(1970, 1, 1)))  # type: ignore[no-untyped-call]


def _x(seconds: float) -> float:
    """Seconds since the epoch as matplotlib's date number."""
    return _ZERO + seconds / 86_400.0


def _date_axis(axis: Axis) -> None:
    """UTC dates on ``axis``, labelled concisely (the date once, then times)."""
    locator = dates.AutoDateLocator(tz="UTC")  # type: ignore[no-untyped-call]
    axis.set_major_locator(locator)
    axis.set_major_formatter(dates.ConciseDateFormatter(locator, tz="UTC"))  # type: ignore[no-untyped-call]


def _figure(
    height: float,
    *,
    left: float = 0.8,
    right: float = 0.3,
    top: float = 0.45,
    bottom: float = 0.6,
    wspace: float = 0.2,
    hspace: float = 0.2,
) -> Figure:
    """A figure with fixed margins in inches: a layout engine would draw it twice."""
    figure = Figure(figsize=(WIDTH, height))
    figure.subplots_adjust(
        left=left / WIDTH,
        right=1 - right / WIDTH,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=wspace,
        hspace=hspace,
    )
    return figure


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


@dataclass
class Drawn:
    """A figure and what the page must say about how it was drawn (merging, sampling)."""

    figure: Figure
    note: str = ""


def _rows(
    attempts: Sequence[Attempt], runs: dict[int, Run]
) -> tuple[dict[tuple[int, str], int], list[str], list[tuple[str, int, int]]]:
    """A row per concurrent worker of each group (shard, host): a worker that started after
    another of its group had finished (a recycled worker, the next run) reuses its row.
    Returns the row of each (run, worker), the row labels and each group's first and last row."""
    spans: dict[str, dict[tuple[int, str], list[float]]] = defaultdict(dict)
    for attempt in attempts:
        key = (attempt.run, attempt.worker)
        span = spans[runs[attempt.run].group].setdefault(key, [attempt.start, attempt.end])
        span[0] = min(span[0], attempt.start)
        span[1] = max(span[1], attempt.end)
    row_of: dict[tuple[int, str], int] = {}
    labels: list[str] = []
    groups: list[tuple[str, int, int]] = []
    for group in sorted(spans):
        first = len(labels)
        busy_until: list[float] = []
        for key, (start, end) in sorted(spans[group].items(), key=lambda item: item[1][0]):
            free = next((lane for lane, until in enumerate(busy_until) if until <= start), None)
            if free is None:
                free = len(busy_until)
                busy_until.append(end)
                labels.append(f"{group} · worker {free + 1}")
            busy_until[free] = end
            row_of[key] = first + free
        groups.append((group, first, len(labels) - 1))
    if len(labels) > MAX_ROWS:  # one row per group instead
        row_of = {}
        for index, (group, _, _) in enumerate(groups):
            for key in spans[group]:
                row_of[key] = index
        labels = [group for group, _, _ in groups]
        groups = [(group, index, index) for index, (group, _, _) in enumerate(groups)]
    return row_of, labels, groups


def _merged(bars: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """(start, end) bars sorted and joined where less than ``gap`` apart."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(bars):
        if merged and start - merged[-1][1] < gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def timeline(model: Model, runs: Sequence[Run], title: str) -> Drawn:
    """A row per worker, a bar per unit attempt; resumes and interruptions marked."""
    chosen = {run.index: run for run in runs}
    attempts = [attempt for attempt in model.attempts if attempt.run in chosen]
    row_of, labels, groups = _rows(attempts, chosen)
    height = min(2.0 + 0.22 * max(len(labels), 1), 30.0)
    figure = _figure(height, left=2.2, right=1.9)
    axes = figure.add_subplot()
    starts = [attempt.start for attempt in attempts] + [run.started for run in runs]
    ends = [attempt.end for attempt in attempts] + [run.last for run in runs]
    first, last = min(starts), max(ends)
    span = max(last - first, 1e-3)
    merge = len(attempts) > MAX_BARS
    gap = span / MERGE_PIXELS
    note = ""
    bars: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    for attempt in attempts:
        bars[(row_of[(attempt.run, attempt.worker)], attempt.outcome)].append(
            (attempt.start, attempt.end)
        )
    drawn = 0
    minimum = span / MERGE_PIXELS  # a unit of a millisecond in a day is still seen
    for outcome in ("done", "in flight", "failed"):  # failures last: on top
        for (row, kind), spans in bars.items():
            if kind != outcome:
                continue
            if merge:
                spans = _merged(spans, gap)
            drawn += len(spans)
            axes.broken_barh(
                [(_x(start), max(end - start, minimum) / 86_400.0) for start, end in spans],
                (row - 0.4, 0.8),
                facecolors=COLOURS[outcome],
                linewidth=0,
            )
    if merge:
        note = (
            f"{len(attempts):,} unit attempts drawn as {drawn:,} bars: a worker's consecutive "
            f"units less than {gap:.3g} s apart are drawn as one bar (a pixel of this picture); "
            "longer idle gaps are visible."
        )
    if len(labels) != len({(attempt.run, attempt.worker) for attempt in attempts}):
        note += " Workers that never ran at the same time share a row (recycled workers, runs)."
    rows = {group: (low, high) for group, low, high in groups}
    previous: dict[str, Run] = {}
    for run in runs:
        low, high = rows.get(run.group, (0, max(len(labels) - 1, 0)))
        before = previous.get(run.group)
        if run.skipped or (before is not None and before.interrupted) or run.took_over:
            axes.vlines(_x(run.started), low - 0.5, high + 0.5, colors=RESUME, linewidth=2)
            axes.annotate("resume", (_x(run.started), high + 0.45), color=RESUME, fontsize=8)
        if run.interrupted:
            axes.vlines(_x(run.last), low - 0.5, high + 0.5, colors=STOP, linewidth=2)
            axes.annotate(run.state, (_x(run.last), low - 0.45), color=STOP, fontsize=8)
        elif run.state == "running":
            axes.vlines(_x(run.last), low - 0.5, high + 0.5, colors=STOP, linestyles="dotted")
            axes.annotate("snapshot", (_x(run.last), low - 0.45), color=STOP, fontsize=8)
        previous[run.group] = run
    for _, low, _ in groups[1:]:
        axes.axhline(low - 0.5, color="#888888", linewidth=0.6)
    axes.set_yticks(range(len(labels)), labels, fontsize=8 if len(labels) < 40 else 6)
    axes.set_ylim(len(labels) - 0.5, -0.5)
    axes.set_xlim(_x(first - span * 0.01), _x(last + span * 0.01))
    _date_axis(axes.xaxis)
    axes.set_xlabel("time (UTC)")
    axes.set_title(title)
    axes.legend(
        handles=[
            Patch(color=COLOURS["done"], label="done"),
            Patch(color=COLOURS["failed"], label="failed"),
            Patch(color=COLOURS["in flight"], label="cut off / still running"),
            Line2D([], [], color=RESUME, linewidth=2, label="resume"),
            Line2D([], [], color=STOP, linewidth=2, label="interrupted / stopped"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
    )
    return Drawn(figure, note.strip())


_BINS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86_400)


def throughput(model: Model, runs: Sequence[Run], title: str) -> Drawn:
    """Units finished per minute over time, and the ETA each run predicted against its end."""
    chosen = {run.index for run in runs}
    finished = [a for a in model.attempts if a.run in chosen and a.outcome != "in flight"]
    figure = _figure(6.0, left=1.3, hspace=0.25)
    rate_axes, eta_axes = figure.subplots(2, 1, sharex=True)
    first = min([run.started for run in runs])
    last = max([run.last for run in runs])
    span = max(last - first, 1.0)
    width = next((size for size in _BINS if span / size <= 150), _BINS[-1])
    count = int(span // width) + 1
    bottom = [0.0] * count
    for outcome in ("done", "failed"):  # stacked: failures on top of the units done
        counts = [0] * count
        for attempt in finished:
            if attempt.outcome == outcome:
                counts[min(int((attempt.end - first) // width), count - 1)] += 1
        per_minute = [value * 60.0 / width for value in counts]
        rate_axes.bar(
            [_x(first + (index + 0.5) * width) for index in range(count)],
            per_minute,
            bottom=bottom,
            width=width / 86_400.0,
            color=COLOURS[outcome],
            label=outcome,
        )
        bottom = [a + b for a, b in zip(bottom, per_minute, strict=True)]
    rate_axes.set_ylabel(f"units per minute\n({width:g} s bins)")
    rate_axes.set_xlim(_x(first - span * 0.01), _x(first + count * width + span * 0.01))
    rate_axes.legend(fontsize=8, loc="upper right")
    rate_axes.set_title(title)
    for run in runs:
        readings = run.eta
        if not readings:
            continue
        step = max(1, math.ceil(len(readings) / MAX_ETA_POINTS))
        sample = readings[::step] + ([readings[-1]] if (len(readings) - 1) % step else [])
        line = eta_axes.plot(
            [_x(at) for at, _ in sample],
            [_x(end) for _, end in sample],
            linewidth=1.2,
            label=f"{run.name}: predicted end",
        )[0]
        if run.state != "running":
            eta_axes.axhline(_x(run.last), color=line.get_color(), linestyle="--", linewidth=0.8)
            eta_axes.plot(
                [_x(run.last)], [_x(run.last)], marker="*", markersize=12, color=line.get_color()
            )
    eta_axes.set_ylabel("predicted end (UTC)\n-- actual end")
    _date_axis(eta_axes.yaxis)
    _date_axis(eta_axes.xaxis)
    eta_axes.set_xlabel("time (UTC)")
    if len(runs) <= 8:
        eta_axes.legend(fontsize=7, loc="upper left")
    return Drawn(figure)


def durations(model: Model) -> Drawn:
    """How long units take: a histogram, log-scaled when they span decades."""
    figure = _figure(4.0)
    axes = figure.add_subplot()
    done = [a.seconds or 0.0 for a in model.attempts if a.outcome == "done"]
    failed = [a.seconds or 0.0 for a in model.attempts if a.outcome == "failed"]
    values = [value for value in done + failed if value > 0]
    if not values:
        axes.text(0.5, 0.5, "no unit finished yet", ha="center", transform=axes.transAxes)
        return Drawn(figure)
    low, high = min(values), max(values)
    logarithmic = high / low > 50
    edges: int | list[float] = 30
    if logarithmic:
        edges = [low * (high / low) ** (index / 60) for index in range(61)]
        axes.set_xscale("log")
    elif high > low:
        edges = [low + (high - low) * index / 60 for index in range(61)]
    axes.hist(
        [[v for v in done if v > 0], [v for v in failed if v > 0]],
        bins=edges,
        stacked=True,
        color=[COLOURS["done"], COLOURS["failed"]],
        label=["done", "failed"],
    )
    median = statistics.median(values)
    p95 = sorted(values)[min(len(values) - 1, int(len(values) * 0.95))]
    marks = {median: "median", p95: "95th percentile", high: "slowest"}  # the last name wins
    for value, name in marks.items():
        axes.axvline(value, color="#333333", linestyle="--", linewidth=0.8)
        axes.annotate(
            f"{name} {value:.3g} s",
            (value, 0.97),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
        )
    axes.set_xlabel("seconds per unit" + (" (log scale)" if logarithmic else ""))
    axes.set_ylabel("units")
    axes.set_title(f"Unit durations: {len(values):,} units")
    axes.legend(fontsize=8)
    return Drawn(figure)


def steps(model: Model, slowest: Sequence[Attempt]) -> Drawn | None:
    """Where a unit's time goes: each step's share in total, and per unit for the slowest."""
    totals: dict[str, float] = defaultdict(float)
    for attempt in model.attempts:
        for name, seconds in (attempt.steps or {}).items():
            totals[name] += seconds
    if not totals:
        return None
    figure = _figure(4.5, left=1.0, wspace=0.35)
    share_axes, unit_axes = figure.subplots(1, 2, width_ratios=(1, 1.6))
    names = sorted(totals, key=lambda name: -totals[name])
    grand = sum(totals.values()) or 1.0
    colour = {name: f"C{index % 10}" for index, name in enumerate(names)}
    share_axes.barh(names, [totals[name] for name in names], color=[colour[n] for n in names])
    for index, name in enumerate(names):
        share_axes.annotate(
            f" {100 * totals[name] / grand:.0f}%", (totals[name], index), va="center", fontsize=8
        )
    share_axes.invert_yaxis()
    share_axes.set_xlabel("seconds, all units")
    share_axes.set_title("Steps in total")
    units = [attempt for attempt in slowest if attempt.steps][:15]
    left = [0.0] * len(units)
    labels = [attempt.unit for attempt in units]
    for name in names:
        widths = [(attempt.steps or {}).get(name, 0.0) for attempt in units]
        unit_axes.barh(labels, widths, left=left, color=colour[name], label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    rest = [
        max((attempt.seconds or 0.0) - done, 0.0) for attempt, done in zip(units, left, strict=True)
    ]
    unit_axes.barh(labels, rest, left=left, color="#cccccc", label="outside steps")
    unit_axes.invert_yaxis()
    unit_axes.set_xlabel("seconds")
    unit_axes.set_title("Steps of the slowest units")
    unit_axes.legend(fontsize=8, loc="lower right")
    unit_axes.tick_params(axis="y", labelsize=7)
    return Drawn(figure)


def failures(model: Model) -> Drawn | None:
    """Failures by cause, and when each happened."""
    causes = model.causes()
    if not causes:
        return None
    figure = _figure(1.6 + 0.35 * len(causes), left=2.6, wspace=0.05)
    count_axes, when_axes = figure.subplots(1, 2, width_ratios=(1, 2), sharey=True)
    names = [name for name, _ in causes.most_common()]
    short = [name if len(name) <= 40 else name[:39] + "…" for name in names]
    count_axes.barh(range(len(names)), [causes[name] for name in names], color=COLOURS["failed"])
    count_axes.set_yticks(range(len(names)), short)
    count_axes.set_ylim(len(names) - 0.5, -0.5)
    count_axes.set_xlabel("failed units")
    count_axes.set_title("Failures by cause")
    row = {name: index for index, name in enumerate(names)}
    when_axes.scatter(
        [_x(failure.at) for failure in model.failures],
        [row[failure.cause] for failure in model.failures],
        marker="|",
        s=200,
        color=COLOURS["failed"],
    )
    when_axes.tick_params(axis="y", labelleft=False)
    _date_axis(when_axes.xaxis)
    when_axes.set_xlabel("time (UTC)")
    when_axes.set_title("When they happened")
    return Drawn(figure)
