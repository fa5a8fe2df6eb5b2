"""Write one rank's verdicts exactly as ``ekt-curate verify --shard RANK/N`` would.

Per rank: ``FOLDER/<output stem>.shard-RANK-of-N.jsonl``, its ``.rejects.jsonl`` and its
``.meta.json`` (a verify sidecar with ``shard: [RANK, N]``), so ``ekt-curate merge`` (or
``merge_ranks``) joins the ranks into the file a single-machine run writes. A rank that runs
again (it was killed: datatrove marks a rank complete only at its end) starts its files over.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from ekt_curate.distributed.ranks import rank_output
from ekt_curate.distributed.verify_step import VerifySamples
from ekt_curate.jsonl import LineWriter, dumps
from ekt_curate.provenance import meta_path, write_meta
from ekt_curate.stages.verify import settings_of


def rejects_of(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".jsonl") + ".rejects.jsonl")


class VerdictWriter(PipelineStep):
    """Args:
        folder: where the per-rank files go
        output: the merged file they are for (names the rank files)
        input: the samples file (recorded in the sidecars, as verify does)
        verify: the VerifySamples step before this one (its settings and step counts go in the sidecar)
    """

    name = "ekt verdicts (per rank)"
    type = "💽 - WRITER"

    def __init__(self, folder: str | Path, output: str | Path, input: str | Path, verify: VerifySamples):
        super().__init__()
        self.folder, self.output, self.input, self.verify = Path(folder), Path(output), Path(input), verify

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        output = rank_output(self.folder, self.output, rank, world_size)
        rejects = rejects_of(output)
        for path in (output, rejects, meta_path(output)):
            path.unlink(missing_ok=True)
        writer, reject_writer = LineWriter(output), LineWriter(rejects)
        statuses: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        tasks: set[str] = set()
        passed: set[str] = set()
        try:
            for document in data:
                meta = document.metadata
                line = self._verdict_line(meta) if "reject" not in meta else None
                if line is None:
                    reject_writer.write({"line": meta["line"],
                                         **({"choice": meta["choice"]} if meta.get("choice") is not None else {}),
                                         "reason": meta["reject"],
                                         "raw": meta["raw"].decode("utf-8", "replace")[:10000]})
                    reasons[meta["reject"].split(":")[0]] += 1
                else:
                    writer.write_line(line)
                    task_id = meta["task_id"]
                    statuses[str(meta["verdict"]["status"])] += 1
                    tasks.add(task_id)
                    if meta["verdict"]["passed"]:
                        passed.add(task_id)
                self.stat_update("written")
                yield document
        finally:
            writer.close()
            reject_writer.close()
        config = self.verify.config
        samples, rejected = sum(statuses.values()), sum(reasons.values())
        # the keys and values of verify's own sidecar (stages/verify.py), so merge accepts the ranks
        write_meta(output, "verify", {
            "complete": True, "lines": samples + rejected, "samples": samples, "rejected": rejected,
            "statuses": dict(sorted(statuses.items())), "tasks": len(tasks), "tasks_passed": len(passed),
            **settings_of(config), "shard": [rank, world_size],
            "gold_not_numeric_tasks": self.verify.gold_not_numeric_tasks,
            "sandbox_layers": self.verify.layers, "steps_this_run": self.verify.step_counts,
            "reject_reasons": dict(sorted(reasons.items())),
        }, upstream=self.input)

    @staticmethod
    def _verdict_line(meta: dict) -> bytes | None:
        """The record with its verdict as verify writes it; a record JSON cannot hold becomes the
        line's reject (as in stages/verify.py), so the line still ends in exactly one file."""
        record = meta["record"]
        record["verdict"] = meta["verdict"]
        try:
            return dumps(record)
        except (ValueError, RecursionError, TypeError) as exc:
            meta["reject"] = f"cannot write the record: {type(exc).__name__}: {str(exc)[:200]}"
            return None
