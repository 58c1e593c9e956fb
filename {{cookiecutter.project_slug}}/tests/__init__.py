"""The project's own tests: the runner's behaviour on its own test job and data, and
``test_process.py``, the tests of your ``process()``."""
