"""The project's own tests: they run the real runner on the example data."""
