"""Answer judgement in the parent: bounded parsing of what programs report, and the checkers.

    number_text   the number grammar and its bounds (text -> Answer)
    reported      a sandbox result's [kind, text], Python values and golds -> Answer
    compare       the strict checker's rules
    math_verify   the math-verify checker, in a helper process with a time limit
"""

from ekt_curate.judgement.answer import Answer, clean_text
from ekt_curate.judgement.compare import DEFAULT_REL_TOL, GOLD_PRECISION_MODES, compare
from ekt_curate.judgement.number_text import parse_text
from ekt_curate.judgement.reported import from_reported, from_value, parse_gold

__all__ = ["Answer", "DEFAULT_REL_TOL", "GOLD_PRECISION_MODES", "clean_text", "compare", "from_reported",
           "from_value", "parse_gold", "parse_text"]
