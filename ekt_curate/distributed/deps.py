"""Optional dependencies of the distributed executors, checked before anything imports them."""

from __future__ import annotations

from importlib.util import find_spec

from ekt_curate.errors import EktError

INSTALL_HINT = "pip install 'ekt-curate[distributed]' (or: pip install datatrove orjson)"


def require_datatrove() -> None:
    missing = [name for name in ("datatrove", "orjson") if find_spec(name) is None]
    if missing:
        raise EktError(f"the distributed executors need {' and '.join(missing)}: {INSTALL_HINT}")


def require_ray() -> None:
    if find_spec("ray") is None:
        raise EktError("--executor ray needs Ray: pip install 'ekt-curate[ray]' (or: pip install 'ray[default]')")
