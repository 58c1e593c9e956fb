"""What ``retry`` redoes: the failed units that have no output since, shard by shard.

Given ``--shard I/N``, ``retry`` redoes that shard's failed units. Without it, after a job
run in shards (the last run of the state folder was a shard), it redoes every shard's failed
units, each shard in a run of its own (what ``retry --shard I/N`` for each I would do): each
shard keeps its own lock, runs and logs, so ``status`` still shows the job shard by shard. A
shard that is still running has its failures retried by no one else: ``retry`` says so before
it starts anything.
"""

from __future__ import annotations

from pathlib import Path

from . import checkpoint, lastrun, units
from .errors import UserError
from .failures import retry_list
from .lock import is_held
from .runner import lock_path
from .settings import Settings, Shard
from .storage import open_store
from .worker import load_job


def shard_count(states: list[Path]) -> int | None:
    """N when the last run of the state folders was a shard I/N, else None."""
    found = lastrun.latest(states)
    shard = found[1]["shard"] if found else None
    return Shard.parse(shard).count if shard else None


def plan(settings: Settings, count: int | None) -> list[tuple[Shard | None, list[str]]]:
    """The units to retry, by shard: for each of the ``count`` shards that has failed units
    (None: one entry, for the shard of ``settings`` or the whole job), in unit-list order."""
    job = load_job(settings.job)
    done = checkpoint.done_ids(open_store(settings.output), job.suffix, job.shape)
    failed = retry_list(Path(settings.state), done)
    todo = [unit_id for unit_id in units.load(settings) if unit_id in failed]
    if count is None:
        return [(settings.shard, todo)] if todo else []
    by_shard: dict[int, list[str]] = {}
    for unit_id in todo:
        by_shard.setdefault(units.shard_index(unit_id, count), []).append(unit_id)
    return [(Shard(index, count), by_shard[index]) for index in sorted(by_shard)]


def check_not_running(settings: Settings, planned: list[tuple[Shard | None, list[str]]]) -> None:
    """A UserError naming the shards of ``planned`` whose run still holds its lock."""
    shards = [shard for shard, _ in planned if shard is not None]
    locks = [(shard, lock_path(settings.replace(shard=shard))) for shard in shards]
    running = [f"{shard} (lock {lock})" for shard, lock in locks if is_held(lock)]
    if running:
        which = (
            f"shard {running[0]} is" if len(running) == 1 else f"shards {', '.join(running)} are"
        )
        raise UserError(
            f"{which} still running: retry when it has ended, or retry the other shards "
            "with --shard I/N"
        )
