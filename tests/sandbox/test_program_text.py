import pytest

from ekt_curate.sandbox import extract_program


@pytest.mark.parametrize(
    ("text", "program"),
    [
        ("answer = 1\n", "answer = 1\n"),
        ("```python\nanswer = 2\n```\n", "answer = 2\n"),
        ("Here you go:\n```py\nx = 3\n```\nThe answer is 3.", "x = 3\n"),
        ("```\nanswer = 4\n```", "answer = 4\n"),
        # a completion cut at max_new_tokens: the fence never closes
        ("```python\ndef solution():\n    return 5", "def solution():\n    return 5"),
        # the first Python block wins over an output block shown before it
        ("```text\n42\n```\n```python\nanswer = 42\n```\n", "answer = 42\n"),
        ("~~~python\nanswer = 6\n~~~\n", "answer = 6\n"),
        ("```python\r\nanswer = 7\r\n```\r\n", "answer = 7\n"),
        ("  ```python\n    answer = 8\n  ```\n", "    answer = 8\n"),
    ],
)
def test_extract_program(text: str, program: str):
    assert extract_program(text) == program


def test_a_python_block_wins_over_an_untagged_example_before_it():
    # issue 11: the untagged "Example usage" block ran first and gave NameError
    text = ("Example usage:\n```\nprint(solution())\n```\nThe code:\n```python\ndef solution():\n"
            "    return 72\n```\n")
    assert extract_program(text) == "def solution():\n    return 72\n"


def test_an_unterminated_fence_after_prose_keeps_the_code():
    # issue 11: a completion cut inside a fence opened after prose was a syntax_error
    assert extract_program("Sure:\n```python\ndef solution():\n    return 72\n") == \
        "def solution():\n    return 72\n"
    assert extract_program("Output:\n```\n72\n```\nCode:\n```python\nanswer = 72\n") == "answer = 72\n"


def test_untagged_block_wins_over_another_language():
    assert extract_program("```text\n42\n```\n```\nanswer = 42\n```\n") == "answer = 42\n"


def test_non_python_block_is_used_when_it_is_the_only_one():
    assert extract_program("```bash\necho hi\n```") == "echo hi\n"


def test_extraction_is_linear_in_the_text():
    """Unclosed fences made a regex quadratic: 25 KB cost the parent 10 s (an outside red-team
    pass). 400 KB of them now take a fraction of a second; 10 s here would be quadratic again."""
    import time

    for text in ("```x\n" * 80_000, "```\n" * 80_000, "``````x\n" * 40_000 + "```\n" * 40_000):
        start = time.process_time()
        extract_program(text)
        assert time.process_time() - start < 10


def test_a_longer_fence_is_closed_only_by_one_as_long():
    assert extract_program("````python\nx = 1\n```\nstill code\n````\n") == "x = 1\n```\nstill code\n"
