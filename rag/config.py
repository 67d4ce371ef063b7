"""The one Settings object (env prefix NEWSDESK_, `.env` supported); built at startup, passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.interval import parse_interval


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Path(".newsdesk")
    chroma_url: str | None = None  # http://host:port of a Chroma server; None = embedded
    collection_prefix: str = "newsdesk"

    # embedding
    embed_batch_size: int = Field(64, ge=1, le=4096)
    embed_threads: int = Field(0, ge=0)  # 0 = torch default
    # mixed: questions on ONNX Runtime, batches on torch (same weights); see rag/embedder.py
    embed_backend: Literal["mixed", "torch", "onnx", "onnx-int8"] = "mixed"
    onnx_cache_dir: Path | None = None  # where the ONNX export of the bundled model is kept

    # ingest
    chunk_max_chars: int = Field(900, ge=100)
    max_file_bytes: int = Field(20_000_000, ge=1)
    fetch_timeout_s: float = Field(10.0, gt=0)
    # seconds one document may spend in sentence splitting and embedding before it is
    # reported failed (the others go on); a press release needs well under one
    document_timeout_s: float = Field(120.0, gt=0)
    allow_private_urls: bool = False

    # watched sources (newsdesk watch, serve --watch)
    watch: bool = False  # `serve --watch`: run the source scheduler inside the server
    watch_tick_s: float = Field(1.0, gt=0, le=60)  # how often due sources are looked for
    watch_lease_s: float = Field(30.0, ge=1)  # a dead poller is replaced within this
    watch_workers: int = Field(4, ge=1, le=32)  # sources fetched at once (one slow one waits alone)
    source_every: str = "15m"  # default interval of `sources add`
    source_stall_after: int = Field(5, ge=1)  # consecutive failures that make a source stalled
    source_backoff_max_s: float = Field(3600.0, gt=0)  # longest wait after failures
    source_host_min_interval_s: float = Field(1.0, ge=0)  # never poll one host more often

    # operations
    log_format: Literal["text", "json"] = "text"

    # retrieval / answering
    answerer: Literal["extractive", "llm"] = "extractive"
    retriever: Literal["dense", "keyword", "hybrid"] = "hybrid"
    top_k: int = Field(10, ge=1, le=100)  # chunks retrieved; the reader reads their top documents
    abstain_threshold: float | None = Field(None, ge=0.0, le=1.0)  # None = the artifact's own
    reader_model: Path | None = None  # another trained reader artifact (`make train --out`)

    # LLM answerer (any OpenAI-compatible server)
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(2, ge=0)

    # HTTP API
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit: str = "120/minute"
    max_question_chars: int = Field(2000, ge=1)
    max_body_bytes: int = Field(5_000_000, ge=1)
    max_upload_files: int = Field(50, ge=1)

    @field_validator("api_keys", "admin_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("source_every")
    @classmethod
    def _interval(cls, value: str) -> str:
        parse_interval(value)  # refuse "15 minutes" at startup, not at the first `sources add`
        return value

    @field_validator("chroma_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"NEWSDESK_CHROMA_URL must be an http(s) URL, got {value!r}")
        return value or None
