"""Configuration: discovery, selection, per-file ignores, rule options and every error."""

from __future__ import annotations

from pathlib import Path

import pytest
from unitwise_lint.config import (
    ConfigError,
    coerce_option,
    discover_config,
    find_config,
    ignored_for,
    load_config,
    select_rules,
)
from unitwise_lint.rule import Rule

from .toy_rules import TOY_RULES, ToyBareExcept, ToyParent, ToyPrint


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes(rules: tuple[type[Rule], ...]) -> list[str]:
    return [rule.code for rule in rules]


def test_closest_pyproject_with_the_table_wins(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", '[tool.unitwise-lint]\nselect = ["TY1"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "pkg"\n')
    inner = write(tmp_path / "pkg" / "sub" / "pyproject.toml", "[tool.unitwise-lint]\n")
    (tmp_path / "pkg" / "sub" / "deep").mkdir()
    assert find_config(tmp_path / "pkg" / "sub" / "deep") == inner
    assert find_config(tmp_path / "pkg") == outer
    assert find_config(tmp_path / "pkg" / "a.py") == outer
    config = discover_config(None, [str(tmp_path / "pkg")], TOY_RULES)
    assert (config.path, config.root, config.select) == (outer, tmp_path.resolve(), ("TY1",))


def test_explicit_config_overrides_discovery(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.unitwise-lint]\nselect = ["TY1"]\n')
    other = write(tmp_path / "lint.toml", 'select = ["TY2"]\n')
    assert discover_config(str(other), [str(tmp_path)], TOY_RULES).select == ("TY2",)


def test_all_keys_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        "[tool.unitwise-lint]\n"
        'select = ["ALL"]\nignore = ["TY2"]\nextend-select = ["TY201"]\n'
        'exclude = ["generated"]\n'
        '[tool.unitwise-lint.per-file-ignores]\n"tests/**" = ["TY101"]\n"__init__.py" = ["TY3"]\n'
        "[tool.unitwise-lint.TY101]\nfunctions = ['show']\nmin-args = 2\n",
    )
    config = load_config(path, TOY_RULES)
    assert config.select == ("ALL",)
    assert config.ignore == ("TY2",)
    assert config.extend_select == ("TY201",)
    assert config.exclude == ("generated",)
    assert config.options == {"TY101": {"functions": ("show",), "min_args": 2}}
    assert ignored_for(config, "tests/unit/test_x.py") == ("TY101",)
    assert ignored_for(config, "pkg/__init__.py") == ("TY3",)
    assert ignored_for(config, "pkg/mod.py") == ()


def test_rule_tables_may_use_the_rule_name(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.unitwise-lint.toy-print]\nmin_args = 1\n")
    assert load_config(path, TOY_RULES).options == {"TY101": {"min_args": 1}}


def test_selection_prefixes_all_and_specificity() -> None:
    assert codes(select_rules(TOY_RULES, None)) == ["TY101", "TY201", "TY301"]
    assert codes(select_rules(TOY_RULES, ["TY1", "TY3"])) == ["TY101", "TY301"]
    assert codes(select_rules(TOY_RULES, ["ALL"], ignore=["TY2"])) == ["TY101", "TY301"]
    assert codes(select_rules(TOY_RULES, ["TY1"], extend_select=["TY201"])) == ["TY101", "TY201"]
    # The more specific selector wins; a tie means ignored.
    assert codes(select_rules(TOY_RULES, ["TY201"], ignore=["TY2"])) == ["TY201"]
    assert codes(select_rules(TOY_RULES, ["TY2"], ignore=["TY201"])) == []
    assert codes(select_rules(TOY_RULES, ["TY201"], ignore=["TY201"])) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.unitwise-lint]\nselec = ["TY1"]\n', "[tool.unitwise-lint] selec: unknown key"),
        ('[tool.unitwise-lint]\nselect = ["XX9"]\n', "select: unknown rule code or prefix 'XX9'"),
        (
            '[tool.unitwise-lint]\nignore = "TY1"\n',
            "ignore: expected a list of strings, got a string ('TY1')",
        ),
        (
            "[tool.unitwise-lint]\nextend-select = [1]\n",
            "extend-select: expected a list of strings",
        ),
        (
            '[tool.unitwise-lint.per-file-ignores]\n"a.py" = ["ZZ1"]\n',
            "per-file-ignores.'a.py': unknown rule code or prefix 'ZZ1'",
        ),
        ("[tool.unitwise-lint]\nper-file-ignores = 3\n", "per-file-ignores: expected a table"),
        (
            "[tool.unitwise-lint.TY101]\nmin_args = true\n",
            "[tool.unitwise-lint.TY101].min_args: expected an integer, got a boolean (True)",
        ),
        (
            "[tool.unitwise-lint.TY101]\nfunctions = 'print'\n",
            "functions: expected a list of strings, got a string ('print')",
        ),
        (
            "[tool.unitwise-lint.TY101]\nfunctions = [1]\n",
            "functions: expected a list of strings, got a list",
        ),
        (
            "[tool.unitwise-lint.TY101]\nmax = 1\n",
            "[tool.unitwise-lint.TY101]: unknown option "
            "'max' for TY101 (toy-print); known: functions, min_args",
        ),
        ("[tool.unitwise-lint]\nTY101 = 3\n", "TY101: expected a table of options"),
        ("[tool.unitwise-lint\n", "invalid TOML: "),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, TOY_RULES)
    error = str(raised.value)
    assert error.startswith(f"{path}: ")
    assert message in error
    assert "\n" not in error


def test_pyproject_without_the_table_given_explicitly(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.unitwise-lint\] table"):
        load_config(path, TOY_RULES)
    with pytest.raises(ConfigError, match="no such file"):
        discover_config(str(tmp_path / "missing.toml"), [], TOY_RULES)


def test_option_coercion() -> None:
    assert coerce_option(3, 1.5) == 3.0
    assert coerce_option(["a"], frozenset({"b"})) == frozenset({"a"})
    assert coerce_option(["a"], []) == ["a"]
    with pytest.raises(TypeError, match="expected a boolean"):
        coerce_option(1, False)
    with pytest.raises(TypeError, match="expected a number"):
        coerce_option("1", 1.0)


def test_toy_rules_have_the_options_the_tests_assume() -> None:
    assert set(ToyPrint.OPTIONS) == {"functions", "min_args"}
    assert not ToyBareExcept.OPTIONS and not ToyParent.OPTIONS


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    """The ``[tool.unitwise-lint]`` example in the README loads with the real rules."""
    from unitwise_lint.registry import all_rules

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- linter:start -->")[1].split("<!-- linter:end -->")[0]
    example = section.split("```toml\n")[1].split("```")[0]
    path = write(tmp_path / "pyproject.toml", example)
    config = load_config(path, all_rules())
    assert config.select == ("ALL",)
    assert config.options["UW101"] == {"max-elements": 500}
    assert config.options["UW502"] == {"prefixes": ["/data/", "/scratch/"]}
    assert ignored_for(config, "tests/unit/test_io.py") == ("UW401", "UW502")
