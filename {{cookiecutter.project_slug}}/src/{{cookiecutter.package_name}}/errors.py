"""The one exception type for a user's mistake: the CLI prints it as one line and exits 2."""


class UserError(Exception):
    """Bad input or configuration, named precisely enough to fix without a traceback."""
