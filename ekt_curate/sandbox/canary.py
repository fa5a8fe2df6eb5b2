"""The canary: a program that probes every layer from inside a child, and the check of its report.

The executor runs it on every zygote before that zygote gets a job (at start and after a
replacement); a layer the policy requires that did not hold stops the sandbox (fail closed).
"""

from __future__ import annotations

import os
from typing import Any

from ekt_curate.sandbox.errors import LayerUnavailable
from ekt_curate.sandbox.result import Result, Status

# Each probe is harmless if it succeeds; success means a layer is not doing its job.
CANARY = """
import os
report = []
def probe(label, action):
    try:
        action()
        report.append(label)
    except OSError:
        pass
probe("affinity-set", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
probe("signalled-self", lambda: os.kill(os.getpid(), 0))
probe("chmod-allowed", lambda: os.chmod(".", 0o700))
probe("proc-readable", lambda: os.close(os.open("/proc/self/status", os.O_RDONLY)))
probe("listed-scratch-area", lambda: os.listdir(".."))
probe("wrote-outside-scratch", lambda: os.rmdir(os.mkdir("../canary-probe") or "../canary-probe"))
probe("read-a-lock", lambda: __import__("fcntl").fcntl(0, 5, bytes(32)))  # F_GETLK
if not os.statvfs(os.__file__).f_flag & os.ST_NOATIME:
    report.append("roots-keep-atime")
report.append(f"uid={os.getuid()}")
answer = " ".join(report)
"""


def check_canary(result: Result, layers: Any) -> None:
    """Raise LayerUnavailable unless the canary's report shows every required layer held."""
    if result.status is not Status.OK:
        raise LayerUnavailable(f"sandbox self-test failed: {result.status}: {result.detail}")
    report = str(result.answer).split()
    failures = []
    if layers.seccomp:
        if "affinity-set" in report:
            failures.append("seccomp (zygote allowlist): the canary called sched_setaffinity")
        if "signalled-self" in report or "chmod-allowed" in report or "read-a-lock" in report:
            failures.append("seccomp (program filter): the canary signalled outside its group, chmod-ed or "
                            "read a file lock")
    if layers.landlock:
        if "proc-readable" in report:
            failures.append("landlock (zygote domain): the canary read /proc")
        children_are_root = os.geteuid() == 0 and not layers.drop_privileges  # root reads past file modes
        if "listed-scratch-area" in report and not children_are_root:
            failures.append("landlock (program domain): the canary listed the zygote's scratch area")
        if "wrote-outside-scratch" in report:
            failures.append("landlock (program domain): the canary wrote outside its scratch dir")
    if os.geteuid() == 0 and layers.readonly_roots and "roots-keep-atime" in report:
        failures.append("readonly_roots: the interpreter's library is not mounted noatime for the canary")
    if os.geteuid() == 0 and layers.drop_privileges and not any(
            item.startswith("uid=") and item != "uid=0" for item in report):
        failures.append(f"drop_privileges: the canary reported {report}")
    if failures:
        raise LayerUnavailable("sandbox cannot start: a sandbox layer did not hold: " + "; ".join(failures))
