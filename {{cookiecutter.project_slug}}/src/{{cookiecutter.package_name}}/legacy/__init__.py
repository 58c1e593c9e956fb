"""Code moved over from a notebook or a script, as it is: call it from ``process.py``.

Here ruff's style rules and ``ruff format`` are off and mypy accepts untyped code (see
``pyproject.toml``); unitwise-lint checks it like the rest, because the habits it flags (data
loaded at import, shared state, one big output file) break a parallel run whatever the style.
Tighten a module by moving it out of ``legacy/`` once ruff and mypy --strict accept it.
"""
