"""``normal_path`` builds the staged output's ``Path`` without parsing its text: it must be
the very object ``Path(text)`` gives, on this Python, wherever a user can look."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.normal_path import _checked, _same, normal_path
from {{ cookiecutter.package_name }}.storage import LocalStore

TEXTS = [
    "/srv/out/.u1.csv.part-1f2e3d4c-12-0",
    "/srv/out/2024/01/.tile_7.tif.part-1f2e3d4c-12-3",
    "relative/out/.a b.json.part-0-1-2",
    "/ünïcode/ids/.Ω.npy.part-1-2-3",
    "/.top",
]


@pytest.mark.parametrize("text", TEXTS)
def test_it_is_the_path_that_parsing_gives(text: str) -> None:
    made, parsed = normal_path(text), Path(text)
    assert _same(made, parsed)
    assert made.parents[0] == parsed.parents[0] and list(made.parents) == list(parsed.parents)
    assert made.stem == parsed.stem and made.suffixes == parsed.suffixes
    assert made.with_name("x") == parsed.with_name("x")
    assert made.relative_to(made.parent) == parsed.relative_to(parsed.parent)
    assert {made: 1}[parsed] == 1  # equal, with equal hashes: one dict key
    assert repr(made) == repr(parsed)
    assert pickle.loads(pickle.dumps(made)) == parsed


def test_the_staged_output_works_as_a_file(tmp_path: Path) -> None:
    store = LocalStore(str(tmp_path))
    staged = store.staging_path("a/b/u1.csv")
    assert type(staged) is type(Path())
    assert staged == Path(str(staged))
    staged.write_text("x,y\n", encoding="utf-8")
    assert staged.exists() and staged.read_text(encoding="utf-8") == "x,y\n"
    with open(staged, encoding="utf-8") as handle:
        assert handle.read() == "x,y\n"
    assert store.commit(staged, "a/b/u1.csv") == os.fspath(tmp_path / "a/b/u1.csv")
    assert not staged.exists() and (tmp_path / "a/b/u1.csv").is_file()


def test_a_builder_that_differs_from_parsing_is_not_used() -> None:
    def wrong(text: str) -> Path:
        return Path(text + "x")

    def broken(text: str) -> Path:
        raise AttributeError("_str")

    assert _checked(wrong) is Path
    assert _checked(broken) is Path
    assert _checked(Path) is Path
