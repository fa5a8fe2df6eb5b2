"""Normalizing answers and comparing them with gold: kept as the import path the rest of the
package and users' scripts know; the rules live in ``ekt_curate.judgement``."""

from ekt_curate.judgement import (DEFAULT_REL_TOL, GOLD_PRECISION_MODES, Answer, compare, from_reported,
                                  from_value, parse_gold, parse_text)

__all__ = ["Answer", "DEFAULT_REL_TOL", "GOLD_PRECISION_MODES", "compare", "from_reported", "from_value",
           "parse_gold", "parse_text"]
