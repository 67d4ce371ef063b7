"""Commands that write an embedded index's source registry, or poll into it, are second writers
while another process holds the data dir (api/writer_lock.py): they fail fast with exit 2."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import typer
from typer.testing import CliRunner

from api.cli_sources import register

HOLD = """
import sys, time
from pathlib import Path
from api.writer_lock import WriterLock
lock = WriterLock(Path(sys.argv[1]), role="serve", url="http://127.0.0.1:8123").acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_sources_commands_refuse_a_data_dir_another_process_writes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        app = typer.Typer()
        register(app)
        runner = CliRunner()
        started = time.monotonic()
        for args in (
            ["sources", "add", "https://feeds.example.org/a.xml", "--data-dir", str(data_dir)],
            ["sources", "remove", "a", "--data-dir", str(data_dir)],
            ["sources", "run", "--data-dir", str(data_dir)],
            ["watch", "--once", "--data-dir", str(data_dir)],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 2, (args, result.output)
            assert (
                "newsdesk serve" in result.output
                and "--server http://127.0.0.1:8123" in result.output
            )
        assert time.monotonic() - started < 30  # fails fast: no model is loaded first
    finally:
        holder.kill()
        holder.wait()
