"""Tests of the cookiecutter template: they bake real projects and run their own tests."""
