"""Reading ids, programs and golds from records other tools write (ekt_curate/fields.py)."""

import pytest

from ekt_curate.fields import FieldNames, ShapeError, gold_of, program_of, task_id_of


def test_a_named_completion_field_is_the_only_place_looked_and_the_message_says_so():
    record = {"task_id": "a", "code": "answer = 1"}
    assert program_of(record) == "answer = 1"  # the default field falls back to 'code'
    with pytest.raises(ShapeError) as caught:
        program_of(record, FieldNames(completion="prog"))
    assert "'prog' (--completion-field)" in str(caught.value) and "'code'" not in str(caught.value)


def test_shapes_of_other_tools():
    chat = {"choices": [{"index": 0, "message": {"role": "assistant", "content": [{"type": "text", "text": "x = 1"}]}}]}
    assert program_of({"response": chat}) == "x = 1"
    assert program_of({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "y = 2"}]}) == "y = 2"
    assert task_id_of({"custom_id": "req-7"}) == "req-7" and task_id_of({"task_id": 7}) == "7"
    assert gold_of({"answer": "so 3 + 4 = 7\n#### 1,234"}) == "1234"
    with pytest.raises(ShapeError, match="several choices"):
        program_of({"response": {"choices": [chat["choices"][0]] * 2}})


def test_responses_api_objects_give_the_last_assistant_messages_text():
    response = {"object": "response", "output": [
        {"type": "reasoning", "summary": []},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "answer = "},
                                                             {"type": "output_text", "text": "72"}]}]}
    assert program_of({"task_id": "a", "response": response}) == "answer = 72"
    assert program_of({"task_id": "a", **response}) == "answer = 72"
    batch = {"custom_id": "a", "response": {"status_code": 200, "body": response}}
    assert program_of(batch) == "answer = 72"
    with pytest.raises(ShapeError, match="no assistant message with text"):
        program_of({"response": {"object": "response", "output": [{"type": "reasoning"}]}})


def test_choices_are_known_by_their_index_only_when_it_tells_them_apart():
    from ekt_curate.fields import split_choices

    def response(*indices):
        return {"task_id": "a", "response": {"choices": [{"index": i, "text": "x"} for i in indices]}}

    assert [i for i, _ in split_choices(response(3, 1))] == [3, 1]
    assert [i for i, _ in split_choices(response(0, 0, 0))] == [0, 1, 2]       # repeated
    assert [i for i, _ in split_choices(response(None, "1"))] == [0, 1]        # not integers
    assert split_choices(response(0)) is None                                   # one choice: one sample
