"""HTTP request and response models (separate from the domain types in rag.types)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.interval import parse_interval
from rag.types import Filters

AnswererName = Literal["extractive", "llm"]


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: date | None = Field(None, description="Only sources published on/after this date.")
    until: date | None = Field(None, description="Only sources published on/before this date.")
    sources: list[str] | None = Field(None, description="Only these sources (path or URL).")
    doc_ids: list[str] | None = Field(None, description="Only these documents.")

    @model_validator(mode="after")
    def _ordered(self) -> FiltersIn:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self

    def to_filters(self) -> Filters:
        return Filters(
            since=self.since,
            until=self.until,
            sources=list(self.sources) if self.sources else None,
            doc_ids=list(self.doc_ids) if self.doc_ids else None,
        )


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, examples=["How much capacity comes online by 2026?"])
    filters: FiltersIn | None = None
    answerer: AnswererName | None = None


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    filters: FiltersIn | None = None
    answerer: AnswererName | None = None


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    """The one error shape, `{"error": {"code", "message"}}` (api/errors.py)."""

    error: ErrorDetail


class CitationOut(BaseModel):
    id: int
    doc_id: str
    title: str
    url: str | None
    published: str | None
    quote: str
    start: int
    end: int
    score: float


class AnswerOut(BaseModel):
    """The Answer contract of DESIGN.md (extra fields pass through)."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    short_answer: str | None
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]


class SearchHit(BaseModel):
    doc_id: str
    chunk_id: str
    title: str
    published: str | None
    url: str | None
    score: float
    text: str
    start: int
    end: int


class SearchResponse(BaseModel):
    results: list[SearchHit]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    url: str | None
    published: str | None
    source: str
    n_chunks: int
    n_sentences: int


class DocumentPage(BaseModel):
    documents: list[DocumentSummary]
    total: int
    offset: int
    limit: int


class DocumentOut(DocumentSummary):
    text: str = Field(..., description="The exact text that citation offsets index into.")
    content_hash: str


class RecordsIn(BaseModel):
    documents: list[dict[str, Any]] = Field(..., min_length=1)


class UrlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., pattern=r"^https?://\S+$", max_length=4000)


class IngestFailure(BaseModel):
    source: str
    error: str


class IngestSummaryOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    added: int
    updated: int
    unchanged: int
    removed: int
    documents: int
    chunks: int
    failed: list[IngestFailure]


class StatsOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    documents: int
    chunks: int
    sentences: int
    earliest: str | None
    latest: str | None
    watched_sources: int = Field(0, description="Sources in the registry (/v1/sources).")
    stalled_sources: int = Field(0, description="Watched sources failing too often in a row.")


# -- OpenAI-compatible chat completions -----------------------------------------------------


class OpenAIContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[OpenAIContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; sampling options are accepted and ignored (answers are cited spans).
    `n` other than 1 is refused (400): there is one cited answer per question."""

    model_config = ConfigDict(extra="allow")

    model: str = "newsdesk"
    messages: list[OpenAIMessage] = Field(..., min_length=1)
    stream: bool = False
    n: int | None = Field(None, description="Choices to return; only 1 is supported.")
    stream_options: StreamOptions | None = None


# -- watched sources and feedback ---------------------------------------------------------------


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        ...,
        pattern=r"^https?://\S+$",
        max_length=4000,
        description="An http(s) feed or page. Local folders: `newsdesk sources add PATH` on the "
        "server host (HTTP callers may not name server files).",
    )
    every: str | float | None = Field(
        None, description="Poll interval: 5s, 15m, 1h, 1d (default NEWSDESK_SOURCE_EVERY).",
        examples=["15m"],
    )  # fmt: skip
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

    @field_validator("every")
    @classmethod
    def _interval(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            parse_interval(value)
        return value


class SourceOut(BaseModel):
    """A source record (DESIGN.md "Sources"); times are ISO 8601 UTC."""

    model_config = ConfigDict(extra="allow")

    name: str
    url: str
    every_s: float
    last_success: str | None
    last_error: str | None
    next_run: str | None
    consecutive_failures: int
    stalled: bool
    documents: int


class PollerOut(BaseModel):
    holder: str
    term: int
    acquired_at: str | None
    expires_at: str | None
    expired: bool


class SourceList(BaseModel):
    sources: list[SourceOut]
    poller: PollerOut | None = Field(
        None, description="Which process polls (the lease holder), if any ever did."
    )


class SourceRunOut(BaseModel):
    source: SourceOut
    outcome: str = Field(..., description="200, 304, scanned (a local path) or error")
    error: str | None
    embedded: int = Field(..., description="Chunks and sentences embedded by this poll.")
    seconds: float
    summary: IngestSummaryOut | None


class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    doc_id: str = Field("", max_length=500)
    title: str = Field("", max_length=1000)
    url: str | None = Field(None, max_length=4000)
    published: str | None = Field(None, max_length=64)
    quote: str = Field("", max_length=4000)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=4000)
    answer: str = Field("", max_length=20000)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=50)
    verdict: Literal["up", "down"]
    comment: str = Field("", max_length=2000)
    abstained: bool = False


class FeedbackOut(BaseModel):
    id: str
    verdict: Literal["up", "down"]
