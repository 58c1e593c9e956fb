"""Test ``process()`` on a unit or two without the runner: ``unit_for_test`` builds the unit
``process`` would get in a run, from an input folder and a scratch output folder.

    unit = unit_for_test("tile_000", inputs=EXAMPLE_INPUTS, output=tmp_path)
    process(unit)
    assert json.loads(unit.output.read_text())["pixels"] == 40

``tests/test_process.py`` is the example; adapt it when you replace ``process.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .outputs import output_name
from .params import bind, resolve
from .settings import Settings
from .storage import open_store
from .units import Unit
from .worker import load_job


def unit_for_test(
    unit_id: str,
    *,
    inputs: str | os.PathLike[str],
    output: Path,
    job: str | None = None,
    resources: Any = None,
    params: Any = None,
    **settings: Any,
) -> Unit[Any]:
    """The unit ``unit_id`` of the job (default: ``process.py``), reading ``inputs``.

    Its resources come from the job's ``setup()`` run with ``input=inputs`` (and any other
    ``settings``), unless ``resources`` is given; its parameters are the job's ``Params``
    defaults, unless ``params`` is given: a ``Params``, or a dict of some of its fields (the
    others keep their defaults; a wrong key or type is the one-line error of ``--param``).
    ``unit.output`` is ``output/<unit id><OUTPUT_SUFFIX>`` (a folder with
    ``OUTPUT_SHAPE = "folder"``), written in place (a run writes a staged file and commits it);
    ``unit.scratch`` is ``output/.scratch/<unit id>``.
    """
    config = Settings(input=os.fspath(inputs), output=str(output), **settings)
    loaded = load_job(job or config.job)
    if isinstance(params, Mapping):
        origin = "unit_for_test(params=...)"
        params = resolve(loaded.params, [(key, value, origin) for key, value in params.items()])
    config = bind(config.replace(params=params), loaded.params)
    if resources is None:
        resources = loaded.setup(config)
    target = output / output_name(unit_id, loaded.suffix)
    (target if loaded.shape == "folder" else output).mkdir(parents=True, exist_ok=True)
    return Unit(
        unit_id,
        target,
        resources,
        open_store(config.input),
        output / ".scratch" / unit_id,
        config.params,
    )
