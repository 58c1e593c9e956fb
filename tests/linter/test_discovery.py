"""Which files are checked: suffixes, default and configured exclusions, .gitignore."""

from __future__ import annotations

from pathlib import Path

import pytest
from unitwise_lint.discovery import discover
from unitwise_lint.gitignore import IgnoreFile, parse_line


def tree(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def found(root: Path, paths: list[str] | None = None, **kwargs: object) -> list[str]:
    result = discover(paths or [str(root)], root=root, **kwargs)  # type: ignore[arg-type]
    return [Path(target.path).relative_to(root).as_posix() for target in result.targets]


def test_walks_python_files_and_notebooks_sorted(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "b.py",
        "a.ipynb",
        "c.txt",
        "pkg/z.py",
        "pkg/m.pyi",
        ".venv/lib/x.py",
        "pkg/__pycache__/z.py",
        "x.egg-info/y.py",
    )
    assert found(tmp_path) == ["a.ipynb", "b.py", "pkg/z.py"]


def test_exclude_patterns(tmp_path: Path) -> None:
    tree(tmp_path, "gen/a.py", "src/gen/b.py", "src/c_pb2.py", "src/d.py", "docs/conf.py")
    assert found(tmp_path, exclude=["gen", "*_pb2.py", "docs/"]) == ["src/d.py"]
    anchored = found(tmp_path, exclude=["/gen"])
    assert anchored == ["docs/conf.py", "src/c_pb2.py", "src/d.py", "src/gen/b.py"]


def test_gitignore_patterns_negation_dir_only_and_anchoring(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    tree(
        tmp_path,
        "keep.py",
        "build.py",
        "build/out.py",
        "logs/a.py",
        "logs/important.py",
        "sub/top.py",
        "top.py",
        "sub/deep/nested.py",
        "sub/deep/other.py",
        "data/x.py",
    )
    (tmp_path / ".gitignore").write_text(
        "# comment\nbuild/\nlogs/*\n!logs/important.py\n/top.py\n\\#odd.py\ndata\n",
        encoding="utf-8",
    )
    (tmp_path / "sub" / "deep" / ".gitignore").write_text("*.py\n!other.py\n", encoding="utf-8")
    assert found(tmp_path) == [
        "build.py",
        "keep.py",
        "logs/important.py",
        "sub/deep/other.py",
        "sub/top.py",
    ]
    everything = found(tmp_path, respect_gitignore=False)
    assert "build/out.py" in everything and "top.py" in everything


def test_gitignore_of_parent_directories_applies(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("secret.py\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("**/gen/\n", encoding="utf-8")
    tree(tmp_path, "src/pkg/gen/a.py", "src/pkg/b.py", "src/pkg/secret.py")
    assert found(tmp_path, [str(tmp_path / "src")]) == ["src/pkg/b.py"]


def test_explicit_files_are_checked_unless_force_exclude(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    tree(tmp_path, "ignored.py", "gen/a.py")
    paths = [str(tmp_path / "ignored.py"), str(tmp_path / "gen" / "a.py")]
    assert found(tmp_path, paths, exclude=["gen"]) == ["ignored.py", "gen/a.py"]
    assert found(tmp_path, paths, exclude=["gen"], force_exclude=True) == []


def test_missing_paths_are_errors_and_duplicates_are_dropped(tmp_path: Path) -> None:
    tree(tmp_path, "a.py")
    result = discover([str(tmp_path), str(tmp_path / "a.py"), "nope.py"], root=tmp_path)
    assert [t.path.name for t in result.targets] == ["a.py"]
    assert [(e.path, e.reason) for e in result.errors] == [("nope.py", "no such file or directory")]


@pytest.mark.parametrize(
    ("line", "path", "is_dir", "verdict"),
    [
        ("*.log", "a/b/x.log", False, True),
        ("/x.py", "a/x.py", False, None),
        ("/x.py", "x.py", False, True),
        ("a/*.py", "a/x.py", False, True),
        ("a/*.py", "a/b/x.py", False, None),
        ("a/**/x.py", "a/b/c/x.py", False, True),
        ("out/", "out", False, None),
        ("out/", "out", True, True),
        ("!keep.py", "keep.py", False, False),
        ("trailing.py   ", "trailing.py", False, True),
    ],
)
def test_gitignore_lines(line: str, path: str, is_dir: bool, verdict: bool | None) -> None:
    pattern = parse_line(line)
    assert pattern is not None
    ignore = IgnoreFile(Path("/r"), (pattern,))
    assert ignore.match(Path("/r") / path, is_dir) is verdict


def test_blank_and_comment_lines_are_not_patterns() -> None:
    assert parse_line("") is None
    assert parse_line("   ") is None
    assert parse_line("# note") is None
    assert parse_line("\\#file") is not None
