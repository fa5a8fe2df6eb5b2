"""A verdict as a reward: the one rule the in-process reward, the server and its clients share."""

from __future__ import annotations

SCORES = ("all", "fraction")


def reward_value(verdict: dict[str, object], score: str = "all", passed: float = 1.0, failed: float = 0.0) -> float:
    """``passed`` for a verdict that passed, else ``failed``; with ``score="fraction"`` a code
    verdict earns the share of its cases that passed (every case is then run)."""
    cases = verdict.get("cases")
    if score == "fraction" and isinstance(cases, dict) and cases.get("total"):
        share = cases["passed"] / cases["total"]  # type: ignore[operator]
        return failed + (passed - failed) * share
    return passed if verdict.get("passed") else failed
