"""What a worker does with one unit: time it, run ``process`` inside try/except, commit the
output atomically, and turn any failure into a record naming the unit. Every backend (the
local pool, ``--debug``, {% if cookiecutter.scale_out == "dask" %}Dask, {% endif %}shards) runs units through this one function.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from . import log, transient
from .children import children_of, end_leftovers
from .errors import UserError, import_user_module
from .events import Done, Outcome
from .outputs import SHAPES, SKIP_SUFFIX, output_name
from .settings import Settings
from .storage import open_store, remove_tree
from .units import Unit

R = TypeVar("R")
LOGGER = logging.getLogger(__name__)

NOTHING_WRITTEN = (
    "process() wrote nothing to unit.output (call unit.skip(reason) for a unit that has no "
    "output on purpose)"
)


@dataclass(frozen=True)
class Job(Generic[R]):
    """The user's code: ``setup`` once per worker, ``process`` once per unit."""

    process: Callable[[Unit[R]], None]
    setup: Callable[[Settings], R]
    suffix: str
    #: The dataclass of the run's parameters (``Params`` in process.py), if any.
    params: type | None = None
    #: ``file`` or ``folder`` (``OUTPUT_SHAPE`` in process.py; see outputs.py).
    shape: str = "file"
    #: ``gather(units, into)`` of process.py: combines the done outputs (see gather.py).
    gather: Callable[[Iterator[Any], Path], None] | None = None
    #: The suffix of the combined result (``GATHER_SUFFIX``; default: ``suffix``).
    gather_suffix: str | None = None
    #: Whether a failure is worth another attempt (``--retries``); see transient.py.
    is_transient: Callable[[BaseException], bool] = transient.default


def _no_setup(settings: Settings) -> None:
    return None


def load_job(reference: str) -> Job[Any]:
    """The job named by the ``job`` setting: ``module`` (which defines ``process`` and
    optionally ``setup`` and ``OUTPUT_SUFFIX``) or ``module:attribute`` naming a ``Job``."""
    module_name, _, attribute = reference.partition(":")
    module = import_user_module(module_name, f"job {reference!r}")
    target = getattr(module, attribute, None) if attribute else module
    if attribute and target is None:
        raise UserError(
            f"job {reference!r} cannot be loaded: {module_name} has no attribute {attribute!r}"
        )
    if isinstance(target, Job):
        return target
    process = getattr(target, "process", None) if not attribute else None
    if not callable(process):
        raise UserError(f"job {reference!r} is neither a module defining process(unit) nor a Job")
    setup = getattr(target, "setup", _no_setup)
    suffix = str(getattr(target, "OUTPUT_SUFFIX", ""))
    shape = getattr(target, "OUTPUT_SHAPE", "file")
    if shape not in SHAPES:
        raise UserError(f"job {reference!r}: OUTPUT_SHAPE {shape!r} is not one of {SHAPES}")
    return Job(
        process,
        setup,
        suffix,
        params=getattr(target, "Params", None),
        shape=shape,
        gather=getattr(target, "gather", None),
        gather_suffix=getattr(target, "GATHER_SUFFIX", None),
        is_transient=getattr(target, "is_transient", transient.default),
    )


def default_job() -> Job[Any]:
    """The job defined in ``process.py``."""
    return load_job("{{ cookiecutter.package_name }}.process")


def describe(exc: BaseException) -> tuple[str, str]:
    """The type name (with the errno of an OSError) and message of an exception."""
    name = type(exc).__qualname__
    if isinstance(exc, OSError) and exc.errno is not None:
        name = f"{name} [Errno {exc.errno}]"
    return name, str(exc) or repr(exc)


def rss_mb() -> float:
    """This process's resident memory in MiB (current on Linux, peak elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class Worker(Generic[R]):
    """The state of one worker process: the job's resources, loaded once, and the stores."""

    def __init__(self, job: Job[R], settings: Settings, *, contain_children: bool = True) -> None:
        """``contain_children``: end the processes a unit leaves running when it ends (only
        where one unit at a time runs in this process)."""
        self.job = job
{%- if cookiecutter.storage == "s3" %}
        self.inputs = open_store(settings.input, settings.storage_timeout)
        self.outputs = open_store(settings.output, settings.storage_timeout)
{%- else %}
        self.inputs = open_store(settings.input)
        self.outputs = open_store(settings.output)
{%- endif %}
        self.scratch_root = Path(tempfile.mkdtemp(prefix=f"unit-scratch-{os.getpid()}-"))
        self._scratch_prefix = os.path.join(self.scratch_root, "")
        self.params = settings.params
        #: Whether units already done are redone, so may leave an output of another shape.
        self.redoing = settings.overwrite or settings.rerun_stale
        self._process = job.process
        self._suffix = job.suffix
        self._folder_shape = job.shape == "folder"
        self.resources = job.setup(settings)
        #: What setup() started lives as long as the worker; None: children are not tracked.
        self.spared = frozenset(children_of(os.getpid())) if contain_children else None

    def attempt(self, unit_id: str, *, capture: bool = True) -> Outcome:
        """Run one unit. With ``capture`` any exception becomes a failed Outcome; without it
        (``--debug``) the exception propagates, so a debugger stops where it happened."""
        result = self.run(unit_id, capture=capture)
        if isinstance(result, Outcome):
            return result
        unit_id, started, seconds, ended, url = result
        return Outcome(unit_id, True, started, seconds, url, ended=ended)

    def run(self, unit_id: str, *, capture: bool = True) -> Outcome | Done:
        """``attempt``, with a unit that committed its output and has nothing else to report
        (most units) as a plain ``Done`` record: the local pool's workers send those."""
        name = output_name(unit_id, self._suffix)
        folder = self._folder_shape
        outputs = self.outputs
        staged = outputs.stage_folder(name) if folder else outputs.staging_path(name)
        unit = Unit(
            unit_id,
            staged,
            self.resources,
            self.inputs,
            self._scratch_prefix + unit_id,
            self.params,
        )
        started = time.time()
        clock = time.perf_counter()
        committed = False
        steps: dict[str, float] = {}
        token = log.STEPS.set(steps)
        try:
            try:
                self._process(unit)
            finally:
                if self.spared is not None:
                    self._end_leftovers()
            if unit.skipped is not None:
                self._skip(name, unit.skipped)
                return self._outcome(unit, started, clock, None, steps)
            if folder:
                if not any(staged.iterdir()):
                    raise RuntimeError(NOTHING_WRITTEN)
                url = outputs.commit_folder(staged, name, "")
            else:
                try:
                    url = outputs.commit(staged, name)
                except FileNotFoundError:
                    if os.path.lexists(staged):
                        raise
                    raise RuntimeError(NOTHING_WRITTEN) from None
            committed = True
            if self.redoing:  # an older skip record would outlive its meaning
                outputs.remove(name + SKIP_SUFFIX, folder=False)
            if steps:
                return self._outcome(unit, started, clock, url, steps)
            return (unit_id, started, time.perf_counter() - clock, time.time(), url)
        except Exception as exc:
            if not capture:
                raise
            error, message = describe(exc)
            return Outcome(
                unit_id,
                False,
                started,
                time.perf_counter() - clock,
                error=error,
                message=message,
                traceback=traceback.format_exc(),
                transient=self._transient(exc),
                ended=time.time(),
            )
        finally:
            log.STEPS.reset(token)
            if not committed:
                outputs.discard(staged)
            if unit.scratch_made:
                remove_tree(unit.scratch)

    @staticmethod
    def _outcome(
        unit: Unit[R], started: float, clock: float, url: str | None, steps: dict[str, float]
    ) -> Outcome:
        """The Outcome of a unit that ended well but has more to report than a ``Done``."""
        seconds = time.perf_counter() - clock
        return Outcome(
            unit.id,
            True,
            started,
            seconds,
            url,
            steps or None,
            skipped=unit.skipped,
            ended=time.time(),
        )

    def _skip(self, name: str, reason: str) -> None:
        """Record a unit with no output on purpose: a small file holding the reason. A redone
        unit's older output goes first (see outputs.py)."""
        if self.redoing:
            self.outputs.remove(name, folder=self.job.shape == "folder")
        marker = self.outputs.staging_path(name + SKIP_SUFFIX)
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(reason + "\n")
        try:
            self.outputs.commit(marker, name + SKIP_SUFFIX)
        except BaseException:
            self.outputs.discard(marker)
            raise

    def _end_leftovers(self) -> None:
        assert self.spared is not None
        ended = end_leftovers(self.spared)
        if ended:
            LOGGER.warning(
                "ended %d process(es) the unit left running: %s", len(ended), ", ".join(ended)
            )

    def _transient(self, exc: BaseException) -> bool:
        try:
            return bool(self.job.is_transient(exc))
        except Exception:  # noqa: UW302 - a broken classifier must not lose the unit's failure
            return False

    def close(self) -> None:
        remove_tree(self.scratch_root)
