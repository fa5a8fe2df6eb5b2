"""A completion as trainers hand it to a reward function -> its text.

TRL passes a string per completion (standard format) or a list of messages (conversational
format: the assistant turn, its content a string or a list of text parts); verl and OpenRLHF pass
strings. The shapes are the ones ``ekt_curate.fields`` reads from records, so a completion that
verify reads from a file is read the same way here."""

from __future__ import annotations

from typing import Any

from ekt_curate.fields import ShapeError, text_of


def completion_text(completion: Any) -> str:
    """The text to take the program from; ShapeError (its message the reason) if there is none."""
    if isinstance(completion, dict) and "role" in completion:  # one message, not in a list
        completion = [completion]
    return text_of(completion, "completion")
