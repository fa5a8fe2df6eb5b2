"""Options and help texts the commands share: exit codes for each --help, the sources a command
reads, the --*-field group, and the "did you mean" answer to a mistyped flag. argparse only."""

from __future__ import annotations

import argparse

EXIT_CODES = {0: "done", 1: "done, but --strict and some input lines were rejected", 2: "bad input or configuration",
              3: "the sandbox cannot run here (a layer is missing)",
              5: "an output cannot be written (disk full; what was written is whole)", 130: "interrupted",
              143: "stopped by SIGTERM"}
HUB_SOURCE = "a Hub dataset (hf:) cannot be reached or loaded"
MODEL = "the model cannot be loaded (offline Hub id, typo, missing folder)"


def epilog(*codes: int, hub: str = "") -> str:
    """The exit codes this command can return (4's meaning is the command's own), for its --help."""
    texts = {**EXIT_CODES, 4: hub}
    return "exit codes: " + "; ".join(f"{code} {texts[code]}" for code in sorted({0, 2, *codes, 130, 143})) + "."


SOURCES_HELP = ("a JSON Lines, JSON (an array, or pretty-printed records), parquet or CSV file, a dataset "
                "folder (FOLDER[:SPLIT]) or a Hub dataset hf:ORG/NAME[:CONFIG[:SPLIT]]")
STDIN_HELP = "; - reads standard input"


def field_options(p: argparse.ArgumentParser, completion: bool = True) -> None:
    """Where the records keep what we read, for files written by other tools."""
    group = p.add_argument_group("field names (for records from other tools)")
    group.add_argument("--id-field", default="task_id", metavar="NAME",
                       help="the task id (a string or integer; default: task_id, or a Batch API line's custom_id)")
    if completion:
        group.add_argument("--completion-field", default="completion", metavar="NAME",
                           help="the program: text, a chat messages list (last assistant turn) or an OpenAI "
                                "response object (default: completion, else code, messages, response)")
    group.add_argument("--gold-field", default="gold", metavar="NAME",
                       help="the gold answer; GSM8K's '... #### 72' form is read as 72 (default: gold, else "
                            "a GSM8K 'answer')")
    group.add_argument("--question-field", default="question", metavar="NAME",
                       help="the problem text (default: question, else problem)")


def did_you_mean(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """'; did you mean --workers?' for a mistyped flag (--wrokers), from the command's own flags."""
    import difflib

    flags = [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]
    guesses = []
    for word in unknown:
        name = word.split("=", 1)[0]
        if name.startswith("--"):
            guesses += difflib.get_close_matches(name, flags, n=1, cutoff=0.6)
    return f"; did you mean {' or '.join(dict.fromkeys(guesses))}?" if guesses else ""
