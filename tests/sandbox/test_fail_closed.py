"""A layer that cannot be installed stops the sandbox with a message naming it.

To make a layer really unavailable we run the caller in a subprocess that first
stacks a seccomp filter of its own (inherited by the zygotes) which makes the
kernel refuse that layer, exactly as an old or locked-down kernel would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BREAK_AND_START = textwrap.dedent("""
    import errno, sys
    import pyseccomp as sc
    from ekt_curate.sandbox import Sandbox, LayerUnavailable
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    {rule}
    flt.load()
    try:
        with Sandbox("{policy}", workers=1) as box:
            print("RAN", box.run("answer = 1").status.value, box.layers.get("{layer}", ""))
    except LayerUnavailable as exc:
        print("REFUSED", exc)
""")


def _start_with(rule: str, policy: str = "default", layer: str = "landlock") -> str:
    code = BREAK_AND_START.format(rule=rule, policy=policy, layer=layer)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_without_landlock_the_sandbox_refuses_to_start():
    out = _start_with('flt.add_rule(sc.ERRNO(errno.ENOSYS), "landlock_create_ruleset")')
    assert out.startswith("REFUSED") and "landlock layer unavailable" in out


def test_without_seccomp_the_sandbox_refuses_to_start():
    out = _start_with('flt.add_rule(sc.ERRNO(errno.EINVAL), "prctl", sc.Arg(0, sc.EQ, 22))')  # PR_SET_SECCOMP
    assert out.startswith("REFUSED") and "seccomp layer unavailable" in out


def test_a_policy_can_turn_a_layer_off_explicitly(tmp_path):
    policy = tmp_path / "nolandlock.toml"
    policy.write_text("[layers]\nlandlock = false\n")
    out = _start_with('flt.add_rule(sc.ERRNO(errno.ENOSYS), "landlock_create_ruleset")', policy=str(policy))
    assert out == "RAN ok off (policy)"


def test_missing_libseccomp_is_named(tmp_path):
    code = ("import sys; sys.modules['pyseccomp'] = None\n"
            "from ekt_curate.sandbox import Sandbox, LayerUnavailable\n"
            "try:\n    Sandbox('default', workers=1).start()\nexcept LayerUnavailable as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "seccomp layer unavailable" in out and "libseccomp" in out


@pytest.mark.parametrize("layer", ["landlock", "seccomp"])
def test_layers_are_on_by_default(layer):
    out = _start_with('pass', layer=layer)
    assert out.startswith("RAN ok") and "off" not in out
