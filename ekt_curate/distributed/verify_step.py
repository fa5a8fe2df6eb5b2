"""The verify stage as a datatrove step: ekt-curate's verify steps composed over documents.

    parse (ParseSamples) -> attach gold (AttachGold) -> judge (JudgeSamples: ekt_curate.judge's Judge)

Each document leaves with ``metadata["verdict"]`` (the verdict ``ekt-curate verify`` writes) or
``metadata["reject"]`` (why the line was not a sample); none is dropped, so a filter or writer
after it decides what to keep. One ``Sandbox`` per task, created and started in the task's own
thread when the stream starts (a zygote's parent-death signal follows the thread that made it)
and closed when the stream ends or is abandoned.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from ekt_curate.jsonl import dumps
from ekt_curate.stages.verify import VerifyConfig
from ekt_curate.steps.base import Item


class VerifySamples(PipelineStep):
    """Args:
        sandbox_workers: sandbox workers in each task (None: all cores of the machine)
        **settings: any of ``VerifyConfig``'s verify settings, with its defaults: ``problems``
            (gold by task id for records without one: gsm8k:train, gsm8k:test, a file), ``policy``,
            ``answer``, ``prelude`` (a file), ``rel_tol``, ``gold_precision``, ``checker``, ``fields``

    Documents from datatrove's readers: their ``text`` goes back into the record's program field
    (``fields.completion``) and their metadata are the other fields; a verdict's ``line`` is then
    the document's place in its task.
    """

    name = "ekt verify"
    type = "🔬 - VERIFY"

    def __init__(self, sandbox_workers: int | None = None, **settings: Any):
        from ekt_curate.sandbox import load_policy
        from ekt_curate.stages.verify import read_prelude  # the same reading and errors as verify

        super().__init__()
        if "prelude" in settings and settings["prelude"] is not None:
            settings["prelude"] = Path(settings["prelude"])
        # VerifyConfig checks the settings and holds their defaults (one place for them)
        self.config = VerifyConfig(input=Path("-"), workers=sandbox_workers, **settings)
        self.prelude_text = read_prelude(self.config.prelude)  # a bad path fails before any task starts
        load_policy(self.config.policy)  # likewise a bad policy: one line here, not a traceback in every rank
        # filled in when a task's stream ends; VerdictWriter puts them in the rank's .meta.json
        self.step_counts: dict[str, dict[str, Any]] = {}
        self.layers: dict[str, str] = {}
        self.gold_not_numeric_tasks = 0

    @classmethod
    def from_config(cls, config: VerifyConfig, sandbox_workers: int | None) -> "VerifySamples":
        return cls(sandbox_workers, problems=config.problems, answer=config.answer, prelude=config.prelude,
                   rel_tol=config.rel_tol, gold_precision=config.gold_precision, checker=config.checker,
                   policy=config.policy, fields=config.fields, compare=config.compare, all_cases=config.all_cases,
                   case_seconds=config.case_seconds)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from ekt_curate.sandbox import Sandbox
        from ekt_curate.stages.verify import build_steps, load_references

        if data is None:
            return
        config = self.config
        references = load_references(config)
        documents: OrderedDict[int, Document] = OrderedDict()  # item.line -> its document, until it is out
        steps: list = []
        judge = None
        try:
            with Sandbox(config.policy, workers=config.workers, prelude=self.prelude_text,
                         answer=config.answer) as sandbox:
                self.layers = dict(sandbox.layers)
                steps = build_steps(config, sandbox, references)  # verify's own steps, in its order
                judge = steps[-1]
                stream: Iterator[Item] = self._items(data, documents)
                for step in steps:
                    stream = step(stream)
                while True:
                    with self.track_time():  # time to each verdict: parse, sandbox, judge
                        item = next(stream, None)
                    if item is None:
                        break
                    while next(iter(documents)) < item.line:  # items leave in line order
                        documents.popitem(last=False)
                    yield self._document(item, documents[item.line])
        finally:
            if judge is not None:
                judge.close()
                self.gold_not_numeric_tasks = len(judge.gold_not_numeric)
            self._count_steps(steps)

    def _items(self, data: DocumentsPipeline, documents: dict[int, Document]) -> Iterator[Item]:
        for number, document in enumerate(data, 1):
            raw = document.metadata.get("raw")
            if isinstance(raw, bytes):  # from SampleLinesReader: the input exactly as verify reads it
                item = Item(int(document.metadata["line"]), raw)
            else:  # from a datatrove reader: rebuild the record
                record = {**document.metadata, self.config.fields.completion: document.text}
                item = Item(number, dumps(record).rstrip(b"\n"))
            documents[item.line] = document
            yield item

    def _document(self, item: Item, document: Document) -> Document:
        if item.choice is not None:  # one choice of a response with several: a document of its own
            document = Document(text=document.text, id=f"{document.id}#{item.choice}",
                                metadata={**document.metadata, "choice": item.choice})
        if item.reject:
            document.metadata["reject"] = item.reject
            self.stat_update("rejected", f"rejected: {item.reject.split(':')[0]}")
        else:
            assert item.verdict is not None
            document.metadata["verdict"] = item.verdict
            if "raw" in document.metadata:
                document.metadata["record"] = item.record  # for VerdictWriter: parsed once
                document.metadata["task_id"] = item.task_id
            self.stat_update("samples", f"status: {item.verdict['status']}")
        return document

    def _count_steps(self, steps: list) -> None:
        """Per-step counts, as verify's sidecar has them, into this task's datatrove stats too."""
        self.step_counts = {step.stats.name: {"seen": step.stats.seen, "dropped": dict(step.stats.dropped)}
                            for step in steps}
        for name, counts in self.step_counts.items():
            self.stat_update(f"step {name}: seen", value=counts["seen"], unit="task")
            for reason, count in counts["dropped"].items():
                self.stat_update(f"step {name}: dropped {reason}", value=count, unit="task")
