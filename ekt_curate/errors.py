"""Domain errors. The CLI turns each into one line on stderr and an exit code."""


class EktError(Exception):
    """A problem the user can fix (bad input, missing file); exit code 2."""

    exit_code = 2


class InputError(EktError):
    """An input file is missing, empty or unreadable."""
