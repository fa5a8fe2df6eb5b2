"""A model that cannot be loaded (offline Hub id, typo, missing folder) is one line and exit 4, in sample,
train and eval, before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")

OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
BAD_MODELS = [("nobody-xyz/no-such-model", "not in the Hugging Face cache (HF_HUB_OFFLINE is set)"),
              ("/nonexistent/student/folder", "no such folder"),
              ("./runs/missing", "no such folder")]


def ekt(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ekt_curate", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=OFFLINE, timeout=300)


def one_line(done: subprocess.CompletedProcess, expected: str) -> None:
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("ekt-curate: error: cannot load") and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """The smallest folder 'train' accepts: a published train split with prompt/completion."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "ds"
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.table({"prompt": ["Question: 1+1?\n"], "completion": ["print(2)\n"]}),
                   folder / "data" / "train-00000-of-00001.parquet")
    (folder / "README.md").write_text("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
                                      "    path: data/train-*\n---\n")
    return folder


@pytest.mark.parametrize("model, expected", BAD_MODELS)
def test_sample(tmp_path: Path, model: str, expected: str) -> None:
    one_line(ekt("sample", "--model", model, "-n", 1, "--limit", 1, "-q", "-o", tmp_path / "s.jsonl", cwd=tmp_path),
             expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("model, expected", BAD_MODELS)
def test_eval(tmp_path: Path, model: str, expected: str) -> None:
    one_line(ekt("eval", "--model", model, "-n", 1, "--k", 1, "--limit", 1, "-q", "--out", tmp_path / "ev",
                 cwd=tmp_path), expected)
    assert not (tmp_path / "ev").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("model, expected", BAD_MODELS)
def test_train(tmp_path: Path, dataset: Path, model: str, expected: str) -> None:
    one_line(ekt("train", "--dataset", dataset, "--model", model, "--output-dir", tmp_path / "run", cwd=tmp_path),
             expected)
    assert not (tmp_path / "run").exists()


def test_train_kd_teacher(tmp_path: Path, dataset: Path, tiny_model: Path) -> None:
    done = ekt("train", "--dataset", dataset, "--model", tiny_model, "--method", "kd", "--teacher", "nobody-xyz/teach",
               "--output-dir", tmp_path / "run", cwd=tmp_path)
    one_line(done, "cannot load teacher model 'nobody-xyz/teach'")
    assert not (tmp_path / "run").exists()


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notamodel").mkdir()
    one_line(ekt("sample", "--model", tmp_path / "notamodel", "-n", 1, "--limit", 1, "-q", "-o", tmp_path / "s.jsonl",
                 cwd=tmp_path), "the folder exists but is not a loadable model")
    assert not (tmp_path / "s.jsonl").exists()


def test_a_hub_id_with_no_hub_to_reach_fails_at_once_and_says_how(tmp_path):
    import time

    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf")}
    env.pop("HF_HUB_OFFLINE", None)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ekt_curate", "sample", "--model", "someorg/not-cached", "-o",
                           str(tmp_path / "s.jsonl")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 4 and time.monotonic() - started < 15  # not half a minute of retries
    assert "cannot be reached" in done.stderr and "HF_HUB_OFFLINE" in done.stderr and "Traceback" not in done.stderr
