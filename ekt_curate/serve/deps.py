"""The serve extra's packages, checked before anything starts: one line naming the install."""

from __future__ import annotations

import importlib.util

from ekt_curate.errors import EktError

PACKAGES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "prometheus_client": "prometheus-client"}


def require_serve_extra() -> None:
    missing = [name for module, name in PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise EktError(f"ekt-curate serve needs {', '.join(missing)}: pip install 'ekt-curate[serve]' "
                       f"(make install includes it)")
