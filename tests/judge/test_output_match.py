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
    ("1000009", "1000000", False, False, False),  # integers compare exactly, whatever the tolerance
    ("999999999", "1000000007", False, False, False),
    ("5.000001", "5", False, False, False),
    ("1_000_000", "1000000", False, False, False),  # float() reads underscores; the token grammar does not
    ("3", "3.0", False, False, True),
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


def test_a_returned_dict_or_set_is_compared_without_hashing_what_the_program_chose():
    """9,000 ints that all hash to 0 made building a set quadratic in the parent (red-team pass)."""
    import time

    from ekt_curate.sandbox.values import decode, encode

    flood = encode({i * (2 ** 61 - 1) for i in range(1)} | set())  # a well-formed set, for the shape
    colliding = '{"s": [' + ",".join(str(i * (2 ** 61 - 1)) for i in range(20_000)) + "]}"
    start = time.process_time()
    assert not value_matches(decode(colliding, hashed=False), [1])
    assert time.process_time() - start < 5
    assert value_matches(decode(encode({1: "a", "b": [2]}), hashed=False), {"1": "a", "b": [2]})
    assert not value_matches(decode('{"d": [["a", 1], ["a", 1]]}', hashed=False), {"a": 1})  # a key twice
    assert not value_matches(decode(flood, hashed=False), [])
