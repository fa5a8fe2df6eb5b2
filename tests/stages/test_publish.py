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
from tests.stages.test_sample import endpoint  # noqa: F401 - a real local OpenAI-compatible server

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
    assert "language:\n- en" in header and "- gsm8k" in header  # GSM8K's terms, from the problem source
    assert "config_name: messages" not in header  # only with --messages
    for fact in ("Source problems: `gsm8k:train`", "Licence: `mit` (the licence of GSM8K", "Teacher model: `gsm8k-",
                 "Sandbox policy: `", "Checker (--checker): `strict`", "Gold precision (--gold-precision): `auto`",
                 "| verified | ", "| deduplicated | ", "exact_duplicate", "| sampled | not recorded (no sample sidecar)",
                 "Verify command: `", "Dedup command: `", "Publish command: `", "Sample command: not recorded"):
        assert fact in card, fact
    records = sum(1 for _ in curated.open())
    assert f"| published | {records:,} rows (" in card


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
    (["--name", "x", "--license", "MIT"], "--license takes a Hub licence id"),
    (["--name", "x", "--language", "en,"], "--language takes comma-separated ISO 639 codes"),
    (["--name", "x", "--tags", "math,two words"], "--tags takes comma-separated tags"),
])
def test_bad_arguments_are_one_line(curated, tmp_path, capsys, args, message):
    assert main(["publish", str(curated), "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


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


def publish_cli(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m ekt_curate publish` as a user runs it (the card records argv)."""
    return subprocess.run([sys.executable, "-m", "ekt_curate", "publish", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def header_of(folder: Path) -> str:
    return (folder / "README.md").read_text().split("---")[1]


@pytest.fixture(scope="module")
def own_data(tmp_path_factory, fast_policy_file) -> Path:
    """A user's own problems (named like GSM8K, no ids, no licence) and programs for them, verified and deduped."""
    folder = tmp_path_factory.mktemp("own")
    problems = write_jsonl(folder / "gsm8k_train.jsonl", [
        {"question": f"Ann has {n} apples and buys {n + 1} more. How many now?", "answer": f"{n} + {n + 1}\n#### {2 * n + 1}"}
        for n in range(4)])
    write_jsonl(folder / "samples.jsonl", [
        {"task_id": f"gsm8k_train/{n}", "completion": f"def solution():\n    return {n} + {n + 1 + offset}\n"}
        for n in range(4) for offset in (0, 1)])
    assert main(["verify", "-q", str(folder / "samples.jsonl"), "--problems", str(problems),
                 "--policy", str(fast_policy_file)]) == 0
    assert main(["dedup", "-q", str(folder / "samples.verified.jsonl")]) == 0
    return folder / "samples.curated.jsonl"


def test_own_data_without_a_known_licence_is_unknown_on_the_card(own_data, tmp_path):
    done = publish_cli(own_data, "--name", "own", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    header = header_of(tmp_path / "own")
    assert "license: unknown" in header and "mit" not in header.lower()
    assert "language:" not in header and "gsm8k" not in header  # not GSM8K's, whatever the file is named
    card = (tmp_path / "own" / "README.md").read_text()
    assert "Licence: `unknown` (the problem source's licence is not known (`" in card and "--license states it" in card
    assert "Language: not recorded (`" in card
    assert "| verified | 8 lines: 8 samples run (50.0% pass)" in card and "pass 4, wrong_answer 4" in card
    assert "| published | 4 rows (train 4); 0 not passing left out |" in card
    assert "- Teacher model: not recorded" not in card and "no sample sidecar and no `meta` in the records" in card


def test_license_language_and_tags_are_the_users(own_data, tmp_path):
    done = publish_cli(own_data, "--name", "mine", "--out", tmp_path, "--license", "apache-2.0", "--language", "en,fr",
                       "--tags", "math,my-set")
    assert done.returncode == 0, done.stderr
    header = header_of(tmp_path / "mine")
    assert "license: apache-2.0" in header and "language:\n- en\n- fr" in header and "tags:\n- math\n- my-set\n" in header
    card = (tmp_path / "mine" / "README.md").read_text()
    assert "Licence: `apache-2.0` (given with --license)" in card and "`en`, `fr` (given with --language)" in card


def test_pipeline_yaml_takes_the_card_keys_typed(tmp_path):
    from ekt_curate.errors import EktError
    from ekt_curate.stages.pipeline import load_pipeline

    path = tmp_path / "p.yaml"
    path.write_text("workdir: w\npublish: {license: cc-by-4.0, language: [en], tags: [math], messages: true}\n")
    section = load_pipeline(path).publish
    assert (section.license, section.language, section.tags, section.messages) == ("cc-by-4.0", ["en"], ["math"], True)
    for bad, message in (("license: MIT", "publish.license: string should match pattern"),
                         ("language: en", "publish.language: input should be a valid list"),
                         ("tags: ['a b']", "publish.tags.0: string should match pattern"),
                         ("messages: maybe", "publish.messages: input should be a valid boolean")):
        path.write_text(f"workdir: w\npublish: {{{bad}}}\n")
        with pytest.raises(EktError, match=message.replace(".", r"\.")):
            load_pipeline(path)


def test_messages_column_loads_offline_for_trl(curated, tmp_path):
    done = publish_cli(curated, "--name", "chat", "--out", tmp_path, "--messages")
    assert done.returncode == 0, done.stderr
    code = ("import datasets, json, sys\nfrom trl.data_utils import is_conversational\n"
            "plain = datasets.load_dataset(sys.argv[1])['train']\n"
            "chat = datasets.load_dataset(sys.argv[1], 'messages')['train']\n"
            "print(json.dumps({'plain': plain.column_names, 'chat': chat.column_names, 'pairs': "
            "[[p, c] for p, c in zip(plain['prompt'], plain['completion'])], 'messages': list(chat['messages']), "
            "'conversational': is_conversational(chat[0])}))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    loaded = subprocess.run([sys.executable, "-c", code, str(tmp_path / "chat")], capture_output=True, text=True,
                            env=env, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    data = json.loads(loaded.stdout.strip().splitlines()[-1])
    # the default view keeps prompt/completion only, the messages view messages only: SFTTrainer
    # would otherwise pick its format from whichever key it meets first
    assert "messages" not in data["plain"] and {"prompt", "completion"} <= set(data["plain"])
    assert "messages" in data["chat"] and not {"prompt", "completion"} & set(data["chat"])
    assert len(data["messages"]) == sum(1 for _ in curated.open()) and data["conversational"] is True
    assert data["messages"] == [[{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
                                for prompt, completion in data["pairs"]]
    assert "config_name: messages" in header_of(tmp_path / "chat")


def run_cli(*args: object, env: dict | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "ekt_curate", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr


def test_card_reads_sampling_and_verifier_settings_from_the_sidecars(endpoint, tmp_path, fast_policy_file):
    """sample (a real local OpenAI-compatible server) -> verify in two shards -> merge -> dedup -> publish."""
    samples = tmp_path / "s.jsonl"
    run_cli("sample", "-q", "--backend", "openai", "--base-url", endpoint, "--model", "big-teacher", "--problems",
            "gsm8k:test", "--limit", "6", "-n", "2", "--temperature", "0.7", "-o", samples,
            env={"OPENAI_API_KEY": "sk-test"})
    for shard in (0, 1):
        run_cli("verify", "-q", samples, "--shard", f"{shard}/2", "--problems", "gsm8k:test", "--policy",
                fast_policy_file, "--gold-precision", "always", "-o", tmp_path / f"v{shard}.jsonl")
    run_cli("merge", tmp_path / "v0.jsonl", tmp_path / "v1.jsonl", "-o", tmp_path / "s.verified.jsonl")
    run_cli("dedup", "-q", tmp_path / "s.verified.jsonl")
    done = publish_cli(tmp_path / "s.curated.jsonl", "--name", "t", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    card = (tmp_path / "out" / "t" / "README.md").read_text()
    for fact in ("Teacher model: `big-teacher`", "Backend: `openai`", "Endpoint: `completions`",
                 "Chat template: none", "Temperature: `0.7`", "Samples per problem (n): `2`", "Seeding: `sample`",
                 "Stop sequences: `\\nQ:`", "| sampled | 12 samples written for 6 problems, n = 2",
                 "| verified | 12 lines: 12 samples run (", "Gold precision (--gold-precision): `always`",
                 "Checker (--checker): `strict`", "Verified in 2 shards, merged by `ekt-curate merge",
                 "Sample command: `ekt-curate sample -q --backend openai", "license: mit"):
        assert fact in card, fact
    assert "not recorded" not in card.split("## Commands")[0].split("## Teacher and sampling")[1]
    assert "sk-test" not in card


def test_a_validation_fraction_that_leaves_no_train_split_is_an_error(tmp_path, capsys):
    two_tasks = write_jsonl(tmp_path / "c.jsonl", [
        {"task_id": task, "question": "q", "gold": "1", "completion": "answer = 1",
         "verdict": {"status": "pass", "passed": True}} for task in ("t/0", "t/1")])
    assert main(["publish", str(two_tasks), "--name", "d", "--out", str(tmp_path), "--validation-fraction", "0.99"]) == 2
    err = capsys.readouterr().err
    assert "none in train" in err and "all 2 passing records in validation" in err
    assert not (tmp_path / "d").exists()


def test_the_published_folders_follow_the_umask(curated, tmp_path):
    previous = os.umask(0o022)
    try:
        assert main(["publish", str(curated), "--name", "shared", "--out", str(tmp_path)]) == 0
    finally:
        os.umask(previous)
    folder = tmp_path / "shared"
    for path in (folder, folder / "data", *folder.rglob("*")):
        mode = path.stat().st_mode & 0o777
        assert mode & 0o044 == 0o044, (path, oct(mode))  # readable by the group and others, as the umask allows


def published_rows(folder: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [row for path in sorted((folder / "data").glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def test_gold_is_published_as_the_verdict_compared_it_and_raw_beside_it(tmp_path, fast_policy_file):
    """GSM8K's whole answer text, a currency, a LaTeX box, written decimals, an integer past float range."""
    golds = {"t/gsm8k": ("Natalia sold 24 in May.\n#### 72", "answer = 72", "72"),
             "t/dollars": ("$10", "answer = 10", "10"),
             "t/boxed": ("\\boxed{72}", "answer = 72", "72"),  # --checker math-verify reads it as the number
             "t/decimals": ("6.70", "answer = 6.7", "6.70"),
             "t/big": (10 ** 40, "answer = 10 ** 40", str(10 ** 40)),
             "t/third": ("1/3", "from fractions import Fraction\nanswer = Fraction(1, 3)", "1/3"),
             "t/text": ("  blue   whale ", "answer = 'blue whale'", "blue whale")}
    samples = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": task, "question": f"question {task}", "gold": gold, "completion": program}
        for task, (gold, program, _) in golds.items()])
    assert main(["verify", "-q", str(samples), "--checker", "math-verify", "--policy", str(fast_policy_file)]) == 0
    verified = [json.loads(line) for line in (tmp_path / "samples.verified.jsonl").read_text().splitlines()]
    assert all(r["verdict"]["passed"] for r in verified), [r["verdict"] for r in verified]
    done = publish_cli(tmp_path / "samples.verified.jsonl", "--name", "golds", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = {row["task_id"]: row for row in published_rows(tmp_path / "out" / "golds")}
    for task, (raw, _, gold) in golds.items():
        assert rows[task]["gold"] == gold, (task, rows[task]["gold"])
        assert rows[task]["gold_raw"] == (raw if isinstance(raw, str) else json.dumps(raw)), task
    card = (tmp_path / "out" / "golds" / "README.md").read_text()
    assert "`gold_raw`: the gold as the records or problems gave it" in card


def test_a_gold_looked_up_in_the_problems_is_published_the_same_way(tmp_path, fast_policy_file):
    problems = write_jsonl(tmp_path / "problems.jsonl", [
        {"task_id": "p/0", "question": "Ann has 3 apples and buys 4. How many?", "answer": "3 + 4 = 7\n#### 7"}])
    write_jsonl(tmp_path / "samples.jsonl", [{"task_id": "p/0", "completion": "answer = 3 + 4"}])
    assert main(["verify", "-q", str(tmp_path / "samples.jsonl"), "--problems", str(problems),
                 "--policy", str(fast_policy_file)]) == 0
    assert main(["publish", str(tmp_path / "samples.verified.jsonl"), "--name", "p", "--out", str(tmp_path)]) == 0
    (row,) = published_rows(tmp_path / "p")
    assert (row["gold"], row["gold_raw"], row["question"]) == ("7", "7", "Ann has 3 apples and buys 4. How many?")


def test_a_chat_record_without_a_question_is_published_with_its_user_turn(tmp_path, fast_policy_file, capsys):
    """The question from the last user turn before the assistant reply (text, or a list of text parts)."""
    question = "Tom has 5 marbles and finds 2 more. How many does he have?"
    records = [
        {"task_id": "chat/0", "gold": "7", "model": "my-teacher", "messages": [
            {"role": "system", "content": "Answer with a Python program."},
            {"role": "user", "content": [{"type": "text", "text": "Tom has 5 marbles "},
                                         {"type": "text", "text": "and finds 2 more. How many does he have?"}]},
            {"role": "assistant", "content": "```python\nanswer = 5 + 2\n```"}]},
        {"task_id": "chat/1", "gold": "9", "model": "my-teacher", "messages": [
            {"role": "user", "content": "an earlier question"}, {"role": "assistant", "content": "answer = 1"},
            {"role": "user", "content": "Sue has 4 pens and buys 5. How many?"},
            {"role": "assistant", "content": "answer = 4 + 5"}]},
    ]
    write_jsonl(tmp_path / "chat.jsonl", records)
    assert main(["verify", "-q", str(tmp_path / "chat.jsonl"), "--policy", str(fast_policy_file)]) == 0
    done = publish_cli(tmp_path / "chat.verified.jsonl", "--name", "chat", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = {row["task_id"]: row for row in published_rows(tmp_path / "out" / "chat")}
    assert rows["chat/0"]["question"] == question and question in rows["chat/0"]["prompt"]
    assert rows["chat/1"]["question"] == "Sue has 4 pens and buys 5. How many?"
    assert rows["chat/0"]["completion"] == "answer = 5 + 2\n"
    # the model the records name is on the card, which has no sample sidecar to name it
    card = (tmp_path / "out" / "chat" / "README.md").read_text()
    assert "- Teacher model: `my-teacher` (named by the records)" in card

    # no question anywhere (no user turn, no --problems): one line naming where it looked
    write_jsonl(tmp_path / "lone.jsonl", [{"task_id": "lone/0", "gold": "1", "completion": "answer = 1",
                                           "messages": [{"role": "assistant", "content": "answer = 1"}],
                                           "verdict": {"status": "pass", "passed": True}}])
    assert main(["publish", str(tmp_path / "lone.jsonl"), "--name", "lone", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no question, nor a user turn in 'messages'" in err and "--problems" in err


def test_the_card_names_the_models_of_openai_responses_without_a_sample_sidecar(tmp_path, fast_policy_file):
    def response(model: str, program: str) -> dict:
        return {"id": "cmpl-1", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": program}}]}

    write_jsonl(tmp_path / "api.jsonl", [
        {"task_id": f"api/{n}", "question": f"What is {n} + 1?", "gold": n + 1,
         "response": response("gpt-4o-mini-2024-07-18" if n < 3 else "other-model", f"answer = {n} + 1")}
        for n in range(4)] + [{"task_id": "api/9", "question": "What is 9 + 1?", "gold": 10, "completion": "answer = 10"}])
    assert main(["verify", "-q", str(tmp_path / "api.jsonl"), "--policy", str(fast_policy_file)]) == 0
    assert main(["publish", str(tmp_path / "api.verified.jsonl"), "--name", "api", "--out", str(tmp_path)]) == 0
    card = (tmp_path / "api" / "README.md").read_text()
    assert ("- Teacher model: `gpt-4o-mini-2024-07-18` (3 rows), `other-model` (1 row) (named by the records; "
            "1 row names none)") in card
    assert "- The other sampling settings: not recorded" in card  # nothing else is known: never filled in
