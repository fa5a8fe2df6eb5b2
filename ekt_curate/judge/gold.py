"""Reading a gold answer, the same way for every judge: verify, the reward, eval, the server.

A gold comes as a record gives it: a JSON number, text, GSM8K's whole ``answer`` text
(``"... #### 72"`` is 72), or something unusable (None, empty, true/false, a list). What cannot
be a gold says why, under the reason verify rejects the line with (``no gold: ...`` for a gold
that is absent or of the wrong kind, ``bad gold: ...`` for one past the parsing bounds)."""

from __future__ import annotations

from dataclasses import dataclass

from ekt_curate.judgement import Answer, clean_text, parse_gold

PROBLEM_CHARS = 300


@dataclass(frozen=True)
class Gold:
    raw: object              # as the record or problems file gives it
    value: object            # what is compared: the raw gold, or the number after GSM8K's '####'
    answer: Answer | None    # parsed; None when unusable
    problem: str | None      # why it is unusable, starting with the reject reason

    @property
    def usable(self) -> bool:
        return self.problem is None


def read_gold(raw: object, field: str = "gold") -> Gold:
    """The gold a verdict is judged against; ``field`` names it in the reasons."""
    value = raw
    if isinstance(raw, str) and "####" in raw:  # GSM8K's answer text: the number after its last '####'
        value = raw.rsplit("####", 1)[1].strip().replace(",", "")
    if value is None:
        return Gold(raw, value, None, f"no gold: '{field}' is missing (null)")
    if isinstance(value, (list, dict, bool)):  # true is not 1: a gold of the wrong kind is no gold
        return Gold(raw, value, None, f"no gold: '{field}' must be a number or text, not {type(value).__name__}")
    if isinstance(value, str) and not value.strip():  # '', ' ', or GSM8K's '####' with nothing after it
        return Gold(raw, value, None, f"no gold: '{field}' is empty")
    answer = parse_gold(value)
    if answer.problem:
        return Gold(raw, value, None, f"bad gold: {clean_text(answer.problem, PROBLEM_CHARS)}")
    return Gold(raw, value, answer, None)
