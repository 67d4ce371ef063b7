"""TokenCounter: token counts with the tokenizer of the bundled embedding model (MiniLM's
WordPiece, read from the package's tokenizer.json with `tokenizers`), e.g. for the `usage`
an OpenAI-compatible client expects. Nothing is downloaded; loading happens in warm_up()."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TokenCounter:
    def __init__(self, model_path: str | None = None) -> None:
        self.model_path = model_path
        self._tokenizer: Any = None

    def warm_up(self) -> None:
        if self._tokenizer is not None:
            return
        from tokenizers import Tokenizer

        from rag.embedder import bundled_model_path

        path = Path(self.model_path or bundled_model_path()) / "tokenizer.json"
        tokenizer = Tokenizer.from_file(str(path))
        # The file is set up for embedding (cut at 128 tokens, padded); counting wants neither.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def count(self, text: str) -> int:
        """Tokens in `text`, without the [CLS]/[SEP] an embedding adds."""
        if not text:
            return 0
        self.warm_up()
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
