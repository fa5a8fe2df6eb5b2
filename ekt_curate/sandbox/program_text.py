"""Get the program out of model text: markdown fences, a stray language tag, CRLF."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = {"", "python", "python3", "py", "py3"}


def extract_program(text: str) -> str:
    """Return the code to run.

    With fenced blocks, the first block tagged as Python (or untagged) wins, so
    a completion that shows code and then an example output is read right. An
    unterminated opening fence (a completion cut at max tokens) keeps what
    follows it. Text without fences is taken as code.
    """
    text = text.replace("\r\n", "\n")
    blocks = _FENCE.findall(text)
    for _, tag, body in blocks:
        if tag.lower() in _PYTHON_TAGS:
            return body
    if blocks:
        return blocks[0][2]
    opening = re.match(r"^\s*(```+|~~~+)[ \t]*[\w+.-]*[^\n]*\n", text)
    if opening:
        return text[opening.end():]
    return text
