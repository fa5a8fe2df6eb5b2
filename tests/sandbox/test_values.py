"""values.py: exact built-in values across a process boundary, and nothing else."""

from __future__ import annotations

import math

import pytest

from ekt_curate.sandbox.values import MAX_DEPTH, NotTransferable, decode, encode

PLAIN = [None, True, False, 0, -7, 10 ** 300, 1.5, -0.0, float("inf"), "text", "", "é\u2603", b"\x00\xff",
         1 + 2j, [1, [2, [3]]], (1, "a"), (), {1, 2}, frozenset({3}), {"a": [1], (1, 2): {"b": None}}, {}, [1.0, 1]]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_round_trip_with_their_exact_types(value):
    back = decode(encode(value))
    assert back == value and type(back) is type(value)
    if isinstance(value, list) and value:
        assert [type(x) for x in back] == [type(x) for x in value]  # 1.0 stays a float, 1 an int


def test_nan_round_trips_and_bool_is_not_int():
    assert math.isnan(decode(encode(float("nan"))))
    assert decode(encode([True, 1])) == [True, 1] and type(decode(encode([True, 1]))[0]) is bool


class Anything:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [Anything(), type("I", (int,), {})(3), type("S", (str,), {})("x"),
                                   [Anything()], {"k": Anything()}, object(), len, range(3)], ids=repr)
def test_anything_else_is_refused_where_it_is_encoded(value):
    with pytest.raises(NotTransferable):
        encode(value)


def test_depth_is_bounded_both_ways():
    deep: list = []
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(NotTransferable):
        encode(deep)
    with pytest.raises(NotTransferable):
        decode("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("forged", [
    '{"f": "1e400x"}', '{"f": "NaN"}', '{"f": 1.5}', '{"x": 1}', '{"t": 1}', '{"s": [[1]]}', '{"d": [[[1], 2]]}',
    '{"d": [[1]]}', '{"b": "zz"}', '{"f": "0.1", "t": []}', "NaN", "Infinity", '{"c": ["1"]}', "1" * 5000, "[1,",
], ids=repr)
def test_what_the_encoder_cannot_have_written_is_refused_where_it_is_decoded(forged):
    with pytest.raises(NotTransferable):
        decode(forged)
