"""The board: the main process reads what a worker runs, and since when, as one pair; and the
main process's account of each worker's units."""

from __future__ import annotations

from typing import Any

import multiprocess
import pytest

from {{ cookiecutter.package_name }}.board import Board
from {{ cookiecutter.package_name }}.dispatch import Dispatcher
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.start_method import default_start_method
from {{ cookiecutter.package_name }}.worker_slot import WorkerSlot

UNITS = 200_000


def start_units(board: Board, ready: Any) -> None:
    """A worker's side at full speed: unit ``n`` starts at time ``n``."""
    ready.set()
    for position in range(UNITS):
        board.begin(position, float(position))
        board.end(position)


def test_a_running_unit_is_never_read_with_the_start_time_of_another() -> None:
    """Read apart, the position of a unit and the start time of the next one were paired: its
    START line got a later time than its own LOG lines (a CI failure under load)."""
    context = multiprocess.get_context(default_start_method())
    board = Board(context)
    ready = context.Event()
    worker = context.Process(target=start_units, args=(board, ready))
    worker.start()
    try:
        assert ready.wait(60)
        torn: list[tuple[float, float]] = []
        while worker.is_alive():
            position, since = board.read()
            if position >= 0 and position == int(position) and since != position:
                torn.append((position, since))
    finally:
        worker.join()
    assert worker.exitcode == 0
    assert torn == []
    assert board.read() == (UNITS - 0.5, float(UNITS - 1))


def slot_holding(units: list[str | None], announced: set[int]) -> WorkerSlot:
    slot = WorkerSlot(process=None, conn=None, board=None)  # type: ignore[arg-type]
    slot.give([unit or "-" for unit in units])
    for index, unit in enumerate(units):
        if unit is None:  # taken back
            slot.assigned[index] = None
            slot.holding -= 1
    slot.announced = set(announced)
    return slot


@pytest.mark.parametrize(
    ("units", "announced"),
    [
        (["a", "b", "c", "d", "e"], set()),  # the common case
        (["a", "b", "c", "d", "e"], {1, 3}),  # long units, their START from the board
        (["a", None, "c", None, None, "f", "g"], set()),  # taken back between them
        (["a", None, "c", None, None, "f", "g"], {2}),
    ],
)
def test_a_run_of_finished_units_is_accounted_as_one_at_a_time(
    units: list[str | None], announced: set[int]
) -> None:
    """``finish(n)``, the main process's fast path for n plain units in a row, leaves the
    slot as n calls of ``finish_first`` do, and says which units' START was reported."""
    count = 3
    batch, single = slot_holding(units, announced), slot_holding(units, announced)
    flags = [single.finish_first() for _ in range(count)]
    assert batch.finish(count) == (flags if any(flags) else None)
    for name in ("assigned", "base", "holding", "announced"):
        assert getattr(batch, name) == getattr(single, name), name


def test_a_run_of_timings_moves_the_mean_as_each_would() -> None:
    one_by_one = Dispatcher([], Settings())
    at_once = Dispatcher([], Settings())
    for dispatcher in (one_by_one, at_once):
        dispatcher.timed(2.0)
    for _ in range(7):
        one_by_one.timed(0.5)
    at_once.timed_run(3.5, 7)
    assert at_once.mean_seconds == pytest.approx(one_by_one.mean_seconds)
    first = Dispatcher([], Settings())
    first.timed_run(3.0, 4)
    assert first.mean_seconds == pytest.approx(0.75)
