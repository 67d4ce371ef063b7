"""Shared pieces of the benchmarks: configuration, timing statistics, checks, fresh indexes."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "bench" / "out"
SAMPLE_CORPUS = REPO_ROOT / "examples" / "announcements"
EVAL_SET = REPO_ROOT / "eval" / "sets" / "announcements.jsonl"


def offline_env() -> None:
    """Nothing may reach a hub; both cores for the model (the machine has two)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")


@dataclass
class BenchConfig:
    """Sizes of every section; `tiny()` is the smoke-test configuration."""

    tiny: bool = False
    threads: int = 2
    questions: int = 120  # query section: varied questions, each asked once (plus warm-up)
    warmup: int = 10
    repeats: int = 2  # ingest / floor repeats, the best one counts
    serve_requests_1: int = 60  # requests at 1 client
    serve_requests_16: int = 192  # requests at 16 clients
    serve_clients: int = 16
    serve_workers: Sequence[int] = (1, 2)
    cold_repeats: int = 3
    scale_sizes: Sequence[int] = (1000, 5000, 20000)
    scale_questions: int = 100
    rss_requests: int = 40  # answers served before reading the server's peak RSS
    peer_questions: int = 0  # 0 = the whole eval set
    onnx_eval: bool = True  # run the shipped eval with each backend (takes ~1 min each)
    peer_sets: Sequence[str] = ("announcements", "holdout")
    corpus_files: int = 0  # 0 = the whole sample corpus; else its n smallest files
    onnx_texts: int = 0  # 0 = every embedded text of the sample corpus

    @classmethod
    def from_env(cls, *, tiny: bool = False) -> BenchConfig:
        config = cls.tiny_config() if tiny or os.environ.get("BENCH_TINY") == "1" else cls()
        sizes = os.environ.get("BENCH_SCALE_SIZES")
        if sizes:
            config.scale_sizes = tuple(int(s) for s in sizes.split(",") if s.strip())
        for name in ("questions", "serve_requests_1", "serve_requests_16", "scale_questions"):
            value = os.environ.get(f"BENCH_{name.upper()}")
            if value:
                setattr(config, name, int(value))
        return config

    @classmethod
    def tiny_config(cls) -> BenchConfig:
        return cls(
            tiny=True,
            questions=12,
            warmup=2,
            repeats=1,
            serve_requests_1=6,
            serve_requests_16=16,
            serve_clients=4,
            serve_workers=(1,),
            cold_repeats=1,
            scale_sizes=(10, 20),
            scale_questions=10,
            rss_requests=6,
            peer_questions=12,
            onnx_eval=False,
            peer_sets=("announcements",),
            corpus_files=3,
            onnx_texts=40,
        )


# -- statistics ------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, never an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return float(ordered[rank - 1])


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


# -- results ---------------------------------------------------------------------------


@dataclass
class Check:
    """A ratio (or bound) against its target; `passed` is decided here, printed everywhere."""

    name: str
    value: float
    target: float
    unit: str = "x"
    higher_is_better: bool = False
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def line(self) -> str:
        op = ">=" if self.higher_is_better else "<="
        verdict = "PASS" if self.passed else "FAIL"
        note = f"  ({self.note})" if self.note else ""
        return f"{verdict}  {self.name}: {self.value:.3g}{self.unit} (target {op} {self.target:g}{self.unit}){note}"


@dataclass
class Section:
    """One benchmark's outcome: a table of measurements, checks, and free-form notes."""

    name: str
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


# -- fresh indexes -----------------------------------------------------------------------


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder under bench/out/ (the same disk as a real data dir), removed after."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=OUT_DIR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_settings(data_dir: Path, **overrides: Any) -> Any:
    from rag.config import Settings

    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]


def load_embedder(threads: int = 2) -> Any:
    """The embedder the product builds from Settings (NEWSDESK_EMBED_BACKEND picks another)."""
    from rag.embedder import embedder_for

    settings = make_settings(OUT_DIR)
    embedder = embedder_for(
        settings.embed_backend,
        batch_size=settings.embed_batch_size,
        threads=threads,
        cache_dir=settings.onnx_cache_dir,
    )
    embedder.warm_up()
    return embedder


def torch_embedder(embedder: Any, threads: int = 2) -> Any:
    """The sentence-transformers (torch) embedder inside `embedder`, or a new one."""
    from rag.embedder import SentenceTransformerEmbedder

    inner = getattr(embedder, "batches", embedder)
    if not isinstance(inner, SentenceTransformerEmbedder):
        inner = SentenceTransformerEmbedder(threads=threads)
    inner.warm_up()
    return inner


class RecordingEmbedder:
    """Passes texts through to the real embedder and keeps them: the floor encodes exactly these."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> Any:
        self.texts.extend(texts)
        return self.inner.embed(texts, show_progress=show_progress)


def ingest_into(data_dir: Path, sources: Sequence[Path], embedder: Any) -> tuple[float, Any]:
    """(seconds, IngestSummary) of an in-process ingest into `data_dir`, store opening included."""
    from ingest.pipeline import Ingestor
    from rag.store import ChromaStore

    started = time.perf_counter()
    settings = make_settings(data_dir)
    store = ChromaStore.from_settings(settings, dimension=embedder.dimension)
    summary = Ingestor(settings, store, embedder).ingest([str(s) for s in sources])
    return time.perf_counter() - started, summary


def floor_query(newsdesk: Any, question: str) -> Any:
    """The query floor: embed one question, one Chroma top-k query over the chunks."""
    vector = newsdesk.embedder.embed([question])[0]
    return newsdesk.store.query_chunks(vector, k=newsdesk.settings.top_k)


# -- questions -------------------------------------------------------------------------


def eval_questions(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def varied_questions(newsdesk: Any, n: int) -> list[str]:
    """The eval set's questions, then questions about each indexed title, cycled to n."""
    asked = [q["question"] for q in eval_questions()]
    titles = [info.title for info in newsdesk.store.all_document_infos() if info.title]
    templates = (
        "What did {t} announce?",
        "When was '{t}' published?",
        "How much money is involved in {t}?",
        "Who is behind {t}?",
    )
    for template in templates:
        asked.extend(template.format(t=title) for title in titles)
    unique = list(dict.fromkeys(asked))
    return [unique[i % len(unique)] for i in range(n)] if unique else []


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "ram_gib": round(mem_gib, 1)}


class BenchContext:
    """What sections share within one run: the loaded model and an index of the sample corpus."""

    def __init__(self, config: BenchConfig, *, figures_dir: Path = OUT_DIR) -> None:
        self.config = config
        self.figures_dir = figures_dir
        self._embedder: Any = None
        self._sample_dir: Path | None = None
        self._corpus_dir: Path | None = None
        self._cleanup: list[Path] = []

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = load_embedder(self.config.threads)
        return self._embedder

    @property
    def torch_embedder(self) -> Any:
        """sentence-transformers on torch: the model's own `encode` (the ingest floor)."""
        return torch_embedder(self.embedder, self.config.threads)

    @property
    def backend(self) -> str:
        return type(self.embedder).__name__

    def corpus(self) -> Path:
        """The sample corpus, or a copy of its few smallest files (tiny runs)."""
        if not self.config.corpus_files:
            return SAMPLE_CORPUS
        if self._corpus_dir is None:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="corpus-", dir=OUT_DIR))
            self._cleanup.append(path)
            files = sorted(
                (
                    f
                    for f in SAMPLE_CORPUS.iterdir()
                    if f.is_file() and not f.name.startswith("README")
                ),
                key=lambda f: f.stat().st_size,
            )
            for file in files[: self.config.corpus_files]:
                shutil.copy2(file, path / file.name)
            self._corpus_dir = path
        return self._corpus_dir

    def sample_index(self) -> Path:
        """A data dir holding the sample corpus (ingested once per run)."""
        if self._sample_dir is None:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="sample-", dir=OUT_DIR))
            self._cleanup.append(path)
            ingest_into(path, [self.corpus()], self.embedder)
            self._sample_dir = path
        return self._sample_dir

    def newsdesk(self, data_dir: Path, **overrides: Any) -> Any:
        from rag.system import build_newsdesk

        newsdesk = build_newsdesk(make_settings(data_dir, **overrides), embedder=self.embedder)
        newsdesk.refresh()
        return newsdesk

    @staticmethod
    def machine_cores() -> int:
        return len(os.sched_getaffinity(0))

    def close(self) -> None:
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)
        self._cleanup.clear()
        self._sample_dir = self._corpus_dir = None
