"""Get the program out of model text: markdown fences, a stray language tag, CRLF."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_OPENING = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+.-]*)[^\n]*\n", re.MULTILINE)
_PYTHON_TAGS = {"python", "python3", "py", "py3"}


def extract_program(text: str) -> str:
    """Return the code to run.

    With fenced blocks, the first block tagged as Python wins, then the first untagged one, then
    the first of any tag: an untagged "Example usage" or output block shown before the real code
    must not be run instead of it (it gave NameError). A completion cut at max tokens inside a fence
    that never closes, after prose or after closed blocks ("Sure:\\n```python\\ndef solution(): ..."),
    keeps what follows that opening fence. Text without fences is taken as code.
    """
    text = text.replace("\r\n", "\n")
    blocks = list(_FENCE.finditer(text))
    tail_start = blocks[-1].end() if blocks else 0
    opening = _OPENING.search(text, tail_start)  # an opening fence after the last closed block: never closed
    for block in blocks:
        if block[2].lower() in _PYTHON_TAGS:
            return block[3]
    if opening and opening[2].lower() in _PYTHON_TAGS:
        return text[opening.end():]
    for block in blocks:
        if not block[2]:
            return block[3]
    if blocks:
        return blocks[0][3]
    if opening:
        return text[opening.end():]
    return text
