"""Every rule's own VALID and INVALID examples, checked through the real engine.

The examples are the rules' documentation (``unitwise-lint explain`` prints them), so they
must stay true: a VALID snippet gets no finding of the rule's code, an INVALID one exactly
``count``, and where ``fixed`` is given, ``--fix`` turns the snippet into exactly that. Going
through :func:`check_source` / :func:`fix_source` exercises noqa handling, notebook cells and
the fix loop on real rules.
"""

from __future__ import annotations

import pytest
from unitwise_lint.engine import check_source, fix_source
from unitwise_lint.registry import all_rules
from unitwise_lint.rule import Invalid, Rule, Valid

RULES = all_rules()


def _cases(kind: str) -> list[pytest.ParameterSet]:
    cases = []
    for rule in RULES:
        examples: list[Valid] | list[Invalid] = rule.VALID if kind == "valid" else rule.INVALID
        for number, example in enumerate(examples, start=1):
            cases.append(pytest.param(rule, example, id=f"{rule.code}-{kind}-{number}"))
    return cases


def _options(rule: type[Rule], example: Valid | Invalid) -> dict[str, dict[str, object]]:
    return {rule.code: dict(example.options)} if example.options else {}


def test_every_rule_has_examples_of_both_kinds() -> None:
    assert len(RULES) >= 12
    for rule in RULES:
        assert rule.VALID, f"{rule.code} has no VALID example"
        assert rule.INVALID, f"{rule.code} has no INVALID example"


@pytest.mark.parametrize(("rule", "example"), _cases("valid"))
def test_valid_example(rule: type[Rule], example: Valid) -> None:
    findings = check_source(
        example.code, "example.py", RULES, _options(rule, example), notebook=example.notebook
    )
    assert [f for f in findings if f.code == rule.code] == []


@pytest.mark.parametrize(("rule", "example"), _cases("invalid"))
def test_invalid_example(rule: type[Rule], example: Invalid) -> None:
    options = _options(rule, example)
    findings = check_source(example.code, "example.py", RULES, options, notebook=example.notebook)
    own = [f for f in findings if f.code == rule.code]
    assert len(own) == example.count, own
    for finding in own:
        assert finding.line >= 1 and finding.column >= 1
        assert (finding.end_line, finding.end_column) >= (finding.line, finding.column)
        assert (finding.cell == 1) if example.notebook else (finding.cell is None)
    if example.fixed is not None:
        # Only this rule's fixes: the expected output must not depend on other rules.
        result = fix_source(example.code, "example.py", [rule], options, notebook=example.notebook)
        assert result.source == example.fixed
        assert result.changed
        # A fix is complete: checking the fixed code again finds nothing left to fix.
        again = fix_source(result.source, "example.py", [rule], options, notebook=example.notebook)
        assert again.source == result.source
