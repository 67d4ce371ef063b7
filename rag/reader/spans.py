"""Typed spans of a sentence: amounts, percentages, counts, dates, periods and names.

Found once per sentence at ingest and stored with the sentence record; a query only scores
them. Hand-written on top of rag.quantities and rag.dates: no offline library finds money with
scale words ("$4bn"), ranges, quarters and capitalised names together with exact offsets fast
enough to run over every sentence (quantulum3 misses scale words; spaCy's NER models can't be
installed offline).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rag.dates import MONTHS, find_dates
from rag.quantities import find_quantities
from rag.reader.lexicon import default_lexicon


def _fingerprint() -> str:
    """Spans stored by another version of the span finder are found again when read: the
    version is a hash of the code and data that find them."""
    import hashlib
    from pathlib import Path

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in (here / "spans.py", here / "lexicon.json", here.parent / "quantities.py",
                 here.parent / "dates.py"):  # fmt: skip
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


SPANS_VERSION = _fingerprint()
QUANTITY_KINDS = {"currency": "money", "percent": "percent", "power": "power",
                  "energy": "energy", "data": "data", "count": "count"}  # fmt: skip
AMOUNT_KINDS = frozenset(
    {"money", "percent", "power", "energy", "data", "count", "number", "duration"}
)
TIME_KINDS = frozenset({"date", "year"})
KINDS = ("money", "percent", "power", "energy", "data", "count", "number", "duration", "date",
         "year", "name")  # fmt: skip
DURATION_UNITS = {"year": 12.0, "month": 1.0, "week": 12 / 52, "day": 12 / 365, "hour": 12 / 8760,
                  "quarter": 3.0, "decade": 120.0}  # fmt: skip
SMALL_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
                 "eighteen": 18, "twenty": 20, "thirty": 30, "half a": 0.5, "a": 1}  # fmt: skip
DURATION_RE = re.compile(
    r"(?<![\w.,])(?:(?:up to|about|nearly|almost|more than|over|some|around|roughly|at least)\s+)?"
    r"(?P<num>\d+(?:\.\d+)?|" + "|".join(sorted(SMALL_NUMBERS, key=len, reverse=True)) + r")"
    r"[\s-](?P<unit>year|month|week|day|hour|quarter|decade)s?\b(?![\s-](?:old|ago))",
    re.IGNORECASE,
)

_MONTH = r"(?:" + "|".join(m.capitalize() + "|" + m.capitalize()[:3] + r"\.?" for m in MONTHS) + ")"
MONTH_DAY_RE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\s+{_MONTH})\b(?!,?\s+\d)"
)
MONTH_ONLY_RE = re.compile(r"\b(?:" + "|".join(m.capitalize() for m in MONTHS) + r")\b(?![\s,]*\d)")
# "May" alone is a month only after one of these ("in May", "by early May"), else the verb
MONTH_LEAD_RE = re.compile(
    r"\b(?:in|by|since|until|from|through|during|before|after|early|late|mid|last|next|this|"
    r"of|and|or|to)[\s-]+$",
    re.IGNORECASE,
)
FISCAL_RE = re.compile(r"\b(?:fiscal(?:\s+year)?\s+|FY\s?)(?:19|20)?\d\d\b", re.IGNORECASE)
YEAR_RE = re.compile(r"(?<![\w.,$€£-])(?:19|20)\d\d(?![\w%.,]\d|\s?(?:%|percent))")
BARE_NUMBER_RE = re.compile(r"(?<![\w.,$€£])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w%])")
RANGE_JOIN_RE = re.compile(r"^\s*(?:-|–|—|to|and)\s*$")
LEADING_PREPOSITION_RE = re.compile(
    r"^(?:in|by|since|from|until|through|during|before|after|on)\s+", re.IGNORECASE
)
_UP = "A-ZÀ-ÖØ-Þ"
_AL = "a-zA-Z0-9À-ÖØ-öø-ÿ"
NAME_RE = re.compile(
    rf"(?:[{_UP}][{_AL}&'’.-]*[{_AL}]|[a-z]+[A-Z][{_AL}]*|[{_UP}]\.?)"
    rf"(?:(?:\s|-)(?:[{_UP}][{_AL}&'’.-]*[{_AL}.]?|[a-z]+[A-Z][{_AL}]*|of|de|del|la|and|&|\d+[A-Za-z]?)(?=[\s,.;:?!)'’\"-]|$))*"
)
NAME_LEAD_DROP = frozenset(
    "the a an in on at by for from to of and but as with after before while when if this that "
    "these those its it their our we he she they his her".split()
)
NAME_TAIL_DROP = frozenset("of de del la and &".split())


@dataclass(frozen=True)
class Span:
    """A typed span of a sentence; offsets are relative to the sentence text."""

    start: int
    end: int
    kind: str  # one of KINDS
    value: float | str  # base-unit amount, ISO-like date ("2025-07", "2025-Q3"), or name key
    unit: str = ""  # "USD", "%", "W", counted noun; for names "" ; for dates the precision
    approx: str = ""  # "up to", "about", ... written before an amount

    def text_of(self, sentence: str) -> str:
        return sentence[self.start : self.end]

    def to_row(self) -> list[Any]:
        return [self.start, self.end, self.kind, self.value, self.unit, self.approx]

    @classmethod
    def from_row(cls, row: list[Any]) -> Span:
        start, end, kind, value, unit, approx = row
        return cls(int(start), int(end), str(kind), value, str(unit), str(approx))


def dump_spans(spans: list[Span]) -> str:
    return json.dumps([s.to_row() for s in spans], separators=(",", ":"))


def load_spans(raw: str) -> list[Span]:
    return [Span.from_row(row) for row in json.loads(raw)]


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


NAMED_NUMBER_RE = re.compile(r"(?:[A-Z][\w]*[\s-]|-)$")  # "STRIDE 2", "Forge-1", "Batch 18"


def _durations(text: str) -> list[Span]:
    found = []
    for match in DURATION_RE.finditer(text):
        raw = match.group("num").lower()
        number = SMALL_NUMBERS.get(raw)
        value = float(number) if number is not None else float(raw)
        if number is not None and raw in ("a", "half a") and match.start("num") == match.start():
            continue  # "a year" alone is a period of time, not a stated duration
        months = value * DURATION_UNITS[match.group("unit").lower()]
        approx = match.group(0)[: match.start("num") - match.start()].strip().lower()
        found.append(Span(match.start(), match.end(), "duration", months, "months", approx))
    return found


def _amounts(text: str) -> list[Span]:
    durations = _durations(text)
    taken = [(s.start, s.end) for s in durations]
    found: list[Span] = list(durations)
    for quantity in find_quantities(text):
        if _overlaps(quantity.start, quantity.end, taken):
            continue
        kind = QUANTITY_KINDS.get(quantity.kind)
        if kind is None:
            continue
        if kind == "count" and NAMED_NUMBER_RE.search(
            text[max(0, quantity.start - 30) : quantity.start]
        ):
            continue  # the number is part of a name, not a count of what follows
        unit = quantity.unit if kind != "count" else quantity.unit.lower()
        found.append(
            Span(quantity.start, quantity.end, kind, float(quantity.value), unit, quantity.approx)
        )
    # ranges: "$1,822 - $1,832 million", "40% to 45%" also count as one span
    ranges: list[Span] = []
    for left, right in zip(found, found[1:]):
        same = left.kind == right.kind and (left.kind != "count" or left.unit == right.unit)
        if same and RANGE_JOIN_RE.match(text[left.end : right.start]):
            ranges.append(Span(left.start, right.end, left.kind, right.value, right.unit, "range"))
    return found + ranges


def _dates(text: str) -> list[Span]:
    found: list[Span] = []
    for mention in find_dates(text):
        start = mention.start
        lead = LEADING_PREPOSITION_RE.match(mention.text)
        if lead:
            start += lead.end()
        precision = "relative" if mention.relative else "explicit"
        key = str(mention.year) if mention.year else mention.text.lower()
        found.append(Span(start, mention.end, "date", key, precision))
    taken = [(s.start, s.end) for s in found]
    for pattern, precision in (
        (MONTH_DAY_RE, "day"), (FISCAL_RE, "fiscal"), (MONTH_ONLY_RE, "month")
    ):  # fmt: skip
        for match in pattern.finditer(text):
            if _overlaps(match.start(), match.end(), taken):
                continue
            if match.group(0) == "May" and not MONTH_LEAD_RE.search(text[: match.start()]):
                continue
            found.append(
                Span(match.start(), match.end(), "date", match.group(0).lower(), precision)
            )
            taken.append((match.start(), match.end()))
    return found


def _years(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    return [
        Span(m.start(), m.end(), "year", m.group(0), "year")
        for m in YEAR_RE.finditer(text)
        if not _overlaps(m.start(), m.end(), taken)
    ]


def _bare_numbers(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    found = []
    for match in BARE_NUMBER_RE.finditer(text):
        if _overlaps(match.start(), match.end(), taken):
            continue
        raw = match.group(0)
        if re.fullmatch(r"(?:19|20)\d\d", raw):
            continue
        found.append(Span(match.start(), match.end(), "number", float(raw.replace(",", ""))))
    return found


def name_phrases(text: str) -> list[tuple[int, int, str]]:
    """Capitalised phrases as written, without the "of" tails find_names adds."""
    return _name_phrases(text)


def find_names(text: str) -> list[tuple[int, int, str]]:
    """Capitalised phrases (companies, people, places, products) with exact offsets; a phrase
    "X of Y" also gives "Y" ("Chief Executive of Acme" -> "Acme", "Port of Tarvo" stays)."""
    found = []
    for start, end, phrase in _name_phrases(text):
        found.append((start, end, phrase))
        cut = phrase.find(" of ")
        if cut > 0:
            tail = start + cut + 4
            found.append((tail, end, text[tail:end]))
    return found


POSSESSIVE_RE = re.compile(r"['’]s\b")
PERIOD_TOKEN_RE = re.compile(r"^(?:Q[1-4]|H[12]|FY\d*|(?:19|20)\d\d)$")


def _pieces(match: re.Match[str]) -> list[tuple[int, str]]:
    """A capitalised run cut at possessives and around periods: "Korva's Q3 2024 EV" ->
    "Korva", "EV"."""
    pieces: list[tuple[int, str]] = []
    current: list[tuple[int, str]] = []
    for word in re.finditer(r"\S+", match.group(0)):
        token, at = word.group(0), match.start() + word.start()
        possessive = POSSESSIVE_RE.search(token)
        if PERIOD_TOKEN_RE.match(token):
            pieces.append(_joined(current))
            current = []
            continue
        if possessive:
            current.append((at, token[: possessive.start()]))
            pieces.append(_joined(current))
            current = []
            continue
        current.append((at, token))
    pieces.append(_joined(current))
    return [p for p in pieces if p[1]]


def _joined(words: list[tuple[int, str]]) -> tuple[int, str]:
    return (words[0][0], " ".join(w for _, w in words)) if words else (0, "")


def _name_phrases(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in NAME_RE.finditer(text):
        for start, piece in _pieces(match):
            found.extend(_clean_phrase(start, piece))
    return found


def _clean_phrase(start: int, piece: str) -> list[tuple[int, int, str]]:
    """Leading function words and trailing joiners or periods dropped; nothing if no name is left."""
    words = piece.split(" ")
    while words and words[0].lower() in NAME_LEAD_DROP:
        start += len(words[0]) + 1
        words = words[1:]
    while words and (words[-1].lower() in NAME_TAIL_DROP or PERIOD_TOKEN_RE.match(words[-1])):
        words = words[:-1]
    phrase = " ".join(words).rstrip(".'’-")
    if phrase and any(ch.isalpha() for ch in phrase) and not PERIOD_TOKEN_RE.match(phrase):
        return [(start, start + len(phrase), phrase)]
    return []


def _names(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    lexicon = default_lexicon()
    generic = lexicon.generic_names | lexicon.person_titles
    spans = []
    for start, end, phrase in find_names(text):
        if _overlaps(start, end, taken):
            # a name may hold a date or figure ("Batch 18", "Forge-1"): keep it when the
            # overlap is a bare number only
            inner = [(s, e) for s, e in taken if s < end and start < e]
            if any(not text[s:e].replace(",", "").replace(".", "").isdigit() for s, e in inner):
                continue
        lowered = phrase.lower().rstrip(".")
        if lowered in MONTHS or lowered in {m[:3] for m in MONTHS} or lowered in generic:
            continue
        spans.append(Span(start, end, "name", phrase.lower(), ""))
    return spans


def find_spans(text: str) -> list[Span]:
    """Every typed span of `text`, ordered by position."""
    amounts = _amounts(text)
    dates = _dates(text)
    taken = [(s.start, s.end) for s in amounts + dates]
    years = _years(text, taken)
    taken += [(s.start, s.end) for s in years]
    numbers = _bare_numbers(text, taken)
    taken += [(s.start, s.end) for s in numbers]
    names = _names(text, [(s.start, s.end) for s in amounts + dates + years])
    return sorted(amounts + dates + years + numbers + names, key=lambda s: (s.start, -s.end))


QUARTER_RE = re.compile(
    r"\b(?:Q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter)(?:\s+(?:of\s+)?(?:fiscal\s+)?((?:19|20)\d\d))?",
    re.IGNORECASE,
)
HALF_RE = re.compile(
    r"\b(?:H([12])|(first|second)\s+half)(?:\s+(?:of\s+)?((?:19|20)\d\d))?", re.IGNORECASE
)
ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
YEAR_ONLY_RE = re.compile(r"(?<![\d.,$€£])(?:19|20)\d\d(?![\d%])")


def period_keys(text: str) -> set[str]:
    """Periods a text speaks of, as comparable keys: "2024", "2024Q3", "Q3" (year unknown),
    "2024H1". Lets a question's period be matched against a sentence's or a document's."""
    return {key for key, _, _ in period_mentions(text)}


def period_mentions(text: str) -> list[tuple[str, int, int]]:
    """Each period a text speaks of, as (key, start, end): see period_keys."""
    found: list[tuple[str, int, int]] = []
    for match in QUARTER_RE.finditer(text):
        quarter = match.group(1) or str(ORDINAL[match.group(2).lower()])
        key = f"{match.group(3)}Q{quarter}" if match.group(3) else f"Q{quarter}"
        found.append((key, match.start(), match.end()))
    for match in HALF_RE.finditer(text):
        half = match.group(1) or ("1" if match.group(2).lower() == "first" else "2")
        key = f"{match.group(3)}H{half}" if match.group(3) else f"H{half}"
        found.append((key, match.start(), match.end()))
    found += [(m.group(0), m.start(), m.end()) for m in YEAR_ONLY_RE.finditer(text)]
    return found
