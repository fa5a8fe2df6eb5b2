"""Name the cause of a failure that is the policy's doing, not the program's, and the policy that allows it.

Under the default policy ``import numpy`` ends the process before it reports (OpenBLAS cannot
start its threads: the policy allows one), which the sandbox can only call ``program exited with
code 1 before reporting``; ``import sympy`` raises SymPy's misleading "SymPy now depends on
mpmath". A user reading either verdict cannot tell that the program may be right and the policy
wrong. Here the judge, which knows the policy and the program, says which module the policy cannot
load and which shipped policy preloads it (``numpy is not available under policy 'default'; use
--policy scientific``). Only a failure that is an import failure (or OpenBLAS's exit) and a module
the program imports is explained, so a program's own ImportError is never blamed on the policy.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re

_BLAS_EXIT = ("OpenBLAS blas_thread_init", "pthread_create failed for thread")  # numpy starting its threads
_MISSING = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z_][\w.]*)'")
_CANNOT_IMPORT = re.compile(r"ImportError: cannot import name '[^']*' from '([A-Za-z_][\w.]*)'")
_SYMPY_NEEDS_MPMATH = "SymPy now depends on mpmath"  # what sympy raises where it cannot import mpmath
NUMPY_FAMILY = ("numpy", "scipy", "pandas", "sklearn", "torch")  # import numpy, so hit the OpenBLAS exit


def imported_modules(program: str) -> list[str]:
    """Top-level modules a program imports, in order (absolute imports only); none if it does not parse."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=1)
def _shipped_policies() -> tuple:
    from ekt_curate.sandbox.policy import available_policies, load_policy

    return tuple(load_policy(name) for name in available_policies())


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None  # a top-level name: found, not imported
    except (ImportError, ValueError):
        return False


def _culprit(detail: str, stderr: str, modules: list[str]) -> tuple[str | None, bool]:
    """(the module the policy could not load, whether it was OpenBLAS failing to start threads)."""
    if any(marker in stderr for marker in _BLAS_EXIT):
        family = [m for m in modules if m in NUMPY_FAMILY]
        return (family[0] if family else "numpy"), True
    if _SYMPY_NEEDS_MPMATH in detail and "sympy" in modules:
        return "sympy", False
    match = _MISSING.match(detail) or _CANNOT_IMPORT.match(detail)
    if match and match[1].split(".")[0] in modules:
        return match[1].split(".")[0], False
    return None, False


def explain(status: str, detail: str, stderr: str, program: str, policy) -> str | None:
    """One sentence naming the module the policy cannot load and a shipped policy that allows it;
    None when the failure is not an import the policy stands in the way of."""
    if policy is None or status not in ("runtime_error", "no_answer"):
        return None
    if not (detail.startswith(("ModuleNotFoundError", "ImportError")) or any(m in stderr for m in _BLAS_EXIT)):
        return None
    module, blas = _culprit(detail, stderr, imported_modules(program))
    if module is None or (module in policy.allow.preload and not blas) or not _installed(module):
        return None  # a module the policy loads, or one not installed: the detail says enough
    why = " (OpenBLAS cannot start its threads there)" if blas else ""
    allowing = [p.name for p in _shipped_policies()
                if p.name != policy.name and module in p.allow.preload and (p.allow.threads or not blas)]
    if allowing:
        return f"{module} is not available under policy {policy.name!r}{why}; use --policy {allowing[0]}"
    return (f"{module} is not available under policy {policy.name!r}{why}; no shipped policy preloads it "
            f"(a policy file can, under [allow] preload)")
