"""publish: offline round trip through `datasets`, the card, atomic writes, and the Hub boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ekt_curate.cli import main
from tests.stages.conftest import write_jsonl

TOKEN = "hf_testTOKENvalue_0123456789"


@pytest.fixture(scope="module")
def curated(tmp_path_factory, teacher_samples, fast_policy_file) -> Path:
    folder = tmp_path_factory.mktemp("publish")
    source = write_jsonl(folder / "samples.jsonl", [{k: v for k, v in s.items() if k != "gold"} for s in teacher_samples])
    assert main(["verify", "-q", str(source), "--problems", "gsm8k:train", "--policy", str(fast_policy_file)]) == 0
    assert main(["dedup", "-q", str(folder / "samples.verified.jsonl")]) == 0
    return folder / "samples.curated.jsonl"


def load_offline(folder: Path) -> dict:
    code = ("import datasets, json, sys\nd = datasets.load_dataset(sys.argv[1])\n"
            "print(json.dumps({s: {'rows': d[s].num_rows, 'columns': d[s].column_names, "
            "'tasks': sorted(set(d[s]['task_id'])), 'first': d[s][0]} for s in d}))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(folder.parent / "hf-home")}
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_round_trip_offline_with_splits_by_task(curated, tmp_path):
    assert main(["publish", str(curated), "--name", "ekt-demo", "--out", str(tmp_path),
                 "--validation-fraction", "0.3"]) == 0
    folder = tmp_path / "ekt-demo"
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["train-00000-of-00001.parquet",
                                                                    "validation-00000-of-00001.parquet"]
    data = load_offline(folder)
    records = [json.loads(line) for line in curated.read_text().splitlines()]
    assert set(data) == {"train", "validation"}
    assert data["train"]["rows"] + data["validation"]["rows"] == len(records)
    assert not set(data["train"]["tasks"]) & set(data["validation"]["tasks"])
    first = data["train"]["first"]
    assert first["prompt"].startswith("Question: ") and first["completion"].strip()
    assert "```" not in first["completion"]  # the program alone, not the teacher's prose
    assert first["gold"] is not None and first["verdict_passed"] is True and first["dedup_cluster_size"] >= 1
    for column in ("prompt", "completion", "task_id", "question", "gold", "answer", "verdict_status",
                   "dedup_canonical_hash"):
        assert column in data["train"]["columns"]


def test_card_declares_configs_and_records_provenance(curated, tmp_path):
    assert main(["publish", str(curated), "--name", "card", "--out", str(tmp_path), "--validation-fraction", "0.3"]) == 0
    card = (tmp_path / "card" / "README.md").read_text()
    header = card.split("---")[1]
    for key in ("license: mit", "task_categories:", "size_categories:", "language:", "tags:", "configs:",
                "split: train", "path: data/train-*.parquet", "split: validation"):
        assert key in header, key
    for fact in ("Source problems: gsm8k:train", "Teacher:", "sandbox policy", "Verified:",
                 "Dedup:", "Verify command: `", "Publish command: `", "exact_duplicate"):
        assert fact in card, fact


def test_existing_dataset_needs_overwrite_and_is_replaced_whole(curated, tmp_path, capsys):
    assert main(["publish", str(curated), "--name", "again", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "again" / "data" / "stale.parquet"
    stale.write_bytes(b"old")
    assert main(["publish", str(curated), "--name", "again", "--out", str(tmp_path)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["publish", str(curated), "--name", "again", "--out", str(tmp_path), "--overwrite"]) == 0
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]  # no staging or retired folders left


def test_an_interrupted_publish_leaves_nothing_half_written(curated, tmp_path, monkeypatch):
    import ekt_curate.stages.publish as publish

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "_write_card", crash)
    with pytest.raises(KeyboardInterrupt):
        publish.run_publish(publish.PublishConfig(input=curated, name="cut", out=tmp_path))
    assert list(tmp_path.iterdir()) == []


class FakeHfApi:
    """The Hub boundary: records the calls and the files it is handed."""

    calls: list = []

    def __init__(self, *args, **kwargs):
        pass

    def create_repo(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_repo", repo_id, kwargs))
        return f"https://huggingface.co/datasets/{repo_id}"

    def upload_folder(self, **kwargs):
        files = sorted(str(p.relative_to(kwargs["folder_path"])) for p in Path(kwargs["folder_path"]).rglob("*")
                       if p.is_file())
        FakeHfApi.calls.append(("upload_folder", kwargs, files))


def test_push_to_hub_hands_the_folder_to_hfapi(curated, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    FakeHfApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert main(["publish", str(curated), "--name", "pushed", "--out", str(tmp_path),
                 "--push-to-hub", "my-org/gsm8k-ekt", "--private"]) == 0
    (create, repo_id, create_args), (upload, upload_args, files) = FakeHfApi.calls
    assert (create, repo_id) == ("create_repo", "my-org/gsm8k-ekt")
    assert create_args == {"repo_type": "dataset", "private": True, "exist_ok": True, "token": TOKEN}
    assert upload == "upload_folder" and upload_args["repo_id"] == "my-org/gsm8k-ekt"
    assert upload_args["repo_type"] == "dataset" and upload_args["token"] == TOKEN
    assert Path(upload_args["folder_path"]) == tmp_path / "pushed"
    assert files == ["README.md", "data/train-00000-of-00001.parquet", "prompt_template.txt"]
    out = capsys.readouterr()
    assert "pushed to https://huggingface.co/datasets/my-org/gsm8k-ekt" in out.out
    assert TOKEN not in out.out + out.err + (tmp_path / "pushed" / "README.md").read_text()


def test_without_a_token_the_local_dataset_is_written_and_the_exit_is_4(curated, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    assert main(["publish", str(curated), "--name", "local", "--out", str(tmp_path),
                 "--push-to-hub", "my-org/x"]) == 4
    err = capsys.readouterr().err
    assert "no Hugging Face token" in err and err.count("\n") == 1
    assert (tmp_path / "local" / "README.md").exists()


def test_network_failure_is_one_line_without_the_token(curated, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    class Unreachable(FakeHfApi):
        def create_repo(self, repo_id, **kwargs):
            raise ConnectionError(f"Max retries exceeded (token {kwargs['token']})")

    monkeypatch.setattr(huggingface_hub, "HfApi", Unreachable)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert main(["publish", str(curated), "--name", "offline", "--out", str(tmp_path), "--push-to-hub", "o/x"]) == 4
    err = capsys.readouterr().err
    assert "could not push to the Hub" in err and "ConnectionError" in err and TOKEN not in err
    assert (tmp_path / "offline" / "data").is_dir()


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "a/b"], "plain folder name"),
    (["--name", "x", "--validation-fraction", "1.5"], "--validation-fraction"),
    (["--name", "x", "--push-to-hub", "noslash"], "ORG/NAME"),
])
def test_bad_arguments_are_one_line(curated, tmp_path, capsys, args, message):
    assert main(["publish", str(curated), "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_only_passing_verified_records_are_published_and_the_rest_counted(curated, tmp_path):
    verified = curated.with_name("samples.verified.jsonl")
    records = [json.loads(line) for line in verified.read_text().splitlines()]
    failing = sum(not r["verdict"]["passed"] for r in records)
    assert failing and main(["publish", str(verified), "--name", "v", "--out", str(tmp_path)]) == 0
    data = load_offline(tmp_path / "v")
    assert data["train"]["rows"] == len(records) - failing
    card = (tmp_path / "v" / "README.md").read_text()
    assert f"did not pass: {failing:,} records (" in card and "wrong_answer" in card


def test_unverified_samples_are_refused_and_nothing_is_written(curated, tmp_path, capsys):
    raw = curated.with_name("samples.jsonl")
    assert main(["publish", str(raw), "--name", "raw", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no verdict" in err and "ekt-curate verify" in err
    assert not (tmp_path / "out" / "raw").exists()
