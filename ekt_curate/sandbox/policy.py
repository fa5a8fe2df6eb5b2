"""Sandbox policies: limits and allowances as data (``sandbox_policies/*.toml``).

A policy file has three tables, ``[limits]``, ``[allow]`` and ``[layers]``, plus
top-level ``name`` and ``description``. Every key is typed and checked; an
unknown key is an error (a typo must not silently fall back to a default).
Keys left out take the defaults below, which are also what ``default.toml``
spells out. README.md documents every field.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ekt_curate.sandbox.errors import PolicyError

# Modules a GSM8K-style program commonly imports. They are imported once in the
# zygote, so children get them for free (and without needing to read the disk,
# which matters when the sandbox user cannot traverse the interpreter's prefix).
DEFAULT_PRELOAD = (
    "math", "cmath", "fractions", "decimal", "numbers", "datetime", "time", "calendar",
    "_strptime", "itertools", "functools", "operator", "collections", "collections.abc",
    "statistics", "random", "re", "string", "heapq", "bisect", "copy", "typing",
    "dataclasses", "enum", "json",
)


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 5.0          # wall clock from fork to exit; SIGKILL of the process group after
    cpu_seconds: int = 2               # RLIMIT_CPU soft limit (SIGXCPU); the hard limit is one second more
    memory_mib: int = 512              # address space allowed on top of what the zygote already maps
    output_bytes: int = 1 << 20        # stdout + stderr together; the run is killed past this
    file_size_bytes: int = 1 << 20     # RLIMIT_FSIZE for files written in scratch
    open_files: int = 64               # RLIMIT_NOFILE
    threads: int = 1                   # RLIMIT_NPROC for the sandbox uid (only enforced when running as root)
    program_bytes: int = 1 << 20       # larger programs are rejected before they reach the zygote
    answer_chars: int = 1000           # a longer text answer or last printed line is no_answer, never cut
    scratch_mib: int = 64              # the scratch tmpfs of each worker (root only), all files together
    scratch_files: int = 1024          # ... and how many files and directories it may hold


@dataclass(frozen=True)
class Allow:
    threads: bool = False              # allow clone(CLONE_THREAD); processes are never allowed
    preload: tuple[str, ...] = DEFAULT_PRELOAD
    read_paths: tuple[str, ...] = ()   # extra read-only paths for Landlock, beyond the interpreter's


@dataclass(frozen=True)
class Layers:
    seccomp: bool = True               # syscall allowlist; required unless set false
    landlock: bool = True              # filesystem/network/signal confinement; required unless set false
    drop_privileges: bool = True       # when running as root, run children as an unprivileged uid
    scratch_quota: bool = True         # when running as root, a private size-capped tmpfs for scratch
    readonly_roots: bool = True        # when running as root, the read roots are read-only noatime bind mounts
    uid_base: int = 1_990_000_000      # a zygote's children run as uid_base + (its pid mod 2**22), no passwd entry needed
    gid: int = 1_990_000_000


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    description: str = ""
    limits: Limits = field(default_factory=Limits)
    allow: Allow = field(default_factory=Allow)
    layers: Layers = field(default_factory=Layers)
    source: str = "<defaults>"         # where it was loaded from; not a file key

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {"limits": Limits, "allow": Allow, "layers": Layers}
_TOP_LEVEL = {"name": "str", "description": "str"}


def policies_dir() -> Path:
    """Where the shipped policies live: inside the wheel, or at the repo root."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "sandbox_policies", here.parent / "sandbox_policies"):
        if candidate.is_dir():
            return candidate
    raise PolicyError("cannot find the sandbox_policies directory next to the package")


def available_policies() -> list[str]:
    return sorted(p.stem for p in policies_dir().glob("*.toml"))


def load_policy(name_or_path: str | os.PathLike[str] | Policy) -> Policy:
    """Load a policy by shipped name (``default``) or by path (``./mine.toml``)."""
    if isinstance(name_or_path, Policy):
        return name_or_path
    text = str(name_or_path)
    if text.endswith(".toml") or os.sep in text:
        path = Path(text)
    else:
        path = policies_dir() / f"{text}.toml"
        if not path.is_file():
            raise PolicyError(f"unknown policy {text!r}; shipped policies: {', '.join(available_policies())}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: invalid TOML: {exc}") from None
    return policy_from_mapping(raw, source=str(path))


def policy_from_mapping(raw: dict[str, Any], source: str = "<mapping>") -> Policy:
    kwargs: dict[str, Any] = {"source": source}
    for key, value in raw.items():
        if key in _TOP_LEVEL:
            kwargs[key] = _check_type(source, key, value, _TOP_LEVEL[key])
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise PolicyError(f"{source}: [{key}] must be a table")
            kwargs[key] = _section(source, key, value, _SECTIONS[key])
        else:
            known = sorted([*_TOP_LEVEL, *(f"[{s}]" for s in _SECTIONS)])
            raise PolicyError(f"{source}: unknown key {key!r} (known: {', '.join(known)})")
    policy = Policy(**kwargs)
    _check_values(policy)
    return policy


def _section(source: str, section: str, table: dict[str, Any], cls: type) -> Any:
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise PolicyError(f"{source}: unknown key {section}.{key} (known: {', '.join(sorted(known))})")
        values[key] = _check_type(source, f"{section}.{key}", value, known[key].type)
    return cls(**values)


def _check_type(source: str, key: str, value: Any, declared: Any) -> Any:
    declared = str(declared)
    if declared == "bool":
        ok = isinstance(value, bool)
    elif declared == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif declared == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif declared == "str":
        ok = isinstance(value, str)
    elif declared.startswith("tuple[str"):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:  # pragma: no cover - a new field type without a checker is a programming error
        raise AssertionError(f"no type check for {declared}")
    if not ok:
        raise PolicyError(f"{source}: {key} must be {declared.replace('tuple[str, ...]', 'a list of strings')}, got {value!r}")
    return value


def _check_values(policy: Policy) -> None:
    lim = policy.limits
    for name in ("wall_seconds", "cpu_seconds", "memory_mib", "output_bytes", "file_size_bytes",
                 "open_files", "threads", "program_bytes", "answer_chars", "scratch_mib", "scratch_files"):
        if getattr(lim, name) <= 0:
            raise PolicyError(f"{policy.source}: limits.{name} must be positive")
    if lim.open_files < 8:
        raise PolicyError(f"{policy.source}: limits.open_files must be at least 8 (the interpreter needs a few)")
    if policy.layers.uid_base <= 0 or policy.layers.gid <= 0 or policy.layers.uid_base + (1 << 22) >= 1 << 32:
        raise PolicyError(f"{policy.source}: layers.uid_base and layers.gid must be non-root ids")
