"""verify on the inputs users bring: whole files of the wrong kind, other shapes, other sources."""

from __future__ import annotations

import json
from pathlib import Path

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl


def verify(*args: object) -> int:
    return main(["verify", "--quiet", *map(str, args)])


def test_every_line_rejected_is_an_error_and_names_no_missing_output(tmp_path, capsys, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", [{"id": 1, "text": "x"}] * 4)
    assert verify(source, "--policy", fast_policy_file) == 2
    captured = capsys.readouterr()
    assert "every input line was rejected (4)" in captured.err and "Traceback" not in captured.err
    assert "output: none written" in captured.out
    assert not (tmp_path / "s.verified.jsonl").exists()
    assert len((tmp_path / "s.verified.rejects.jsonl").read_text().splitlines()) == 4
    # the rerun with the right field names needs no --overwrite: nothing was verified before
    source.write_text("".join(json.dumps({"id": i, "completion": "answer = 1", "gold": 1}) + "\n" for i in range(4)))
    assert verify(source, "--policy", fast_policy_file, "--id-field", "id") == 0
    assert len(verified(tmp_path / "s.verified.jsonl")) == 4 and not (tmp_path / "s.verified.rejects.jsonl").exists()


GOOD = "def solution():\n    return 72\n"
BAD = "def solution():\n    return 71\n"


def verified(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_record_shapes_of_other_tools(tmp_path, fast_policy_file):
    """chat messages, completions and chat-completions responses, Batch API lines, '#### 72' golds."""
    chat = {"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant",
                                                                                          "content": GOOD}}]}
    records = [
        {"task_id": 1, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": GOOD}],
         "gold": "Natalia sold 48/2 = 24 clips.\n#### 72"},
        {"task_id": "t2", "response": {"object": "text_completion", "choices": [{"text": BAD}]}, "gold": 72},
        {"task_id": "t3", **chat, "gold": 72},
        {"id": "batch_req_1", "custom_id": "t4", "response": {"status_code": 200, "body": chat}, "error": None,
         "gold": "72"},
        {"id": "batch_req_2", "custom_id": "t5", "response": None, "error": {"code": "rate_limit", "message": "slow"},
         "gold": "72"},
        {"task_id": "t6", "messages": [{"role": "assistant",
                                        "content": [{"type": "text", "text": GOOD}]}], "gold": 72},
    ]
    source = write_jsonl(tmp_path / "s.jsonl", records)
    assert verify(source, "--policy", fast_policy_file) == 0
    out = verified(tmp_path / "s.verified.jsonl")
    assert [(r["task_id"], r["verdict"]["status"]) for r in out] == [
        (1, "pass"), ("t2", "wrong_answer"), ("t3", "pass"), ("t4", "pass"), ("t6", "pass")]
    assert out[3]["completion"] == GOOD  # the canonical keys later stages read were added
    rejects = verified(tmp_path / "s.verified.rejects.jsonl")
    assert [(r["line"], r["reason"]) for r in rejects] == [(5, "request failed: slow")]


def test_field_names_map_other_layouts(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", [{"problem_id": 7, "program": GOOD, "target": "#### 72"}])
    assert verify(source, "--policy", fast_policy_file, "--id-field", "problem_id", "--completion-field", "program",
                  "--gold-field", "target") == 0
    (record,) = verified(tmp_path / "s.verified.jsonl")
    assert record["task_id"] == "7" and record["verdict"]["passed"] and record["program"] == GOOD


def test_gsm8k_problems_without_ids_get_stable_ids_everywhere(tmp_path, fast_policy_file):
    from ekt_curate.problems import iter_problems

    problems = write_jsonl(tmp_path / "gsm8k_test.jsonl", [
        {"question": "Natalia sold clips to 48 friends ... How many?", "answer": "48 + 24 = 72\n#### 72"},
        {"question": "Weng earns $12 an hour ... How much?", "answer": "12 * 50 / 60 = 10\n#### 1,000"}])
    ids = [p.task_id for p in iter_problems(str(problems))]
    assert ids == ["gsm8k_test/0", "gsm8k_test/1"] == [p.task_id for p in iter_problems(str(problems))]
    assert [p.gold for p in iter_problems(str(problems))] == ["72", "1000"]
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "gsm8k_test/0", "completion": GOOD},
                                                {"task_id": "gsm8k_test/1", "completion": "answer = 1000"}])
    assert verify(source, "--policy", fast_policy_file, "--problems", problems) == 0
    assert [r["verdict"]["status"] for r in verified(tmp_path / "s.verified.jsonl")] == ["pass", "pass"]


def test_a_parquet_dataset_through_datasets_and_exact_resume(tmp_path, fast_policy_file):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"task_id": f"t{i}", "completion": GOOD if i % 2 else BAD, "gold": 72} for i in range(6)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "samples.parquet")
    out = tmp_path / "out.jsonl"
    assert verify(tmp_path / "samples.parquet", "-o", out, "--policy", fast_policy_file) == 0
    whole = verified(out)
    assert [r["verdict"]["line"] for r in whole] == list(range(1, 7))  # the row index, 1-based
    assert [r["verdict"]["passed"] for r in whole] == [bool(i % 2) for i in range(6)]
    # cut after 4 rows and resume: the same file, no duplicates, no gaps
    out.write_text("".join(line + "\n" for line in out.read_text().splitlines()[:4]))
    assert verify(tmp_path / "samples.parquet", "-o", out, "--policy", fast_policy_file, "--resume") == 0
    resumed = verified(out)
    assert [r["verdict"]["line"] for r in resumed] == list(range(1, 7))
    assert [r["task_id"] for r in resumed] == [r["task_id"] for r in whole]
    # a parquet file under a .jsonl name is recognised by its magic bytes
    (tmp_path / "renamed.jsonl").write_bytes((tmp_path / "samples.parquet").read_bytes())
    assert verify(tmp_path / "renamed.jsonl", "--policy", fast_policy_file) == 0
    assert len(verified(tmp_path / "renamed.verified.jsonl")) == 6


def test_bom_blank_lines_and_csv(tmp_path, fast_policy_file):
    source = tmp_path / "s.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps({"task_id": "a", "completion": GOOD, "gold": 72}).encode()
                       + b"\n\n\r\n" + json.dumps({"task_id": "b", "completion": GOOD, "gold": 72}).encode() + b"\n")
    assert verify(source, "--policy", fast_policy_file, "--strict") == 0
    assert [r["verdict"]["line"] for r in verified(tmp_path / "s.verified.jsonl")] == [1, 4]
    (tmp_path / "t.csv").write_text('task_id,completion,gold\nx,"answer = 72",72\n')
    assert verify(tmp_path / "t.csv", "--policy", fast_policy_file) == 0
    assert verified(tmp_path / "t.csv.verified.jsonl")[0]["verdict"]["passed"]


def test_a_csv_named_jsonl_is_refused_with_one_line(tmp_path, capsys):
    (tmp_path / "s.jsonl").write_text("task_id,completion,gold\n" + "x,answer = 1,1\n" * 1000)
    assert verify(tmp_path / "s.jsonl") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "looks like CSV" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_a_hub_dataset_offline_is_one_line_and_exit_4(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "verify", "-q", "hf:openai/gsm8k:main:test"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 4, done.stderr
    assert done.stderr.count("\n") == 1 and "hf:" not in done.stderr.split("error:")[0]
    assert "openai/gsm8k:main:test" in done.stderr and "Hugging Face Hub" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf"] or not any(tmp_path.glob("*.jsonl"))


def test_a_bad_option_with_overwrite_leaves_the_finished_run_alone(tmp_path, capsys, fast_policy_file):
    """Every option is checked before an output is touched: --overwrite once deleted the verified
    file and its sidecar, then failed on the typo."""
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": GOOD, "gold": 72}])
    out = tmp_path / "s.verified.jsonl"
    assert verify(source, "--policy", fast_policy_file) == 0
    before = out.read_bytes(), (tmp_path / "s.verified.jsonl.meta.json").read_bytes()
    missing = tmp_path / "missing.py"
    for bad in (("--answer", "foo"), ("--prelude", missing), ("--policy", "no-such-policy"),
                ("--problems", tmp_path / "nothere.jsonl"), ("--problems", "gsm8k:validation")):
        code = verify(source, "--overwrite", *(("--policy", fast_policy_file) if bad[0] != "--policy" else ()), *bad)
        err = capsys.readouterr().err
        assert code in (2, 3) and err.count("\n") == 1 and "Traceback" not in err, (bad, err)
        assert (out.read_bytes(), (tmp_path / "s.verified.jsonl.meta.json").read_bytes()) == before, bad


def test_resume_with_other_judging_settings_is_refused(tmp_path, capsys, fast_policy_file):
    records = [{"task_id": f"t{i}", "completion": GOOD, "gold": 72} for i in range(4)]
    source = write_jsonl(tmp_path / "s.jsonl", records[:2])
    assert verify(source, "--policy", fast_policy_file) == 0
    write_jsonl(source, records)
    for other in (("--checker", "math-verify"), ("--rel-tol", "0.1"), ("--gold-precision", "off"),
                  ("--answer", "solution")):
        assert verify(source, "--policy", fast_policy_file, "--resume", *other) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot resume with" in err and "--overwrite" in err, err
    assert len(verified(tmp_path / "s.verified.jsonl")) == 2  # nothing was added
    assert verify(source, "--policy", fast_policy_file, "--resume") == 0
    assert len(verified(tmp_path / "s.verified.jsonl")) == 4


def test_an_output_that_cannot_be_a_file_is_one_line(tmp_path, capsys, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": GOOD, "gold": 72}])
    (tmp_path / "adir").mkdir()
    for out, message in ((tmp_path / "adir", "is a folder"), (tmp_path / "no" / "o.jsonl", "does not exist")):
        assert verify(source, "--policy", fast_policy_file, "-o", out, "--overwrite") == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err


def test_a_task_id_with_two_golds_in_the_problems_is_one_line(tmp_path, capsys, fast_policy_file):
    source = write_jsonl(tmp_path / "s.jsonl", [{"id": 2, "completion": "answer = 10"}])
    problems = write_jsonl(tmp_path / "p.jsonl", [{"id": 2, "final": 10}, {"id": 3, "final": 5}, {"id": 2, "final": 11}])
    argv = (source, "--policy", fast_policy_file, "--id-field", "id", "--gold-field", "final", "--problems", problems)
    assert verify(*argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "task '2' has two golds, '10' (record 1) and '11' (record 3)" in err, err
    write_jsonl(problems, [{"id": 2, "final": 10}, {"id": 2, "final": 10}])  # the same gold twice: harmless
    assert verify(*argv) == 0 and verified(tmp_path / "s.verified.jsonl")[0]["verdict"]["passed"]


def test_a_json_array_or_pretty_printed_json_is_read_as_records(tmp_path, fast_policy_file):
    records = [{"task_id": "a", "completion": GOOD, "gold": 72}, {"task_id": "b", "completion": BAD, "gold": 72}]
    cases = {"array.json": json.dumps(records), "array-pretty.json": json.dumps(records, indent=2),
             "jq-output.json": "\n".join(json.dumps(r, indent=2) for r in records),  # `jq . samples.jsonl`
             "one.json": json.dumps(records[0], indent=2)}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert verify(tmp_path / name, "--policy", fast_policy_file) == 0, name
        out = verified(tmp_path / f"{name.removesuffix('.json')}.verified.jsonl")
        expected = [True, False][:len(out)] if name != "one.json" else [True]
        assert [r["verdict"]["passed"] for r in out] == expected, name
        assert [r["task_id"] for r in out] == ["a", "b"][:len(expected)], name


def test_files_that_are_neither_json_lines_nor_one_document_are_one_line(tmp_path, capsys, fast_policy_file):
    cases = {"broken.json": '[{"task_id": "a",\n  "completion": "x" ', "blank.jsonl": "\n\n  \n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert verify(tmp_path / name, "--policy", fast_policy_file) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("line 2" in err or "only blank lines" in err), (name, err)
        assert not list(tmp_path.glob(f"{name.split('.')[0]}.verified*")), name


def test_an_empty_completion_is_no_program_and_a_json_suffix_is_not_kept(tmp_path, fast_policy_file):
    source = write_jsonl(tmp_path / "records.json", [{"task_id": "a", "completion": "  \n", "gold": 72},
                                                     {"task_id": "b", "completion": GOOD, "gold": 72}])
    assert verify(source, "--policy", fast_policy_file) == 0
    # An empty completion is a sample the model produced: a failure that counts, not a lost line.
    assert not (tmp_path / "records.verified.rejects.jsonl").exists()
    assert [r["verdict"]["status"] for r in verified(tmp_path / "records.verified.jsonl")] == ["no_program", "pass"]


def test_a_parquet_and_a_csv_of_one_name_get_outputs_of_their_own(tmp_path, fast_policy_file):
    import pandas as pd

    rows = pd.DataFrame([{"task_id": "a", "completion": "answer = 72", "gold": 72},
                         {"task_id": "b", "completion": "answer = 71", "gold": 72}])
    rows.to_parquet(tmp_path / "samples.parquet")
    rows.iloc[:1].to_csv(tmp_path / "samples.csv", index=False)
    for name in ("samples.parquet", "samples.csv"):
        assert verify(tmp_path / name, "--policy", fast_policy_file) == 0, name
    assert len(verified(tmp_path / "samples.parquet.verified.jsonl")) == 2
    assert len(verified(tmp_path / "samples.csv.verified.jsonl")) == 1


def test_every_missing_field_is_named_at_once_with_the_records_keys(tmp_path, capsys, fast_policy_file):
    source = write_jsonl(tmp_path / "mine.jsonl", [{"qid": 1, "generated": "answer = 72", "target": "72"}])
    assert verify(source, "--policy", fast_policy_file) == 2
    err = capsys.readouterr().err
    for expected in ("no task_id", "--id-field", "no program", "--completion-field", "no gold", "--gold-field",
                     "the record's keys: 'qid', 'generated', 'target'"):
        assert expected in err, (expected, err)
    # one rerun with the three flags the message named: nothing else was missing
    assert verify(source, "--policy", fast_policy_file, "--id-field", "qid", "--completion-field", "generated",
                  "--gold-field", "target") == 0
    assert verified(tmp_path / "mine.verified.jsonl")[0]["verdict"]["passed"]
    # only the gold missing: the gold step names its flag and the keys too
    write_jsonl(source, [{"task_id": "a", "completion": "answer = 72", "target": "72"}])
    assert verify(source, "--policy", fast_policy_file, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "no gold" in err and "--gold-field" in err and "'target'" in err and "no task_id" not in err


def test_canonical_keys_are_added_as_the_readme_says(tmp_path, fast_policy_file):
    reply = "Let me write it.\n```python\nanswer = 72\n```\nDone."
    source = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": 7, "completion": "answer = 72", "gold": 72},
        {"task_id": "c", "code": "answer = 72", "gold": 72},
        {"task_id": "m", "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": reply}],
         "answer": "It is 72.\n#### 72"}])
    assert verify(source, "--policy", fast_policy_file) == 0
    first, second, chat = verified(tmp_path / "s.verified.jsonl")
    assert all(record["verdict"]["passed"] for record in (first, second, chat))
    assert first["task_id"] == 7  # an integer id stays an integer
    assert "completion" not in second and second["code"] == "answer = 72"  # no copy of the program
    assert chat["completion"] == reply and chat["gold"] == "72"  # the whole reply; the gold judged against
