"""How printed output and return values are compared with the expected, by mode."""

from __future__ import annotations

import pytest

from ekt_curate.judge.output_match import output_matches, value_matches


@pytest.mark.parametrize("got, expected, exact, lines, tokens", [
    ("3\n", "3", True, True, True),
    ("3\n\n", "3\n", True, True, True),
    ("3 \n", "3\n", False, True, True),          # trailing space: LiveCodeBench strips lines, verl does not
    ("1 2\n3", "1  2\n3", False, False, True),   # inner spacing: only tokens ignore it
    ("0.3333333", "0.333333", False, False, True),  # within 1e-5: CodeContests' float tolerance
    ("0.33", "0.333333", False, False, False),
    ("YES", "yes", False, False, False),
    ("1\n2", "1 2", False, False, True),
    ("nan", "nan", True, True, True),
    ("inf", "1e400", False, False, False),
])
def test_output_modes(got, expected, exact, lines, tokens):
    assert output_matches(got, expected, "exact") is exact
    assert output_matches(got, expected, "lines") is lines
    assert output_matches(got, expected, "tokens") is tokens


def test_return_values_compare_as_json_would_write_them():
    assert value_matches((0, 1), [0, 1]) and value_matches({1: "a"}, {"1": "a"})
    assert not value_matches(True, 1) and not value_matches(1, True) and not value_matches(1.0, True)
    assert value_matches(1, 1.0)  # JSON does not tell 1 from 1.0 in an expected output
    assert not value_matches([1, 2], [[1, 2]]) and value_matches([1, 2], [[1, 2]], apps=True)
    assert not value_matches("1", 1) and not value_matches(None, 0)
