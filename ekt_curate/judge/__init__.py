"""The one place a sample becomes a verdict, for every judge: `verify`, the RL reward
(ekt_curate.rewards), `eval` and anything later that judges.

    gold        read_gold: a record's gold in any form the README lists -> Gold (or why it is unusable)
    completion  completion_text: a completion as trainers pass it (text, messages, content parts)
    checkers    strict rules or math-verify
    verdict     one sandbox result + gold -> the verdict fields; the statuses
    judge       Judge: samples -> verdicts, in order, through a Sandbox

Callers differ only in what they do with a sample they cannot judge: verify rejects a line
without a usable gold before it reaches the judge; the reward scores it as failed, counted and
warned about once.
"""

from ekt_curate.judge.checkers import CHECKERS, Checker, check_options, make_checker
from ekt_curate.judge.completion import completion_text
from ekt_curate.judge.gold import Gold, read_gold
from ekt_curate.judge.judge import Judge, Sample
from ekt_curate.judge.verdict import DETAIL_CHARS, STATUSES, stderr_excerpt, verdict_of

__all__ = ["CHECKERS", "Checker", "DETAIL_CHARS", "Gold", "Judge", "STATUSES", "Sample", "check_options",
           "completion_text", "make_checker", "read_gold", "stderr_excerpt", "verdict_of"]
