"""``report``: one self-contained HTML page and PNG figures of every run of a state location.

Read the logs (``source``) -> what they say (``model``) -> pictures (``figures``, matplotlib,
the optional ``report`` extra) -> the page (``page``). The runner itself never imports this.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .model import Model, read
from .source import StateSource

#: Runs that get pictures of their own (the latest ones); every run is in the tables.
MAX_RUN_SECTIONS = 12
#: The slowest units named on the page.
SLOWEST = 20


@dataclass
class Written:
    """What ``write`` made."""

    html: Path
    pngs: list[Path]
    model: Model


def _write_bytes(path: Path, data: bytes) -> None:
    """Atomically: a report open in a browser is never half-written."""
    staged = path.with_name(f".{path.name}.part-{os.getpid()}")
    staged.write_bytes(data)
    os.replace(staged, path)


def write(location: str, out: Path, title: str, install_hint: str) -> Written:
    """Read every run of ``location`` and write ``out/report.html`` and ``out/*.png``."""
    try:
        from . import figures, page
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("matplotlib", "numpy", "PIL"):
            raise
        raise UserError(
            f"the report needs matplotlib (the 'report' extra): {install_hint}"
        ) from None
    model = read(StateSource(location), time.time())
    if not model.runs:
        raise UserError(f"no run to report on in {location}")
    out.mkdir(parents=True, exist_ok=True)
    runs = model.runs
    pngs: list[Path] = []

    def picture(drawn: figures.Drawn | None, file: str, alt: str) -> page.Picture | None:
        if drawn is None:
            return None
        data = figures.png(drawn.figure)
        _write_bytes(out / file, data)
        pngs.append(out / file)
        return page.Picture(data, str(out / file), alt, drawn.note)

    finished = [attempt for attempt in model.attempts if attempt.outcome == "done"]
    slowest = sorted(finished, key=lambda attempt: -(attempt.seconds or 0.0))[:SLOWEST]
    started = any(model.attempts)
    pictures = {
        "timeline": picture(
            figures.timeline(model, runs, f"Every run ({len(runs)})") if started else None,
            "timeline.png",
            "timeline of every worker",
        ),
        "throughput": picture(
            figures.throughput(model, runs, f"Every run ({len(runs)})") if started else None,
            "throughput.png",
            "units finished per minute and ETA over time",
        ),
        "durations": picture(figures.durations(model), "durations.png", "unit durations"),
        "steps": picture(figures.steps(model, slowest), "steps.png", "time per step"),
        "failures": picture(figures.failures(model), "failures.png", "failures by cause"),
    }
    sections = []
    for run in runs[-MAX_RUN_SECTIONS:]:
        own = [a for a in model.attempts if a.run == run.index]
        drawn = (
            [
                picture(
                    figures.timeline(model, [run], f"Run {run.name}"),
                    f"run-{run.name}-timeline.png",
                    f"timeline of run {run.name}",
                ),
                picture(
                    figures.throughput(model, [run], f"Run {run.name}"),
                    f"run-{run.name}-throughput.png",
                    f"throughput of run {run.name}",
                ),
            ]
            if own
            else []
        )
        sections.append(page.RunSection(run, [p for p in drawn if p is not None]))
    per_shard, overall = model.totals()
    html = page.render(
        model,
        title,
        per_shard,
        overall,
        pictures,
        slowest,
        sections,
        max(len(runs) - MAX_RUN_SECTIONS, 0),
    )
    target = out / "report.html"
    _write_bytes(target, html.encode("utf-8"))
    return Written(target, pngs, model)
