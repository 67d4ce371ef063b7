"""Sentences and chunks with exact character offsets into the normalized document text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from rag.reader.spans import find_spans
from rag.store_rows import sentence_id as make_sentence_id
from rag.types import Chunk, Sentence

_LINE = re.compile(r"[^\n]+")
# pysbd's time grows faster than a line's length (measured: 5,000 chars 0.04 s, 40,000 chars
# 1.0 s; a 3 MB line over 12 minutes), so longer lines are segmented in windows of this size.
LINE_WINDOW = 5000
_SENTENCE_END = re.compile(r"[.!?][\"')\]’”]*\s")
_CAMEL_START = re.compile(r"(?<=[a-zA-Z0-9][.!?])\s+(?=[a-z]+[A-Z]\w*\s)")


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    # clean=False keeps the text untouched so every sentence is a substring of the input.
    return pysbd.Segmenter(language="en", clean=False)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _line_spans(line: str) -> Iterator[tuple[int, int]]:
    """Sentence spans inside one line. pysbd gives the boundaries; we locate each piece
    ourselves so the spans are exact even if pysbd ever alters a piece."""
    cursor = 0
    starts = []
    for piece in _segmenter().segment(line):
        stripped = str(piece).strip()
        if not stripped:
            continue
        found = line.find(stripped, cursor)
        if found < 0:
            continue  # not located: its text stays inside the previous sentence
        starts.append(found)
        cursor = found + len(stripped)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    # pysbd keeps "... on X. xAI also ..." together: a sentence may open with a camel-case name.
    starts += [m.end() for m in _CAMEL_START.finditer(line)]
    bounds = sorted(set(starts)) + [len(line)]
    for begin, end in zip(bounds, bounds[1:]):
        begin, end = _trimmed(line, begin, end)
        if end > begin:
            yield begin, end


def _split_long(text: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    """A 'sentence' longer than a chunk (tables, run-on lists) is cut at whitespace."""
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        piece = _trimmed(text, start, cut)
        if piece[1] > piece[0]:
            yield piece
        start = _trimmed(text, cut, end)[0]
    if end > start:
        yield start, end


def line_windows(line: str, cap: int = LINE_WINDOW) -> Iterator[tuple[int, int]]:
    """(start, end) pieces of `line`, each at most `cap` long: cut after the last sentence end
    in the window's second half, else at its last space, else hard at `cap`."""
    start = 0
    while len(line) - start > cap:
        limit = start + cap
        ends = [m.end() for m in _SENTENCE_END.finditer(line, start + cap // 2, limit)]
        cut = ends[-1] if ends else line.rfind(" ", start + cap // 2, limit) + 1
        cut = cut if cut > start else limit
        yield start, cut
        start = cut
    yield start, len(line)


def sentence_spans(
    text: str, *, max_chars: int = 900, check: Callable[[], None] | None = None
) -> list[tuple[int, int]]:
    """(start, end) of every sentence; lines (headings, bullets) never share a sentence.
    `check` is called between bounded steps (it raises to stop: a time budget, Ctrl-C)."""
    spans: list[tuple[int, int]] = []
    for match in _LINE.finditer(text):
        line = match.group()
        for window_start, window_end in line_windows(line):
            if check is not None:
                check()
            offset = match.start() + window_start
            for begin, end in _line_spans(line[window_start:window_end]):
                spans.extend(_split_long(text, offset + begin, offset + end, max_chars))
    return spans


def build_chunks(
    doc_id: str, text: str, *, max_chars: int = 900, check: Callable[[], None] | None = None
) -> list[Chunk]:
    """Runs of whole sentences, each chunk at most `max_chars` long (from first start to last end)."""
    groups: list[list[tuple[int, int]]] = []
    for span in sentence_spans(text, max_chars=max_chars, check=check):
        if groups and span[1] - groups[-1][0][0] <= max_chars:
            groups[-1].append(span)
        else:
            groups.append([span])
    chunks: list[Chunk] = []
    number = 0
    for index, group in enumerate(groups):
        chunk_id = f"{doc_id}:c{index}"
        start, end = group[0][0], group[-1][1]
        chunk = Chunk(chunk_id, doc_id, index, start, end, text[start:end])
        for begin, finish in group:
            sentence_id = make_sentence_id(doc_id, number)
            body = text[begin:finish]
            chunk.sentences.append(
                Sentence(sentence_id, doc_id, chunk_id, begin, finish, body, find_spans(body))
            )
            number += 1
        chunks.append(chunk)
    return chunks
