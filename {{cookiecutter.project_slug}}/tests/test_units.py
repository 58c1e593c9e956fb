"""Unit ids: validated before any work, sourced three ways, split into stable shards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import unitlist, units
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.settings import Settings, Shard

from .conftest import settings


def write_units(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "units.txt"
    path.write_text(text, encoding="utf-8")
    return Settings(units_file=str(path), input=str(tmp_path), state=str(tmp_path / "runs"))


def test_units_file_keeps_order_and_skips_comments(tmp_path: Path) -> None:
    config = write_units(tmp_path, "# header\nb\na\nc\n")
    assert units.load(config) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a\nb\na\n", 3, "duplicate unit id 'a' (first at"),
        ("a\n\nb\n", 2, "blank line"),
        ("a\n../escape\n", 2, "has a segment '..' that starts with '.'"),
        ("/etc/passwd\n", 1, "starts with '/'"),
        ("a\nb\\c\n", 2, "contains '\\\\'"),
        ("a\nnul\x00byte\n", 2, "contains '\\x00'"),
        ("a\nCON\n", 2, "reserved file name on Windows"),
        ("lpt1.txt\n", 1, "reserved file name on Windows"),
        (".hidden\n", 1, "starts with '.'"),
        ("..\n", 1, "starts with '.'"),
        ("with space\n", 1, "contains ' '"),
        ("x" * 201 + "\n", 1, "longer than 200 bytes"),
    ],
)
def test_bad_unit_lists_are_rejected_naming_the_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    config = write_units(tmp_path, text)
    with pytest.raises(UserError) as error:
        units.load(config)
    message = str(error.value)
    assert f"units.txt:{line}:" in message
    assert reason in message
    assert "\n" not in message


def test_glob_source_uses_file_stems(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", "notes.txt", ".hidden.csv"):
        (tmp_path / name).write_text("x")
    config = Settings(input=str(tmp_path), units_glob="*.csv")
    assert units.load(config) == ["a", "b"]


def test_glob_over_a_missing_input_folder_is_a_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(UserError) as error:
        units.load(Settings(input=str(missing), units_glob="*.csv"))
    assert str(error.value) == f"input folder {missing} does not exist or is not a folder"


def test_a_glob_that_matches_no_input_is_a_user_error(tmp_path: Path) -> None:
    """Most likely a typo (``*.tsv`` for ``*.csv``) or the wrong folder: a run of 0 units
    would exit 0 and hide it (and ``status`` would answer for that empty run)."""
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / ".hidden.tsv").write_text("x")  # hidden files are never units
    with pytest.raises(UserError) as error:
        units.load(Settings(input=str(tmp_path), units_glob="*.tsv"))
    assert str(error.value) == f"no input file in {tmp_path} matches units_glob '*.tsv'"


def list_units(config: Settings) -> list[str]:
    """A units function for the test below."""
    return [f"id-{n}" for n in range(3)]


def test_function_source(tmp_path: Path) -> None:
    config = Settings(units_function=f"{__name__}:list_units")
    assert units.load(config) == ["id-0", "id-1", "id-2"]


def test_function_source_that_cannot_load_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"units_function 'no\.such\.module:f' cannot be loaded"):
        units.load(Settings(units_function="no.such.module:f"))


def test_shards_are_disjoint_cover_everything_and_are_stable(tmp_path: Path) -> None:
    ids = [f"unit-{n}" for n in range(2000)]
    count = 7
    shards = [
        {unit_id for unit_id in ids if units.in_shard(unit_id, Shard(index, count))}
        for index in range(count)
    ]
    assert sum(len(shard) for shard in shards) == len(ids)
    assert set().union(*shards) == set(ids)
    assert all(len(shard) > 2000 / count / 2 for shard in shards)  # roughly balanced
    # Adding units never moves an existing unit to another shard.
    more = ids + [f"new-{n}" for n in range(500)]
    for index in range(count):
        again = {u for u in more if units.in_shard(u, Shard(index, count))}
        assert shards[index] <= again


def test_shard_setting_filters_loaded_units(workdir: Path) -> None:
    every = units.load(settings(workdir))
    parts = [units.load(settings(workdir, shard=Shard(i, 3))) for i in range(3)]
    assert sorted(u for part in parts for u in part) == sorted(every)


@pytest.mark.parametrize("text", ["1", "1/0", "3/3", "-1/2", "a/b", "1/2/3"])
def test_bad_shard_text(text: str) -> None:
    with pytest.raises(UserError, match="--shard"):
        Shard.parse(text)


@pytest.fixture
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search for repeats deals the hashes into buckets of ~32,768 (10 million ids: 512
    buckets); with buckets of ~16, a list of a few thousand ids gets hundreds of them too."""
    monkeypatch.setattr(unitlist, "BUCKET", 16)


def test_a_repeat_among_many_ids_names_both_lines(tmp_path: Path, small_buckets: None) -> None:
    ids = [f"tile-{(i * 7_919) % 50_000:06d}" for i in range(50_000)]  # no order, no repeat
    lines = ["# tiles of the survey", *ids[:30_000], "# second half", *ids[30_000:], ids[12_345]]
    config = write_units(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(UserError) as error:
        units.load(config)
    assert str(error.value).endswith(
        f"units.txt:{len(lines)}: duplicate unit id {ids[12_345]!r} (first at "
        f"{tmp_path / 'units.txt'}:12347)"
    )
    assert units.load(write_units(tmp_path, "\n".join(lines[:-1]) + "\n")) == ids


@pytest.mark.parametrize(
    "shared",
    [
        pytest.param(lambda unit_id: hash(unit_id[:-1]), id="ids but for their last character"),
        pytest.param(len, id="ids of a length: one bucket"),
    ],
)
def test_ids_sharing_a_hash_are_not_repeats(
    monkeypatch: pytest.MonkeyPatch, small_buckets: None, shared: Callable[[str], int]
) -> None:
    ids = [f"u{i * 37 % 1_000}" for i in range(1_000)]
    monkeypatch.setattr(unitlist, "hash", shared, raising=False)
    assert unitlist._hashes_seen_twice(unitlist.UnitList.of(ids))  # they do collide
    assert unitlist.UnitList.of(ids).first_repeat() is None
    assert unitlist.UnitList.of([*ids, ids[500]]).first_repeat() == (500, 1_000)
    assert unitlist.UnitList.of([*ids[:700], ids[3], *ids[700:]]).first_repeat() == (3, 700)


def test_ids_outside_the_plain_alphabet_are_checked_one_by_one(tmp_path: Path) -> None:
    config = write_units(tmp_path, "tuile-été\r\nx.y.z\r\nCONTOUR\n" + "a" * 200 + "\n")
    assert units.load(config) == ["tuile-été", "x.y.z", "CONTOUR", "a" * 200]


@pytest.mark.parametrize(
    ("bad", "reason"), [("com1.csv", "reserved"), ("a.", "ends with '.'"), ("a\x0bb", "unsafe")]
)
def test_a_list_that_is_not_plain_names_its_bad_line(tmp_path: Path, bad: str, reason: str) -> None:
    with pytest.raises(UserError, match=f"units.txt:2: .*{reason}"):
        units.load(write_units(tmp_path, f"ok\n{bad}\n"))


def test_unit_list_is_compact_and_behaves_like_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [f"u{i}" * (1 + i % 5) for i in range(1_000)]
    monkeypatch.setattr(unitlist, "CHUNK", 7)  # iterate across many chunk boundaries
    packed = unitlist.UnitList.of(ids)
    assert len(packed) == 1_000 and list(packed) == ids and packed == ids
    assert packed.head(3) == ids[:3] and packed.head(5_000) == ids
    done = set(ids[::2])
    assert packed.without(done) == [u for u in ids if u not in done]
    assert packed.filtered(lambda u: u.endswith("7")) == [u for u in ids if u.endswith("7")]
    assert ids[999] in packed and ids[0] in packed and "u1u" not in packed
    assert packed.first_repeat() is None
    assert unitlist.UnitList.of([*ids, ids[10], ids[3]]).first_repeat() == (10, 1_000)
    ordered = sorted(ids)  # the fast path: strictly ascending ids cannot repeat
    assert unitlist.UnitList.of(ordered).ascending() and not packed.ascending()
    assert unitlist.UnitList.of(ordered).first_repeat() is None
    again = [*ordered[:500], ordered[499], *ordered[500:]]  # ascending but for one repeat
    assert not unitlist.UnitList.of(again).ascending()
    assert unitlist.UnitList.of(again).first_repeat() == (499, 500)
    assert not unitlist.UnitList.of([]) and list(unitlist.UnitList()) == []


def test_unit_queue_hands_out_returned_units_first_and_reads_the_list_lazily() -> None:
    queue = unitlist.UnitQueue(unitlist.UnitList.of(["a", "b", "c", "d"]))
    assert len(queue) == 4 and queue.popleft() == "a"
    queue.extendleft(reversed(["a", "x"]))  # what a lost worker held goes back first, in order
    queue.extend(["y"])  # what a busy worker had not started goes to the end
    taken = [queue.popleft() for _ in range(len(queue))]
    assert taken == ["a", "x", "b", "c", "d", "y"] and not queue


def test_unit_queue_takes_a_chunk_as_popleft_gives_it() -> None:
    ids = [f"u{i}" for i in range(10)]

    def queue() -> unitlist.UnitQueue:
        made = unitlist.UnitQueue(unitlist.UnitList.of(ids))
        made.popleft()
        made.extendleft(["x", "w"])
        made.extend(["y", "z"])
        return made

    for size in (1, 2, 3, 5, 11, 13, 20):
        taking, popping = queue(), queue()
        chunks = []
        while taking:
            chunks.append(taking.take(size))
            assert len(taking) == len(popping) - len(chunks[-1])
            assert chunks[-1] == [popping.popleft() for _ in chunks[-1]]
        assert all(len(chunk) == size for chunk in chunks[:-1]) and not popping
        assert [unit for chunk in chunks for unit in chunk] == ["w", "x", *ids[1:], "y", "z"]
