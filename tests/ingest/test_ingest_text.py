"""Decoding, normalization, sentence segmentation and dates: pure functions, no model."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.dates import date_in_text, parse_date
from ingest.errors import IngestError
from ingest.segment import build_chunks, sentence_spans
from ingest.text import decode_bytes, normalize_text

TRICKY = (
    "Acme Inc. said on Jan. 5 that revenue rose 4.5% to $4.5 billion. "
    "Dr. Smith of the U.S. Department of Energy agreed. "
    "The plant in St. Louis opens in 2026! Will it work? Yes.\n"
    "Key facts\n"
    "- Nearly 1 gigawatt by the end of 2026\n"
    "- Costs of $2.3 bn"
)


def test_sentences_respect_abbreviations_decimals_and_lines() -> None:
    sentences = [TRICKY[s:e] for s, e in sentence_spans(TRICKY)]
    assert sentences == [
        "Acme Inc. said on Jan. 5 that revenue rose 4.5% to $4.5 billion.",
        "Dr. Smith of the U.S. Department of Energy agreed.",
        "The plant in St. Louis opens in 2026!",
        "Will it work?",
        "Yes.",
        "Key facts",
        "- Nearly 1 gigawatt by the end of 2026",
        "- Costs of $2.3 bn",
    ]


@pytest.mark.parametrize("max_chars", [100, 150, 900])
def test_chunks_are_runs_of_whole_sentences_with_exact_offsets(max_chars: int) -> None:
    text = normalize_text("\n\n".join([TRICKY] * 6))
    chunks = build_chunks("doc", text, max_chars=max_chars)
    sentences = [s for chunk in chunks for s in chunk.sentences]
    assert [s.sentence_id for s in sentences] == [f"doc:s{i}" for i in range(len(sentences))]
    assert [c.chunk_id for c in chunks] == [f"doc:c{i}" for i in range(len(chunks))]
    assert len(sentences) == len(sentence_spans(text, max_chars=max_chars))
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= max_chars
        assert chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end
        for sentence in chunk.sentences:
            assert text[sentence.start : sentence.end] == sentence.text
            assert sentence.chunk_id == chunk.chunk_id
    # every non-space character belongs to exactly one sentence
    covered = "".join(text[s.start : s.end] for s in sentences)
    assert covered.replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces() -> None:
    text = " ".join(["word"] * 400)
    chunks = build_chunks("d", text, max_chars=200)
    assert all(len(c.text) <= 200 and text[c.start : c.end] == c.text for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 400


def test_normalization_keeps_paragraphs_and_unwraps_hard_wrapped_prose() -> None:
    raw = (
        "Acme Opens New Plant\r\nMarch 3, 2026\r\n\r\n\r\n"
        "Acme said the plant in St. Louis will deliver nearly 1 gigawatt by the\r\n"
        "end of 2026, and that the U.S. Department of Energy backs it with a\r\n"
        "loan.\u00a0 Cafe\u0301 owners\tcheered.\r\n\r\nKey facts\r\n- 400 jobs\r\n"
    )
    assert normalize_text(raw) == (
        "Acme Opens New Plant\nMarch 3, 2026\n\n"
        "Acme said the plant in St. Louis will deliver nearly 1 gigawatt by the "
        "end of 2026, and that the U.S. Department of Energy backs it with a "
        "loan. Café owners cheered.\n\nKey facts\n- 400 jobs"
    )


@pytest.mark.parametrize(
    "data",
    [
        "Café in São Paulo opens on Monday, prices in €.".encode("utf-16"),
        "Café in São Paulo opens on Monday, prices in €.".encode("utf-8-sig"),
        "Café in São Paulo opens on Monday, prices in €.".encode(),
    ],
)
def test_decoding_honours_boms_and_utf8(data: bytes) -> None:
    assert decode_bytes(data) == "Café in São Paulo opens on Monday, prices in €."


def test_decoding_latin1_and_truncated_utf8() -> None:
    latin = "Le café de la Société Générale à Zürich a été rénové en 2025. Très réussi."
    assert decode_bytes(latin.encode("latin-1")) == latin
    assert decode_bytes("Prix: 5 €".encode()[:-1]) == "Prix: 5 "
    cyrillic = "Компания открыла новый завод в Казани в 2025 году."
    assert decode_bytes(cyrillic.encode("cp1251")) == cyrillic


@pytest.mark.parametrize("data", [b"", b"  \n ", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50])
def test_decoding_refuses_empty_and_binary(data: bytes) -> None:
    with pytest.raises(IngestError):
        decode_bytes(data, name="x.txt")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04", date(2026, 3, 4)),
        ("2026-03-04T23:10:00Z", date(2026, 3, 4)),
        ("Tue, 03 Mar 2026 10:00:00 GMT", date(2026, 3, 3)),
        ("March 3, 2026", date(2026, 3, 3)),
        (date(2025, 1, 2), date(2025, 1, 2)),
        ("today", None),
        ("3 days ago", None),
        ("March 2026", None),
        ("not a date", None),
        (None, None),
    ],
)
def test_parse_date_never_invents(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


def test_date_in_text_reads_a_dateline_near_the_top_only() -> None:
    assert date_in_text("WASHINGTON, Sept. 12, 2025 -- Acme said") == date(2025, 9, 12)
    assert date_in_text("On 4 March 2026 the company said") == date(2026, 3, 4)
    assert date_in_text("Nothing dated here, today or tomorrow.") is None
    assert date_in_text("x " * 400 + "March 3, 2026") is None
