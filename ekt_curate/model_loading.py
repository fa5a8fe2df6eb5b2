"""A model that cannot be loaded (offline Hub id, a typo, a missing folder) is one line, exit code 4.

transformers answers each of these with an OSError (or, for a malformed id such as
``../runs/x``, a ValueError) and some 80 lines of traceback. ``require_model`` reads only the
model's config.json (a few kB) before any weights load, so a run stops in a second with a
sentence that says which of the three it is; ``loading`` wraps a tokenizer or weight load the
same way. transformers is imported only when called.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ekt_curate.errors import EktError, HubError


class ModelLoadError(HubError):
    """A model or tokenizer could not be loaded: exit code 4 (as for the Hub; often it is the Hub)."""


def require_model(name: str, role: str = "model") -> None:
    """Fail now, with one line, if ``name`` is neither a model folder nor a reachable Hub model."""
    if not Path(name).expanduser().exists() and not _looks_local(name) and not _offline():
        _check_hub(name, role)
    with loading(name, role):
        from transformers import AutoConfig

        AutoConfig.from_pretrained(name)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _check_hub(name: str, role: str) -> None:
    """A Hub id with no Hub to ask: transformers would retry for half a minute first. If the model
    is in the local cache, use the cache (HF_HUB_OFFLINE for this run); else one line, now."""
    import socket
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=3).close()
        return
    except OSError:
        pass
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        os.environ["HF_HUB_OFFLINE"] = "1"  # the cached copy, without the retries
        return
    raise ModelLoadError(f"cannot load {role} {name!r}: the Hub ({endpoint.hostname}) cannot be reached and the "
                         f"model is not in the local cache; give a local folder, or set HF_HUB_OFFLINE=1 once it "
                         f"is cached")


@contextmanager
def loading(name: str, role: str = "model") -> Iterator[None]:
    try:
        yield
    except EktError:
        raise
    except (OSError, ValueError) as exc:  # what from_pretrained raises for all three cases
        raise ModelLoadError(f"cannot load {role} {name!r}: {_why(name, exc)}") from None


def _looks_local(name: str) -> bool:
    # A Hub id is ORG/NAME or NAME; anything else (absolute, ./, ~, deeper paths) can only be a folder.
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name


def _why(name: str, exc: Exception) -> str:
    folder = Path(name).expanduser()
    if folder.exists():
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"the folder exists but is not a loadable model ({first})"
    if _looks_local(name):
        return "no such folder"
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    if _offline():
        return "no local folder of that name, and not in the Hugging Face cache (HF_HUB_OFFLINE is set)"
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, GatedRepoError) or isinstance(cause, GatedRepoError):
        return "the Hub model is gated: accept its terms and log in (HF_TOKEN)"
    if isinstance(exc, RepositoryNotFoundError) or isinstance(cause, RepositoryNotFoundError) \
            or "is not a local folder and is not a valid model identifier" in str(exc):
        return "no local folder of that name, and no such model on the Hub (a typo? private: log in with HF_TOKEN)"
    if "couldn't connect" in str(exc).lower() or "connection" in str(exc).lower():
        return "no local folder of that name, the Hub cannot be reached, and it is not in the local cache"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
