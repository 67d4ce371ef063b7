"""`python -m bench.run [--only query,ingest,...] [--tiny]`: every section, ratios with PASS/FAIL.

A full run writes docs/benchmarks.md and docs/scaling.png; `--only` or `--tiny` runs write
under bench/out/ so the published table always comes from one complete run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from bench.common import OUT_DIR, REPO_ROOT, BenchConfig, BenchContext, machine, offline_env
from bench.report import console_text, write_markdown

SECTIONS = ("query", "ingest", "peer", "serve", "coldstart", "scale", "onnx")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--tiny", action="store_true", help="smallest sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    offline_env()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        return 2
    config = BenchConfig.from_env(tiny=args.tiny)
    complete = not args.only and not config.tiny
    docs = REPO_ROOT / "docs" if complete else OUT_DIR
    out = args.out or (docs / "benchmarks.md" if complete else OUT_DIR / "benchmarks-partial.md")
    import torch

    torch.set_num_threads(config.threads)
    ctx = BenchContext(config, figures_dir=docs)
    sections = []
    started = time.perf_counter()
    try:
        for name in wanted:
            module = importlib.import_module(f"bench.{name}")
            began = time.perf_counter()
            section = module.run(ctx)
            section.seconds = time.perf_counter() - began
            sections.append(section)
            print(console_text(section), flush=True)
            print(flush=True)
    finally:
        embedder_name = ctx.backend if ctx._embedder is not None else ""
        ctx.close()
    checks = [c for s in sections for c in s.checks]
    failed = [c for c in checks if not c.passed]
    print(f"== {len(checks) - len(failed)}/{len(checks)} targets pass "
          f"({time.perf_counter() - started:.0f} s in all)")  # fmt: skip
    for check in checks:
        print(check.line())
    facts = {**machine(), "embedder": embedder_name}
    command = " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    write_markdown(out, sections, facts, command=command)
    print(f"wrote {out}")
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
