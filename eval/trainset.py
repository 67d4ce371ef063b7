"""Training examples for the reader: every question of the training sets run through the real
question pipeline and the reader's candidate and feature stages, with labels from the gold.

Stores are built once per corpus under `.newsdesk-train/` (incremental ingest, so a rerun embeds
nothing new). Labels use the eval runner's own matching (eval.metrics), so what the reader is
trained to pick is what the eval scores as right.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import normalize_answer, short_answer_matches
from eval.questions import EvalQuestion, load_set
from rag.config import Settings
from rag.pipeline import QuestionPipeline, Retrieved
from rag.reader.candidates import CandidateSet, DocumentSentenceGatherer
from rag.reader.features import FeatureBuilder
from rag.reader.lexicon import Lexicon, default_lexicon
from rag.reader.question import QuestionAnalysis, analyse
from rag.reader.spans import Span
from rag.store import ChromaStore
from rag.types import Embedder

TRAIN_DIR = Path(".newsdesk-train")


@dataclass
class SetSpec:
    name: str
    questions: Path
    corpus: Path
    annotations: Path | None = None
    optional: bool = False
    report: bool = True


@dataclass
class Example:
    """One question with its candidates, feature rows and labels."""

    set_name: str
    question: EvalQuestion
    record: dict[str, Any]
    analysis: QuestionAnalysis
    retrieved: Retrieved
    candidates: CandidateSet
    sentence_rows: np.ndarray
    sentence_labels: np.ndarray
    pairs: list[tuple[int, Span]]
    span_rows: np.ndarray
    span_labels: np.ndarray
    docs: set[str] = field(default_factory=set)  # corpus-qualified doc ids it is about
    group: int = -1  # document family (CV folds never split one)
    corpus: str = ""  # key of the ExampleBuilder (store) it was built with

    @property
    def answerable(self) -> bool:
        return self.question.answerable

    @property
    def yes_no(self) -> bool:
        return self.question.type == "yes_no"

    @property
    def computed(self) -> bool:
        return self.question.type == "multi_doc"


def load_specs(path: Path, root: Path) -> list[SetSpec]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    specs = []
    for item in data["sets"]:
        spec = SetSpec(
            name=item["name"],
            questions=(root / item["set"]).resolve(),
            corpus=(root / item["corpus"]).resolve(),
            annotations=(root / item["annotations"]).resolve() if item.get("annotations") else None,
            optional=bool(item.get("optional")),
            report=bool(item.get("report", True)),
        )
        if not spec.questions.exists() or not spec.corpus.exists():
            if spec.optional:
                continue
            raise FileNotFoundError(
                f"training set {spec.name}: {spec.questions} or {spec.corpus} missing"
            )
        specs.append(spec)
    return specs


def read_annotations(path: Path | None) -> dict[str, Any]:
    """COMPUTED and YES_NO_EVIDENCE literals of a validation script, read without running it."""
    found: dict[str, Any] = {}
    if path is None or not path.exists():
        return found
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("COMPUTED", "YES_NO_EVIDENCE"):
                found[target.id] = ast.literal_eval(node.value)
    return found


def corpus_store(settings: Settings, corpus: Path, embedder: Embedder) -> ChromaStore:
    """A store holding `corpus`, built once under .newsdesk-train and reused."""
    from ingest.pipeline import Ingestor

    key = hashlib.sha256(str(corpus).encode()).hexdigest()[:12]
    data_dir = TRAIN_DIR / f"{corpus.name}-{key}"
    local = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
    store = ChromaStore.from_settings(local, dimension=embedder.dimension)
    summary = Ingestor(local, store, embedder).ingest([corpus])
    if summary.failed:
        raise RuntimeError(f"ingest of {corpus} failed: {summary.failed[:3]}")
    return store


def _norm(text: str) -> str:
    return " ".join(normalize_answer(text).split())


class ExampleBuilder:
    """Runs questions through the pipeline and the feature stages of one store."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: Embedder) -> None:
        from rag.system import build_retriever

        self.lexicon: Lexicon = default_lexicon()
        self.store = store
        self.pipeline = QuestionPipeline(
            embedder=embedder, retriever=build_retriever(settings, store), top_k=settings.top_k
        )
        self.gatherer = DocumentSentenceGatherer(store, self.lexicon)
        self.features = FeatureBuilder(self.lexicon, store)

    def example(
        self, spec_name: str, question: EvalQuestion, record: dict[str, Any], notes: dict[str, Any]
    ) -> Example:
        retrieved = self.pipeline.run(question.question)
        q = analyse(retrieved.standalone, self.lexicon)
        c = self.gatherer.gather(retrieved.chunks, retrieved.vector)
        rows = self.features.sentence_features(q, c)
        pairs, span_rows = self.features.span_features(q, c, rows)
        span_labels = np.zeros(len(pairs), dtype=np.int8)
        golds = list(question.answers)
        if question.type == "multi_doc":
            figures = record.get("figures") or [
                {"doc_id": d, "figure": f}
                for d, f, *_ in notes.get("COMPUTED", {}).get(question.id, {}).get("figures", [])
            ]
            golds = [f["figure"] for f in figures]
        if question.answerable and question.type != "yes_no":
            kind = "number" if question.type == "multi_doc" else question.type
            for k, (i, span) in enumerate(pairs):
                surface = span.text_of(c.sentences[i].sentence.text)
                span_labels[k] = short_answer_matches(golds, surface, kind)
        sentence_labels = np.zeros(len(c.sentences), dtype=np.int8)
        for k, (i, _) in enumerate(pairs):
            if span_labels[k]:
                sentence_labels[i] = 1
        evidence = (
            record.get("evidence")
            or (notes.get("YES_NO_EVIDENCE", {}).get(question.id) or (None, None))[1]
        )
        if question.type == "yes_no" and evidence:
            wanted = _norm(evidence)
            for i, cand in enumerate(c.sentences):
                if wanted and wanted in _norm(cand.sentence.text):
                    sentence_labels[i] = 1
        docs = set(question.doc_ids) | set(record.get("near_doc_ids") or [])
        return Example(
            set_name=spec_name, question=question, record=record, analysis=q, retrieved=retrieved,
            candidates=c, sentence_rows=rows, sentence_labels=sentence_labels, pairs=pairs,
            span_rows=span_rows, span_labels=span_labels, docs=docs,
        )  # fmt: skip


def raw_records(path: Path) -> dict[str, dict[str, Any]]:
    records = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            records[item["id"]] = item
    return records


def build_examples(
    specs: list[SetSpec], settings: Settings, embedder: Embedder, *, log: Any = print
) -> tuple[list[Example], dict[str, ExampleBuilder]]:
    builders: dict[str, ExampleBuilder] = {}
    examples: list[Example] = []
    for spec in specs:
        key = str(spec.corpus)
        if key not in builders:
            builders[key] = ExampleBuilder(
                settings, corpus_store(settings, spec.corpus, embedder), embedder
            )
        builder = builders[key]
        notes = read_annotations(spec.annotations)
        records = raw_records(spec.questions)
        questions = load_set(spec.questions)
        for question in questions:
            example = builder.example(spec.name, question, records[question.id], notes)
            example.corpus = key
            examples.append(example)
        log(f"{spec.name}: {len(questions)} questions over {spec.corpus}")
    assign_groups(examples)
    return examples, builders


def assign_groups(examples: list[Example], *, similar: float = 0.9) -> None:
    """Document families: documents cited together by a question, or near-duplicates by their
    centroid vectors, end in one family; a question belongs to the family of its documents (an
    unanswerable one without named documents to that of its best retrieved document)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for example in examples:
        docs = {f"{example.corpus}:{d}" for d in example.docs}
        if not docs and example.candidates.docs:
            docs = {f"{example.corpus}:{example.candidates.docs[0].info.doc_id}"}
        example.docs = docs
        ordered = sorted(docs)
        for a, b in zip(ordered, ordered[1:]):
            union(a, b)
        for doc in ordered:
            find(doc)
    roots = {root: n for n, root in enumerate(sorted({find(d) for d in parent}))}
    for example in examples:
        first = (
            sorted(example.docs)[0] if example.docs else f"{example.corpus}:{example.question.id}"
        )
        example.group = roots.get(find(first), len(roots))
