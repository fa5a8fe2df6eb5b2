import re

import pytest

from ekt_curate.errors import InputError
from ekt_curate.problems import load_gold
from ekt_curate.prompts import exemplars, load_prompt_format, shipped_formats
from ekt_curate.sampling.base import truncate_at_stop


def test_stop_sequences_cut_at_the_earliest():
    assert truncate_at_stop("def solution():\n    return 3\n\n\nQ: next", ("\nQ:", "\n\n\n")) == \
        "def solution():\n    return 3"
    assert truncate_at_stop("answer = 1", ("\nQ:",)) == "answer = 1"
    assert truncate_at_stop("x\nQ: a\n\n\n", ("\n\n\n", "\nQ:")) == "x"


def test_shipped_formats():
    assert shipped_formats() == ["answer-var", "answer-var-chat", "code-chat", "humaneval", "pal", "pal-chat"]
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


@pytest.mark.parametrize("name", ["pal", "answer-var"])
def test_chat_formats_hold_the_same_exemplars_as_turns(name):
    text, chat = load_prompt_format(name), load_prompt_format(f"{name}-chat")
    assert chat.chat and chat.stop == () and chat.answer == text.answer
    assert chat.exemplar_task_ids == text.exemplar_task_ids
    shots = exemplars(text)
    assert len(shots) == len(text.exemplar_task_ids)
    messages = chat.messages("  How many apples?  ")
    assert messages[0]["role"] == "system" and messages[-1] == {"role": "user", "content": "How many apples?"}
    turns = messages[1:-1]
    assert [m["role"] for m in turns] == ["user", "assistant"] * len(shots)
    for (question, program), user, assistant in zip(shots, turns[::2], turns[1::2]):
        assert user["content"] == question and assistant["content"] == f"```python\n{program}\n```"
        assert question in text.template and program in text.template
    with pytest.raises(InputError, match="chat format"):
        chat.render("x")
    # a text format sent to a chat endpoint: the whole few-shot prompt as one user message
    assert text.messages("x") == [{"role": "user", "content": text.render("x")}]


def test_program_from_a_chat_reply():
    from ekt_curate.sampling.chat_reply import program_from_reply

    fenced = "```python\ndef solution():\n    return 2\n```"
    assert program_from_reply(f"Sure! Here is the program:\n\n{fenced}\n\nIt returns 2.") == \
        "def solution():\n    return 2\n"
    # code drafted while thinking is not the answer
    assert program_from_reply(f"<think>\n```python\nanswer = 1\n```\nno, wrong\n</think>\n{fenced}") == \
        "def solution():\n    return 2\n"
    assert program_from_reply(f"the template opened the block in the prompt...</think>{fenced}") == \
        "def solution():\n    return 2\n"
    assert program_from_reply("<think>cut at max tokens while thinking") == ""
    assert program_from_reply("answer = 4") == "answer = 4\n"


@pytest.mark.parametrize("name", ["pal", "answer-var", "pal-chat", "answer-var-chat"])
def test_the_first_k_exemplars(name):
    from ekt_curate.problems import iter_problems
    from ekt_curate.prompts import shot_count, with_exemplars

    fmt = load_prompt_format(name)
    count = shot_count(fmt)
    assert count == len(fmt.exemplar_task_ids) and with_exemplars(fmt, count) == fmt
    questions = {p.task_id: p.question for p in iter_problems("gsm8k:train")}
    for k in range(count):
        fewer = with_exemplars(fmt, k)
        assert shot_count(fewer) == k and fewer.exemplar_task_ids == fmt.exemplar_task_ids[:k]
        if fmt.chat:
            assert fewer.turns == fmt.turns[:k] and fewer.system == fmt.system
        else:
            assert exemplars(fewer) == exemplars(fmt)[:k]
            assert fewer.template.endswith(fmt.template[fmt.template.rindex("Q: {question}"):])
    # each shot is the problem its id names, so the first K ids are the K problems shown
    shots = [user for user, _ in fmt.turns] if fmt.chat else [q for q, _ in exemplars(fmt)]
    assert all(question in shot or shot in question
               for question, shot in zip((questions[t] for t in fmt.exemplar_task_ids), shots))
    zero_shot = with_exemplars(fmt, 0)
    if fmt.chat:
        assert zero_shot.messages("x")[1:] == [{"role": "user", "content": "x"}]
    else:  # what follows the last shot, alone
        assert zero_shot.template == fmt.template[fmt.template.rindex("Q: {question}"):]
    with pytest.raises(InputError, match=f"--exemplars {count + 1}: prompt '{name}' has {count} exemplars"):
        with_exemplars(fmt, count + 1)


def test_exemplars_of_a_template_file(tmp_path):
    from ekt_curate.prompts import shot_count, with_exemplars

    mine = tmp_path / "mine.txt"
    mine.write_text("Q: one?\n\n# Python:\nanswer = 1\n\n\nQ: two?\n\n# Python:\nanswer = 2\n\n\n"
                    "Q: {question}\n\n# Python:\n")
    fmt = load_prompt_format(str(mine))
    assert shot_count(fmt) == 2
    assert with_exemplars(fmt, 1).render("three?") == "Q: one?\n\n# Python:\nanswer = 1\n\n\nQ: three?\n\n# Python:\n"
    plain = tmp_path / "plain.txt"
    plain.write_text("Problem: {question}\nProgram:\n")
    assert with_exemplars(load_prompt_format(str(plain)), 0).template == "Problem: {question}\nProgram:\n"
    with pytest.raises(InputError, match="has 0 exemplars .a template file's shots must be 'Q: ...' blocks"):
        with_exemplars(load_prompt_format(str(plain)), 1)


def test_code_formats():
    prompt = 'def f(x):\n    """Twice x."""\n'
    completion_style = load_prompt_format("humaneval")
    assert completion_style.render(prompt) == prompt and completion_style.exemplar_task_ids == ()
    assert truncate_at_stop("    return 2 * x\n\ndef g():\n    pass", completion_style.stop) == "    return 2 * x\n"
    chat = load_prompt_format("code-chat")
    messages = chat.messages(prompt)
    assert [m["role"] for m in messages] == ["system", "user"] and messages[1]["content"] == prompt.strip()
