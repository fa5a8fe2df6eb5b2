"""The program in a chat reply: prose and a fenced block, maybe after a reasoning block.

A reasoning model thinks in ``<think>...</think>`` before it answers; code drafted there is
not its answer, so the block goes first. Some chat templates open the block inside the prompt,
and the reply then holds only its end: everything up to the last ``</think>`` goes. A reply
cut while still thinking has no program. What is left goes to the verifier's own extraction
(``extract_program``: the fenced Python block, prose around it dropped), so a chat sample's
program is read exactly as a completion's would be.
"""

from __future__ import annotations

import re

from ekt_curate.sandbox.program_text import extract_program

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


def program_from_reply(reply: str) -> str:
    text = _THINK.sub("", reply)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        text = text.split("<think>", 1)[0]
    text = text.strip()
    return extract_program(text).strip("\n") + "\n" if text else ""
