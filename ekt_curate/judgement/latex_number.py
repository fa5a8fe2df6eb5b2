"""A LaTeX gold that is only a number in LaTeX dress: ``\\boxed{3.14}``, ``$72$``, ``\\$1,\\!000``,
``72 \\text{ clips}``.

Under ``--checker math-verify`` such a gold is judged by the strict rules once its wrappers
(``\\boxed{}``, ``$...$``, ``\\(...\\)``, ``\\[...\\]``), spacing commands (``\\!``, ``\\,``) and
``\\text{}`` are removed: gold precision then applies inside ``\\boxed{}`` as outside, a unit is a
unit (``72 \\text{ clips}`` never matches ``72 dogs``), a currency sign is read, and math-verify's
own rounding cannot loosen an integer gold. Anything left with a backslash or a brace
(``\\frac{3}{4}``, ``\\sqrt{2}``) is real LaTeX, and math-verify's.
"""

from __future__ import annotations

import re

from ekt_curate.judgement.answer import Answer
from ekt_curate.judgement.reported import parse_gold

_WRAPPERS = tuple(re.compile(pattern, re.DOTALL) for pattern in (
    r"\\boxed\{(.*)\}", r"\$(.*)\$", r"\\\((.*)\\\)", r"\\\[(.*)\\\]"))
_SPACING = re.compile(r"\\[!,;: ]")
_TEXT = re.compile(r"\\(?:text|textrm|mathrm|mbox)\{([^{}\\]*)\}")
MAX_CHARS = 200


def latex_number(text: str) -> Answer | None:
    """The gold as a number by the strict grammar, or None when it is more than a number."""
    body = text.strip()
    if len(body) > MAX_CHARS:
        return None
    for _ in range(3):  # \boxed{$72$} and the like
        match = next((m for m in (p.fullmatch(body) for p in _WRAPPERS) if m), None)
        if match is None:
            break
        body = match.group(1).strip()
    body = _TEXT.sub(r" \1", _SPACING.sub("", body)).replace("\\$", "$").replace("\\%", "%").replace("{,}", ",")
    if "\\" in body or "{" in body or "}" in body:
        return None
    gold = parse_gold(body.strip())
    return gold if gold.number is not None and not gold.problem else None
