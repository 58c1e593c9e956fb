"""Where the rules come from: ``unitwise_lint.rules.ALL_RULES``, checked once."""

from __future__ import annotations

from functools import cache

from .rule import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule, sorted by code (imported on first use: the rules import libcst)."""
    from .rules import ALL_RULES

    rules = tuple(sorted(ALL_RULES, key=lambda rule: rule.code))
    codes = [rule.code for rule in rules]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate rule codes: {', '.join(duplicates)}")
    return rules
