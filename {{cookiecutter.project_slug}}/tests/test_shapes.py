"""Output shapes (one file, a folder, none on purpose), ids with a hierarchy, nested and
optional inputs and ``**`` globs, through the real command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.outputs import first_clash, scan
from {{ cookiecutter.package_name }}.unitlist import UnitList
from {{ cookiecutter.package_name }}.units import check_id, path_matches, validated

from .faultkit import cli, environment

INPUTS = {
    "Python/org~repo.txt": "42",
    "Python/org~repo.notes": "a note",
    "Go/tools.txt": "7",
    "R/nothing.txt": "empty",
}

#: What the runs of INPUTS leave in the output location: two folders and one skip record.
OUTPUTS = [
    "Go/tools/_SUCCESS",
    "Go/tools/plots/plot.txt",
    "Go/tools/table.csv",
    "Python/org~repo/_SUCCESS",
    "Python/org~repo/plots/plot.txt",
    "Python/org~repo/table.csv",
    "R/nothing.skipped",
]


def make_inputs(root: Path, extra: dict[str, str] | None = None) -> Path:
    for name, text in {**INPUTS, **(extra or {})}.items():
        path = root / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def shape_args(output: str = "out", inputs: str = "inputs") -> list[str]:
    return [
        "--job",
        "tests.shape_jobs",
        "--units-glob",
        "**/*.txt",
        "--input",
        inputs,
        "--output",
        output,
        "--state",
        "runs",
    ]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_folder_outputs_skips_and_nested_ids_on_a_local_folder(tmp_path: Path) -> None:
    make_inputs(tmp_path, {"Go/deep/broken.txt": "boom"})
    first = cli("run", "--no-progress", *shape_args(), cwd=tmp_path, env=environment())
    assert first.returncode == 1, first.stderr
    assert "3 done, 0 skipped (already done), 1 failed" in first.stdout, first.stdout
    assert "1 have no output on purpose" in first.stdout
    assert files_under(tmp_path / "out") == OUTPUTS
    out = tmp_path / "out"
    assert (out / "Python/org~repo/plots/plot.txt").read_text() == "a note"  # optional: there
    assert (out / "Go/tools/plots/plot.txt").read_text() == "no notes"  # optional: missing
    assert (out / "R/nothing.skipped").read_text() == "no data for this repository\n"
    log = next((tmp_path / "runs").glob("*/run.log")).read_text()
    [skip_line] = [line for line in log.splitlines() if "END   R/nothing " in line]
    assert 'skipped="no data for this repository"' in skip_line and "output=" not in skip_line
    assert "boom after one file" in first.stderr
    # The failed unit left nothing behind: no folder, no staged leftovers.
    assert not any(name.startswith(".") for name in os.listdir(out / "Go"))

    status = cli("status", *shape_args(), cwd=tmp_path, env=environment())
    assert "done:    2" in status.stdout and "skipped: 1" in status.stdout, status.stdout
    assert "failed:  1" in status.stdout

    (tmp_path / "inputs/Go/deep/broken.txt").write_text("fixed")
    again = cli("run", "--no-progress", *shape_args(), cwd=tmp_path, env=environment())
    assert again.returncode == 0, again.stderr
    assert "1 done, 3 skipped (already done), 0 failed" in again.stdout

    (tmp_path / "inputs/Python/org~repo.notes").unlink()
    redo = cli("run", "--no-progress", *shape_args(), "--overwrite", cwd=tmp_path, env=environment())
    assert redo.returncode == 0, redo.stderr
    assert (out / "Python/org~repo/plots/plot.txt").read_text() == "no notes"
    assert not [p for p in out.rglob(".*")], "a redone folder left its old copy behind"


def test_a_unit_that_changes_shape_leaves_no_older_result(tmp_path: Path) -> None:
    make_inputs(tmp_path)
    out, folders, files = tmp_path / "out", shape_args(), shape_args()
    files[files.index("tests.shape_jobs")] = "tests.shape_jobs:FILE"

    def run(args: list[str], *extra: str, **inputs: str) -> list[str]:
        for name, text in inputs.items():
            (tmp_path / "inputs" / name.replace("_", "/")).with_suffix(".txt").write_text(text)
        done = cli("run", "--no-progress", *args, *extra, cwd=tmp_path, env=environment())
        assert done.returncode == 0, done.stderr
        return files_under(out)

    assert run(folders) == OUTPUTS
    table = ["R/nothing/_SUCCESS", "R/nothing/plots/plot.txt", "R/nothing/table.csv"]
    # Redone: a folder becomes a skip record, a skip record a folder.
    swapped = run(folders, "--overwrite", R_nothing="5", Go_tools="empty")
    assert swapped == ["Go/tools.skipped", *OUTPUTS[3:6], *table]
    status = cli("status", *folders, cwd=tmp_path, env=environment())
    assert "done:    2" in status.stdout and "skipped: 1" in status.stdout, status.stdout
    # Another OUTPUT_SHAPE: folders become files (the skipped unit is done either way).
    assert run(files) == ["Go/tools.skipped", "Python/org~repo", "R/nothing"]
    # Redone: a file becomes a skip record, a skip record a file; then folders again.
    assert run(files, "--overwrite", R_nothing="empty", Go_tools="8") == [
        "Go/tools",
        "Python/org~repo",
        "R/nothing.skipped",
    ]
    assert (out / "Go/tools").read_text() == "Go/tools,8\n"
    assert run(folders) == [*OUTPUTS[:6], "R/nothing.skipped"]
    assert not [p for p in out.rglob(".*")], "a replaced output left a staged copy behind"


def test_an_id_whose_output_would_hold_another_is_refused(tmp_path: Path) -> None:
    make_inputs(tmp_path, {"Go/tools/extra.txt": "9"})
    result = cli("run", "--no-progress", *shape_args(), cwd=tmp_path, env=environment())
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.endswith(
        ": error: unit ids 'Go/tools' and 'Go/tools/extra' collide: 'Go/tools' would be both "
        "the output of the first and a folder holding the output of the second; rename one of "
        "them"
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("ids", "suffix", "clash"),
    [
        (["a", "a/b"], "", ("a", "a/b", "a")),
        (["x/y/z", "x/y"], "", ("x/y", "x/y/z", "x/y")),
        (["a", "a.csv/b"], ".csv", ("a", "a.csv/b", "a.csv")),
        (["a", "a.skipped/b"], "", ("a", "a.skipped/b", "a.skipped")),
        (["a", "a/b"], ".csv", None),
        (["a", "ab/c", "a/b/c"], ".json", None),
        (["a/b", "a/c", "b"], "", None),
    ],
)
def test_ids_whose_outputs_collide(
    ids: list[str], suffix: str, clash: tuple[str, str, str] | None
) -> None:
    assert first_clash(UnitList.of(ids), suffix) == clash


def test_an_output_beside_a_skip_record_wins() -> None:
    listing = scan(["a.csv", "a.csv.skipped", "b.csv.skipped"], ".csv", "file")
    assert (listing.done, listing.skipped) == ({"a", "b"}, {"b"})


def test_a_missing_required_input_names_it(tmp_path: Path) -> None:
    make_inputs(tmp_path)
    (tmp_path / "units.txt").write_text("Go/absent\n")
    args = [*shape_args(), "--units-file", "units.txt"]
    args.remove("--units-glob")
    args.remove("**/*.txt")
    result = cli("run", "--no-progress", *args, cwd=tmp_path, env=environment())
    assert result.returncode == 1
    assert "FileNotFoundError [Errno 2]: [Errno 2] No such file or directory: " in result.stderr
    assert "Go/absent.txt'" in result.stderr


@pytest.mark.parametrize(
    ("unit_id", "problem"),
    [
        ("/abs/path", "starts with '/'"),
        ("a//b", "empty segment"),
        ("a/b/", "empty segment"),
        ("a/../b", "segment '..' that starts with '.'"),
        ("a/CON/b", "segment 'CON' that is a reserved file name"),
        ("a/b c", "segment 'b c' that contains ' '"),
    ],
)
def test_ids_with_a_hierarchy_need_safe_segments(unit_id: str, problem: str) -> None:
    assert problem in (check_id(unit_id) or "")
    with pytest.raises(UserError, match=r"units\.txt:1: unit id"):
        validated([("units.txt:1", unit_id)])


def test_nested_ids_are_valid() -> None:
    assert check_id("Python/org~repo") is None
    assert check_id("a/b/c") is None


@pytest.mark.parametrize(
    ("name", "pattern", "matches"),
    [
        ("x.csv", "**/*.csv", True),
        ("a/b/x.csv", "**/*.csv", True),
        ("a/b/x.csv", "a/*/x.csv", True),
        ("a/b/c/x.csv", "a/*/x.csv", False),
        ("a/b/c/x.csv", "a/**/x.csv", True),
        ("a/x.json", "**/*.csv", False),
    ],
)
def test_double_star_spans_folders(name: str, pattern: str, matches: bool) -> None:
    assert path_matches(name, pattern.split("/")) is matches
{%- if cookiecutter.storage == "s3" %}


def test_folder_outputs_skips_and_nested_inputs_on_s3(tmp_path: Path) -> None:
    import fsspec

    from .s3server import serving

    with serving() as server:
        fs = fsspec.filesystem("s3")
        make_inputs(tmp_path)
        prefix = "unit-data/shapes"
        fs.put(str(tmp_path / "inputs") + "/", f"{prefix}/inputs/", recursive=True)
        args = shape_args(f"s3://{prefix}/out", f"s3://{prefix}/inputs")
        first = cli("run", "--no-progress", *args, cwd=tmp_path, env=environment())
        assert first.returncode == 0, first.stderr
        assert "3 done, 0 skipped (already done), 0 failed" in first.stdout
        names = sorted(str(p)[len(prefix) + 5 :] for p in fs.find(f"{prefix}/out"))
        assert names == OUTPUTS
        assert fs.cat_file(f"{prefix}/out/Python/org~repo/plots/plot.txt") == b"a note"
        puts = [path for method, path, _ in server.requests if method == "PUT"]
        tools = [path.rsplit("/out/", 1)[1] for path in puts if "/out/Go/tools/" in path]
        assert tools[-1] == "Go/tools/_SUCCESS", tools  # the marker is written last

        server.clear()
        again = cli("run", "--no-progress", *args, cwd=tmp_path, env=environment())
        assert "0 done, 3 skipped (already done)" in again.stdout
        status = cli("status", *args, "--param", "column=value", cwd=tmp_path, env=environment())
        assert "done:    2" in status.stdout and "skipped: 1" in status.stdout
        assert "stale:   3  (made with other parameters" in status.stdout  # records are local
        assert [r for r in server.requests if r[0] != "GET" or "list-type" not in r[2]] == []

        stale = ["--param", "column=value", "--rerun-stale"]
        redo = cli("run", "--no-progress", *args, *stale, cwd=tmp_path, env=environment())
        assert "3 done, 0 skipped (already done)" in redo.stdout, redo.stderr
        table = fs.cat_file(f"{prefix}/out/Go/tools/table.csv")
        assert table == b"unit,value\nGo/tools,7\n"

        fs.pipe_file(f"{prefix}/inputs/Go/tools.txt", b"empty")  # a folder becomes a skip
        fs.pipe_file(f"{prefix}/inputs/R/nothing.txt", b"5")  # and a skip a folder
        swap = cli("run", "--no-progress", *args, "--overwrite", cwd=tmp_path, env=environment())
        assert swap.returncode == 0, swap.stderr
        names = sorted(str(p)[len(prefix) + 5 :] for p in fs.find(f"{prefix}/out"))
        table = ["R/nothing/_SUCCESS", "R/nothing/plots/plot.txt", "R/nothing/table.csv"]
        assert names == ["Go/tools.skipped", *OUTPUTS[3:6], *table]
{%- endif %}
