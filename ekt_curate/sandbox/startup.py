"""What a Sandbox prepares once, before its zygotes start: the seccomp filters compiled from the
policy, the prelude's imports (preloaded in the zygote so children get them for nothing), and
the open-files limit its pipes need."""

from __future__ import annotations

import resource

from ekt_curate.sandbox.errors import LayerUnavailable, SandboxError
from ekt_curate.sandbox.policy import Policy


def imports_of(source: str | None) -> list[str]:
    """Top-level imports of a prelude, preloaded in the zygote so they cost children nothing."""
    if not source:
        return []
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SandboxError(f"prelude does not parse: line {exc.lineno}: {exc.msg}") from None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def compile_seccomp(policy: Policy) -> dict[str, str]:
    if not policy.layers.seccomp:
        return {}
    try:
        from ekt_curate.sandbox.seccomp_filter import program_filter, supervisor_filter

        return {"seccomp_supervisor": supervisor_filter().hex(),
                "seccomp_program": program_filter(policy.allow.threads).hex()}
    except Exception as exc:  # ImportError, OSError from ctypes, libseccomp errors
        raise LayerUnavailable(
            f"seccomp layer unavailable (libseccomp through pyseccomp): {exc}; "
            "install libseccomp2, or set layers.seccomp = false in a policy to run without it") from exc


def raise_open_files_limit(wanted: int) -> None:
    """Each job holds five descriptors here; lift the soft limit toward the hard one if needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
