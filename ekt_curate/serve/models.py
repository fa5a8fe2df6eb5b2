"""Request bodies. SandboxFusion's and OpenRLHF's accept fields they may add later (their clients
send what their version knows); ours, /verify, refuses unknown keys, naming them."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class RunCodeRequest(BaseModel):
    """SandboxFusion's POST /run_code body (sandbox/server/sandbox_api.py in bytedance/SandboxFusion)."""

    model_config = ConfigDict(extra="allow")

    code: str
    language: str
    compile_timeout: float = Field(10, ge=0)
    run_timeout: float = Field(10, gt=0)
    memory_limit_MB: int = -1
    stdin: Optional[str] = None
    files: dict[str, Optional[str]] = {}   # path -> base64 content, written into the program's scratch
    fetch_files: list[str] = []            # paths read back after the run, base64, in the response's files


class VerifyRequest(BaseModel):
    """Samples in `ekt-curate verify`'s contract: each a record as a verify input line holds it."""

    model_config = ConfigDict(extra="forbid")

    samples: list[dict[str, Any]]
    score: Literal["all", "fraction"] = "all"
    passed: float = Field(1.0, allow_inf_nan=False)
    failed: float = Field(0.0, allow_inf_nan=False)


class OpenRLHFRequest(BaseModel):
    """What OpenRLHF's remote reward client posts (openrlhf/utils/remote_rm_utils.py)."""

    model_config = ConfigDict(extra="allow")

    query: list[str]
    prompts: Optional[list[str]] = None
    labels: Optional[list[Any]] = None
