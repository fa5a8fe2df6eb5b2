"""Get the program out of model text: markdown fences, a stray language tag, CRLF.

Linear in the text: fence lines are found once and paired by position (a regex that scanned
from every opening line to the end of the text for its closing one was quadratic, and a 25 KB
completion of unclosed fences cost the parent 10 s, with every worker idle)."""

from __future__ import annotations

import bisect
import re

_FENCE_LINE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)[^\n]*")
_PYTHON_TAGS = {"python", "python3", "py", "py3"}


def extract_program(text: str) -> str:
    """Return the code to run.

    With fenced blocks, the first block tagged as Python wins, then the first untagged one, then
    the first of any tag: an untagged "Example usage" or output block shown before the real code
    must not be run instead of it (it gave NameError). A completion cut at max tokens inside a fence
    that never closes, after prose or after closed blocks ("Sure:\\n```python\\ndef solution(): ..."),
    keeps what follows that opening fence. Text without fences is taken as code. A block closes at
    the next line that is only a fence of the same character, at least as long as its opening.
    """
    text = text.replace("\r\n", "\n")
    if "```" not in text and "~~~" not in text:
        return text
    blocks, opening = _blocks(text)
    for tag, body in blocks:
        if tag in _PYTHON_TAGS:
            return body
    if opening and opening[0] in _PYTHON_TAGS:
        return text[opening[1]:]
    for tag, body in blocks:
        if not tag:
            return body
    if blocks:
        return blocks[0][1]
    if opening:
        return text[opening[1]:]
    return text


def _blocks(text: str) -> tuple[list[tuple[str, str]], tuple[str, int] | None]:
    """The closed blocks (lowercased tag, body) in order, and the last unclosed opening fence
    after them (its tag, where its body starts), if any."""
    fences = []  # per fence line: (start, end of line, marker, tag, is a bare fence)
    position = 0
    while position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end == -1 else end
        match = _FENCE_LINE.fullmatch(text, position, end)
        if match:
            bare = not match[2] and text[position:end].strip() == match[1]
            fences.append((position, end, match[1], match[2].lower(), bare))
        position = end + 1
    # bare fence lines by (character, length): a block closes at the first one after it of the same
    # character and at least its length (distinct lengths are few: their sum is within the text)
    closers: dict[tuple[str, int], list[int]] = {}
    for index, fence in enumerate(fences):
        if fence[4]:
            closers.setdefault((fence[2][0], len(fence[2])), []).append(index)
    blocks: list[tuple[str, str]] = []
    index, opening = 0, None
    while index < len(fences):
        start, end, marker, tag, _ = fences[index]
        close = min((lines[at] for (char, length), lines in closers.items()
                     if char == marker[0] and length >= len(marker)
                     for at in [bisect.bisect_right(lines, index)] if at < len(lines)), default=None)
        if close is None:
            if opening is None:
                opening = (tag, min(end + 1, len(text)))
            index += 1
            continue
        blocks.append((tag, text[end + 1:fences[close][0]]))
        index, opening = close + 1, None
    return blocks, opening
