"""`python -m eval.train`: build the reader's training examples, fit its models, write the
artifact (`make train`); `--cv K` instead reports K-fold cross-validated eval metrics, folds
grouped by document family, each fold's questions answered by the real answerer with a reader
trained without them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.aggregate import by_type, compute_metrics
from eval.fit import FitOptions, fit_reader, folds_of
from eval.runner import run_questions
from eval.trainset import Example, ExampleBuilder, SetSpec, build_examples, load_specs
from rag.config import Settings
from rag.reader.model import ReaderModel

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "rag" / "reader" / "model.json"
TARGETS = {  # the targets, for the printed table
    "answer.containment": (">=", 0.75),
    "answer.short_answer_match": (">=", 0.65),
    "abstention.recall": (">=", 0.75),
    "abstention.false_refusal_rate": ("<=", 0.10),
    "citations.precision": (">=", 0.92),
    "citations.quote_exactness": (">=", 1.0),
    "abstention.truthfulness": (">=", 0.45),
}


class ReaderTarget:
    """The eval runner's Target over one training store, answering with a given reader model."""

    def __init__(self, builder: ExampleBuilder, model: ReaderModel) -> None:
        from rag.answer_extractive import ExtractiveAnswerer
        from rag.reader.reader import ExtractiveReader

        self.builder = builder
        self.name = "reader"
        reader = ExtractiveReader(builder.store, model)
        self.answerer = ExtractiveAnswerer(
            pipeline=builder.pipeline, reader=reader, store=builder.store
        )
        self.results: dict[str, Any] = {}

    def ask(self, question: str) -> dict[str, Any]:
        return self.answerer.answer(question).to_dict()

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        retrieved = self.builder.pipeline.run(question)
        seen: dict[str, float] = {}
        for chunk in retrieved.chunks:
            seen.setdefault(chunk.doc_id, float(chunk.score))
        return list(seen.items())[:k]

    def document_text(self, doc_id: str) -> str | None:
        found = self.builder.store.get_document(doc_id)
        return found[1] if found else None


def cross_validate(
    examples: list[Example], builders: dict[str, ExampleBuilder], folds: int, seed: int,
    report_sets: Sequence[str], encoder_layers: int = FitOptions.encoder_layers,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Per reported set, the eval runner's records of every question, each answered by a
    reader trained on the other folds."""
    assignment = folds_of(examples, folds, seed)
    records: dict[str, list[dict[str, Any]]] = {name: [] for name in report_sets}
    for fold in range(folds):
        started = time.perf_counter()
        train = [e for e, f in zip(examples, assignment, strict=True) if f != fold]
        model = fit_reader(train, FitOptions(seed=seed, encoder_layers=encoder_layers))
        test = [
            e
            for e, f in zip(examples, assignment, strict=True)
            if f == fold and e.set_name in records
        ]
        targets: dict[int, ReaderTarget] = {}
        for example in test:
            builder = builders[example.corpus]
            target = targets.setdefault(id(builder), ReaderTarget(builder, model))
            records[example.set_name].extend(run_questions(target, [example.question]))
        print(f"fold {fold + 1}/{folds}: trained on {len(train)}, answered {len(test)} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip
    return records


def cv_reports(
    examples: list[Example], builders: dict[str, ExampleBuilder], specs: list[SetSpec],
    folds: int, seed: int, encoder_layers: int = FitOptions.encoder_layers,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per reported set, the eval report (metrics, by_type, questions) of a K-fold CV."""
    reported = [s.name for s in specs if s.report]
    records = cross_validate(examples, builders, folds, seed, reported, encoder_layers)
    reports = {}
    for name, rows in records.items():
        reports[name] = {
            "metrics": compute_metrics(rows),
            "by_type": by_type(rows),
            "questions": rows,
            "config": {
                "cv_folds": folds,
                "seed": seed,
                "grouped_by": "document family",
                "encoder_layers": encoder_layers,
                "trained_on": sorted({e.set_name for e in examples}),
            },  # fmt: skip
        }
    return reports


def cross_validated(
    set_path: Path, corpus: Path, folds: int, *, seed: int = 7, sets: Path | None = None
) -> dict[str, Any]:
    """`newsdesk eval --set S --corpus C --cv K`: S over C, K-fold cross-validated, the reader
    trained each time on the other folds of S and of the training sets (eval/train_sets.json)."""
    from rag.system import build_embedder

    settings = Settings()  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    specs = [s for s in load_specs(sets or ROOT / "eval" / "train_sets.json", ROOT)
             if s.questions != set_path.resolve()]  # fmt: skip
    for spec in specs:
        spec.report = False
    specs.append(SetSpec(name=set_path.stem, questions=set_path.resolve(), corpus=corpus.resolve()))
    examples, builders = build_examples(specs, settings, embedder, log=lambda m: None)
    return cv_reports(examples, builders, specs, folds, seed)[set_path.stem]


def cached_examples(
    cache: Path | None, specs: list[Any], settings: Settings, embedder: Any
) -> tuple[list[Example], dict[str, ExampleBuilder]]:
    """Examples from `cache` when it was built by the same reader code from the same sets."""
    import hashlib
    import pickle

    digest = hashlib.sha256()
    code = sorted((ROOT / "rag").rglob("*.py")) + sorted((ROOT / "rag" / "reader").glob("*.json"))
    for path in [*code, ROOT / "eval" / "trainset.py"]:
        if path.name != "model.json":
            digest.update(path.read_bytes())
    for spec in specs:
        digest.update(spec.questions.read_bytes())
    key = digest.hexdigest()

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    if cache is not None and cache.exists():
        stored_key, examples = pickle.loads(cache.read_bytes())
        if stored_key == key:
            from eval.trainset import corpus_store

            builders = {
                corpus: ExampleBuilder(
                    settings, corpus_store(settings, Path(corpus), embedder), embedder
                )
                for corpus in {e.corpus for e in examples}
            }
            log(f"{len(examples)} examples from {cache}")
            return examples, builders
    examples, built = build_examples(specs, settings, embedder, log=log)
    if cache is not None:
        cache.write_bytes(pickle.dumps((key, examples)))
    return examples, built


def summary_table(metrics: dict[str, Any], kinds: dict[str, dict[str, Any]]) -> str:
    lines = ["| metric | value | target |", "|---|---|---|"]
    for path, (op, bound) in TARGETS.items():
        section, key = path.split(".")
        value = metrics.get(section, {}).get(key)
        lines.append(f"| {path} | {_fmt(value)} | {op} {bound} |")
    lines.append(f"| summary.errors | {metrics['summary']['errors']} | 0 |")
    lines.append(f"| latency_ms.p50 | {_fmt(metrics.get('latency_ms', {}).get('p50'))} | |")
    lines += ["", "| type | questions | pass rate | short answer | abstained | truthfulness |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for kind, row in kinds.items():
        lines.append(f"| {kind} | {row['questions']} | {_fmt(row['pass_rate'])} | "
                     f"{_fmt(row['short_answer_match'])} | {_fmt(row['abstained_rate'])} | "
                     f"{_fmt(row['truthfulness'])} |")  # fmt: skip
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ROOT, check=False).stdout.strip()  # fmt: skip
    except OSError:
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train", description=__doc__)
    parser.add_argument("--sets", type=Path, default=ROOT / "eval" / "train_sets.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the artifact")
    parser.add_argument("--cv", type=int, default=0, help="report K-fold CV metrics instead")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report", type=Path, help="with --cv: write the CV reports here (JSON)")
    parser.add_argument("--cache", type=Path, help="keep built examples here between runs "
                        "(rebuilt when the reader's code or the sets change)")  # fmt: skip
    parser.add_argument("--draws", type=int, default=0,
                        help="retrain with this many seeds from --seed on and print each "
                        "artifact's gated metrics (eval/gates.json): the gates' retraining noise")  # fmt: skip
    parser.add_argument("--keep", type=Path,
                        help="with --draws: save each draw's artifact here (seed-N.json), e.g. "
                        "to score it on the capability families (tests/rag/reader_families.py)")  # fmt: skip
    parser.add_argument("--encoder-layers", type=int, default=FitOptions.encoder_layers,
                        help="top MiniLM layers of the reader's question encoder to tune "
                        "(0: read with the bundled model's question vector)")  # fmt: skip
    args = parser.parse_args(argv)
    from rag.system import build_embedder

    settings = Settings()  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    specs = load_specs(args.sets, ROOT)
    started = time.perf_counter()
    examples, builders = cached_examples(args.cache, specs, settings, embedder)
    print(f"{len(examples)} examples in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.cv:
        reports = cv_reports(examples, builders, specs, args.cv, args.seed, args.encoder_layers)
        for name, report in reports.items():
            print(f"\n## {name}: {args.cv}-fold CV, folds grouped by document family "
                  f"({len(report['questions'])} questions)\n")  # fmt: skip
            print(summary_table(report["metrics"], report["by_type"]))
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(reports, indent=1, default=str), encoding="utf-8")
        return 0
    if args.draws:
        from eval.draws import run

        seeds = range(args.seed, args.seed + args.draws)
        print(run(examples, seeds, ROOT, embedder, ROOT / "eval" / "gates.json", keep=args.keep))
        return 0
    model = fit_reader(examples, FitOptions(seed=args.seed, encoder_layers=args.encoder_layers))
    model.meta.update({
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": _git_head(),
        "sets": {s.name: sum(e.set_name == s.name for e in examples) for s in specs},
        "seed": args.seed,
    })  # fmt: skip
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB): thresholds {model.thresholds}",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
