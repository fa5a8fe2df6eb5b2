"""Every numeric (and choice) option of the judgement: a bad value is one error line and exit 2."""

import pytest

from ekt_curate.cli import main


def run_cli(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_:  # argparse's own errors (a type or a choice)
        return int(exit_.code)


@pytest.mark.parametrize(
    "args",
    [["--rel-tol", "-1"], ["--rel-tol", "nan"], ["--rel-tol", "inf"], ["--rel-tol", "1"], ["--workers", "0"],
     ["--rel-tol", "abc"], ["--gold-precision", "sometimes"], ["--checker", "sympy"]],
)
def test_bad_option_is_one_line_and_exit_2(tmp_path, capsys, args):
    source = tmp_path / "samples.jsonl"
    source.write_text('{"task_id": "t", "completion": "answer = 1", "gold": "1"}\n')
    code = run_cli(["verify", str(source), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback (most recent call last)" not in err, err
    assert args[0] in err.splitlines()[-1]  # the last line names the option
    assert not (tmp_path / "samples.verified.jsonl").exists()
