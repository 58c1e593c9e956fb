"""The board: the main process reads what a worker runs, and since when, as one pair."""

from __future__ import annotations

from typing import Any

import multiprocess

from {{ cookiecutter.package_name }}.board import Board
from {{ cookiecutter.package_name }}.start_method import default_start_method

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
