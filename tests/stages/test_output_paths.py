"""An output path that cannot be written as asked is one line and exit 2, checked before the
work: a folder where a file belongs, a folder that does not exist, a file where a folder belongs."""

from __future__ import annotations

import json

import pytest

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl


@pytest.fixture()
def verified(tmp_path):
    return write_jsonl(tmp_path / "v.jsonl", [
        {"task_id": f"t{i}", "question": "q", "gold": "1", "completion": "answer = 1",
         "verdict": {"status": "pass", "passed": True, "line": i + 1}} for i in range(3)])


def one_line(capsys, code: int, message: str) -> None:
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err, (code, err)


def test_stats_reports_into_a_missing_folder_or_onto_a_folder(verified, tmp_path, capsys):
    one_line(capsys, main(["stats", str(verified), "--json", str(tmp_path / "no" / "x.json")]), "does not exist")
    one_line(capsys, main(["stats", str(verified), "--html", str(tmp_path)]), "is a folder")


def test_merge_onto_a_folder(tmp_path, capsys):
    from ekt_curate.provenance import write_meta

    shards = []
    for index in range(2):
        shard = write_jsonl(tmp_path / f"s.shard-{index}-of-2.jsonl", [
            {"task_id": "t", "completion": "answer = 1", "verdict": {"status": "pass", "passed": True,
                                                                      "line": index + 1}}])
        write_meta(shard, "verify", {"policy": "default", "answer": "auto", "rel_tol": 1e-4, "problems": None,
                                     "prelude": None, "shard": [index, 2]})
        shards.append(str(shard))
    (tmp_path / "out").mkdir()
    one_line(capsys, main(["merge", *shards, "-o", str(tmp_path / "out"), "--overwrite"]), "is a folder")


def test_publish_out_that_is_a_file(verified, tmp_path, capsys):
    afile = write_jsonl(tmp_path / "taken.jsonl", [{"x": 1}])
    one_line(capsys, main(["publish", str(verified), "--name", "d", "--out", str(afile)]), "is a file")
    assert json.loads(afile.read_text()) == {"x": 1}
