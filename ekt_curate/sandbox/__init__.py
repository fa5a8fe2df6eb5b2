"""The sandbox: an isolated core that runs untrusted programs and reports what they computed.

Standard library + pyseccomp only; it knows nothing of datasets, gold answers
or ML libraries (``import ekt_curate.sandbox`` must stay light: a test checks).
Exports resolve lazily so the zygote, which imports ``ekt_curate.sandbox.zygote``,
maps only the modules it needs: every mapping makes each fork dearer.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Sandbox": "executor", "default_workers": "executor",
    "LayerUnavailable": "errors", "PolicyError": "errors", "SandboxError": "errors",
    "Policy": "policy", "available_policies": "policy", "load_policy": "policy",
    "extract_program": "program_text", "Result": "result", "Status": "result",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"ekt_curate.sandbox.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'ekt_curate.sandbox' has no attribute {name!r}")
