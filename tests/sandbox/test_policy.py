from pathlib import Path

import pytest

from ekt_curate.sandbox import PolicyError, available_policies, load_policy
from ekt_curate.sandbox.policy import Limits, policy_from_mapping


def test_shipped_policies_load_and_differ():
    assert {"default", "strict", "scientific"} <= set(available_policies())
    default, strict, scientific = (load_policy(n) for n in ("default", "strict", "scientific"))
    assert (default.limits.wall_seconds, default.limits.cpu_seconds, default.limits.memory_mib) == (5.0, 2, 512)
    assert default.limits.output_bytes == 1 << 20 and default.allow.threads is False
    assert strict.limits.wall_seconds < default.limits.wall_seconds
    assert scientific.allow.threads and {"numpy", "sympy"} <= set(scientific.allow.preload)


def test_default_toml_spells_out_the_dataclass_defaults():
    # The file is the documentation of the defaults; they must not drift apart.
    assert load_policy("default").limits == Limits()


def test_policy_by_path(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[limits]\nwall_seconds = 1\n')
    policy = load_policy(str(path))
    assert policy.name == "mine" and policy.limits.wall_seconds == 1.0 and policy.source == str(path)
    assert policy.limits.cpu_seconds == Limits().cpu_seconds  # omitted keys take defaults


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nwall_secs = 1\n", "unknown key limits.wall_secs"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("[limits]\ncpu_seconds = 'two'\n", "limits.cpu_seconds must be int"),
        ("[limits]\ncpu_seconds = 1.5\n", "limits.cpu_seconds must be int"),
        ("[allow]\nthreads = 1\n", "allow.threads must be bool"),
        ("[allow]\npreload = 'math'\n", "allow.preload must be a list of strings"),
        ("[limits]\nmemory_mib = 0\n", "limits.memory_mib must be positive"),
        ("[layers]\nuid_base = 0\n", "non-root"),
        ("limits = 3\n", "[limits] must be a table"),
        ("[limits\n", "invalid TOML"),
    ],
)
def test_bad_policies_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(str(path))
    assert message in str(info.value) and str(path) in str(info.value)


def test_toml_syntax_errors_carry_the_line(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n\n[limits]\nwall_seconds = = 2\n')
    with pytest.raises(PolicyError, match="line 4"):
        load_policy(str(path))


def test_unknown_name_lists_shipped_policies():
    with pytest.raises(PolicyError, match="shipped policies: default"):
        load_policy("nonexistent")


def test_missing_file_is_a_policy_error(tmp_path: Path):
    with pytest.raises(PolicyError, match="not found"):
        load_policy(str(tmp_path / "missing.toml"))


def test_mapping_round_trip():
    policy = load_policy("scientific")
    again = policy_from_mapping({k: v for k, v in policy.to_dict().items() if k != "source"})
    assert again.limits == policy.limits and again.allow == policy.allow and again.layers == policy.layers
