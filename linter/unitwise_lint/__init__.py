"""unitwise-lint: a libcst linter for the habits that make data-processing scripts fragile."""

__version__ = "0.1.0"
