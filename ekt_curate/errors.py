"""Domain errors. The CLI turns each into one line on stderr and an exit code."""


class EktError(Exception):
    """A problem the user can fix (bad input, missing file); exit code 2."""

    exit_code = 2


class InputError(EktError):
    """An input file is missing, empty or unreadable."""


class OutputError(EktError):
    """An output cannot be written (disk full, quota, read-only): exit code 5. What was written
    before stays whole, so ``--resume`` continues once there is room."""

    exit_code = 5


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's stop, ``kill``), raised where SIGINT would raise KeyboardInterrupt,
    so every clean-stop path that handles Ctrl-C handles it too; the CLI exits 143 for it."""


class HubError(EktError):
    """The Hugging Face Hub could not be reached or refused (offline, no token, no such repo): exit 4."""

    exit_code = 4
