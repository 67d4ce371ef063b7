"""Does a quoted span support a claim? Lexical support with a hard check on figures and dates.

Hand-written: no library scores claim-vs-quote support offline without a model; we reuse the
stemmer/synonyms of the reader's lexicon (rag/reader/lexicon.json) and the quantity/date finders of rag.quantities/rag.dates.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from rag.dates import MONTHS, find_dates
from rag.quantities import Quantity, find_quantities
from rag.reader.lexicon import default_lexicon

SUPPORT_THRESHOLD = 0.5
FIGURE_PENALTY = 0.25  # per figure or date of the claim the span does not contain
VALUE_TOLERANCE = 0.01  # relative: "$4bn" supports "$4.0 billion", "4,000 MW" supports "4 GW"

_MARKER = r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]"
MARKER_GROUP_RE = re.compile(rf"{_MARKER}(?:\s*{_MARKER})*")
LEADING_MARKERS_RE = re.compile(rf"^\s*({_MARKER}(?:\s*{_MARKER})*)")
DIGITS_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
MONTH_RE = re.compile(
    r"\b(" + "|".join(m.capitalize() + "|" + m.capitalize()[:3] for m in MONTHS) + r")\b"
)
# Words a model uses to talk about its sources, not about the world.
META_STEMS = frozenset(
    "source sourc articl document report announc statement state note mention indic "
    "describ accord provid text passag".split()
)

# Sentences that talk to a model ("ignore previous instructions ...") are never evidence.
INSTRUCTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines)\b"
    r"|\byou are now\b|\bsystem prompt\b|\bas an ai\b",
    re.IGNORECASE | re.DOTALL,
)


def is_instruction(text: str) -> bool:
    """A prompt-injection attempt inside a source: citing it would let the source steer answers."""
    return bool(INSTRUCTION_RE.search(text))


def markers(text: str) -> list[int]:
    """The source numbers cited in `text`, in order, without repeats ("[1][2]", "[1, 2]")."""
    found: list[int] = []
    for group in MARKER_GROUP_RE.findall(text):
        for number in re.findall(r"\d+", group):
            if int(number) not in found:
                found.append(int(number))
    return found


def strip_markers(text: str) -> str:
    without = re.sub(rf"\s*{MARKER_GROUP_RE.pattern}", "", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", without).strip()


@lru_cache(maxsize=1)
def _segmenter() -> object:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences_with_markers(text: str) -> list[tuple[str, list[int]]]:
    """An answer's sentences (markers kept in the text) with the source numbers each cites.

    pysbd may leave a sentence's markers at the start of the next piece ("... 2026. [1] Next");
    they are moved back to the sentence they follow.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        for raw in _segmenter().segment(line):  # type: ignore[attr-defined]
            piece = str(raw).strip()
            lead = LEADING_MARKERS_RE.match(piece)
            if lead and pieces:
                pieces[-1] = f"{pieces[-1]} {lead.group(1).strip()}"
                piece = piece[lead.end() :].strip()
            if piece:
                pieces.append(piece)
    return [(piece, markers(piece)) for piece in pieces]


def _words(text: str) -> set[str]:
    return {
        s
        for s in default_lexicon().content_terms(text)
        if s.startswith("#") or not any(ch.isdigit() for ch in s) and s not in META_STEMS
    }


def _same_amount(claim: Quantity, span: list[Quantity]) -> bool:
    return any(
        q.kind == claim.kind
        and abs(q.value - claim.value) <= VALUE_TOLERANCE * max(abs(q.value), abs(claim.value))
        for q in span
    )


def _number_tokens(text: str) -> set[str]:
    return {token.replace(",", "").rstrip(".") for token in DIGITS_RE.findall(text)}


def missing_figures(claim: str, span: str, *, published: date | None = None) -> list[str]:
    """Figures, years and months of the claim that the span does not contain."""
    claim = strip_markers(claim)
    missing: list[str] = []
    span_quantities = find_quantities(span)
    covered: list[tuple[int, int]] = []
    for quantity in find_quantities(claim):
        covered.append((quantity.start, quantity.end))
        if not _same_amount(quantity, span_quantities):
            missing.append(quantity.text)
    # Relative dates in the span count by what they mean ("this year" published in 2026 = 2026).
    resolved = " ".join(m.resolved or "" for m in find_dates(span, published) if m.relative)
    span_numbers = _number_tokens(span) | _number_tokens(resolved)
    for match in DIGITS_RE.finditer(claim):
        if any(start <= match.start() < end for start, end in covered):
            continue
        if match.group(0).replace(",", "").rstrip(".") not in span_numbers:
            missing.append(match.group(0))
    span_months = {m.lower()[:3] for m in MONTH_RE.findall(span + " " + resolved)}
    missing.extend(m for m in MONTH_RE.findall(claim) if m.lower()[:3] not in span_months)
    return missing


def support_score(claim: str, span: str, *, published: date | None = None) -> float:
    """How well `span` supports `claim`, in [0, 1]: the share of the claim's content words
    (stemmed, synonyms merged) found in the span, cut hard for every figure or date the span
    lacks. `published` resolves the span's relative dates ("by the end of this year")."""
    claim = strip_markers(claim)
    claim_words = _words(claim)
    has_figures = bool(DIGITS_RE.search(claim) or MONTH_RE.search(claim))
    if not claim_words and not has_figures:
        return 0.0  # nothing checkable ("Yes.")
    coverage = len(claim_words & _words(span)) / len(claim_words) if claim_words else 1.0
    missing = missing_figures(claim, span, published=published)
    return float(coverage * FIGURE_PENALTY ** len(missing))


def is_supported(claim: str, span: str, *, published: date | None = None) -> bool:
    return support_score(claim, span, published=published) >= SUPPORT_THRESHOLD
