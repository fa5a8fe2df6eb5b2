import re

import pytest

from ekt_curate.errors import InputError
from ekt_curate.problems import load_gold
from ekt_curate.prompts import load_prompt_format, shipped_formats
from ekt_curate.sampling.base import truncate_at_stop


def test_stop_sequences_cut_at_the_earliest():
    assert truncate_at_stop("def solution():\n    return 3\n\n\nQ: next", ("\nQ:", "\n\n\n")) == \
        "def solution():\n    return 3"
    assert truncate_at_stop("answer = 1", ("\nQ:",)) == "answer = 1"
    assert truncate_at_stop("x\nQ: a\n\n\n", ("\n\n\n", "\nQ:")) == "x"


def test_shipped_formats():
    assert shipped_formats() == ["answer-var", "pal"]
    pal = load_prompt_format("pal")
    assert len(pal.exemplar_task_ids) == 8 and pal.answer == "solution" and "\nQ:" in pal.stop
    rendered = pal.render("  How many apples?  ")
    assert rendered.endswith("Q: How many apples?\n\n# solution in Python:\n") and rendered.count("Q: ") == 9


def test_user_template(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Problem: {question}\nProgram:\n")
    fmt = load_prompt_format(str(path))
    assert fmt.render("2+2?") == "Problem: 2+2?\nProgram:\n" and fmt.exemplar_task_ids == ()
    (tmp_path / "bad.txt").write_text("no placeholder")
    with pytest.raises(InputError, match="placeholder"):
        load_prompt_format(str(tmp_path / "bad.txt"))
    with pytest.raises(InputError, match="unknown prompt"):
        load_prompt_format("palx")


@pytest.mark.parametrize("name", ["pal", "answer-var"])
def test_every_exemplar_program_passes_verification(name):
    from ekt_curate.answers import compare, from_value, parse_gold
    from ekt_curate.sandbox import Sandbox

    fmt = load_prompt_format(name)
    blocks = fmt.template.split("\n\n\nQ: ")[:-1]
    programs = [re.split(r"# (?:solution in )?Python:\n", block, maxsplit=1)[1] for block in blocks]
    assert len(programs) == len(fmt.exemplar_task_ids)
    gold = load_gold("gsm8k:train")
    with Sandbox("default", workers=2, answer=fmt.answer) as box:
        for task_id, result in zip(fmt.exemplar_task_ids, box.map(programs)):
            assert result.ok and compare(from_value(result.answer), parse_gold(gold[task_id]))[0], (task_id, result)
