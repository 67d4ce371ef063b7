"""Dates in sources and questions: explicit mentions, relative phrases resolved against the
publication date, and the time frame a question asks about.

Hand-written matching (dateparser parses a given string well but does not find date spans in
running text, and its search mode is slow and misreads figures such as "5 GW" as dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ALT = "|".join(m.capitalize() + "|" + m.capitalize()[:3] + r"\.?" for m in MONTHS)
_MONTH_ALT = _MONTH_ALT.replace(r"|May\.?", "")  # "May" has no abbreviation
_YEAR = r"(?:19|20)\d\d"
QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}  # fmt: skip

EXPLICIT_RE = re.compile(
    rf"\b(?:(?:{_MONTH_ALT})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}"  # March 3, 2025
    rf"|\d{{1,2}}\s+(?:{_MONTH_ALT})\s+{_YEAR}"  # 3 March 2025
    rf"|{_YEAR}-\d\d-\d\d"  # 2025-03-03
    rf"|(?:early|mid|late|the\s+end\s+of|the\s+start\s+of|end\s+of|the\s+first\s+half\s+of|"
    rf"the\s+second\s+half\s+of|H[12])[\s-]+{_YEAR}"
    rf"|Q[1-4]\s+(?:of\s+)?{_YEAR}"
    rf"|(?:the\s+)?(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter\s+(?:of\s+)?"
    rf"(?:(?:its|the|[A-Z][\w&.-]*['’]s?)\s+)?(?:fiscal\s+(?:year\s+)?)?{_YEAR}"
    rf"|(?:{_MONTH_ALT})\s+{_YEAR}"  # March 2025
    rf"|(?:in|by|since|from|until|through|during|before|after)\s+{_YEAR})\b",
    re.IGNORECASE,
)
RELATIVE_RE = re.compile(
    r"\b(?:(?:by\s+)?the\s+end\s+of\s+(?:this|next|the)\s+(?:year|quarter|month)"
    r"|(?:later|earlier)\s+this\s+(?:year|quarter|month)"
    r"|early\s+next\s+year|late\s+next\s+year"
    r"|(?:this|next|last|the\s+coming|the\s+current)\s+(?:year|quarter|month|week)"
    r"|(?:today|tomorrow|yesterday))\b",
    re.IGNORECASE,
)


@dataclass
class DateMention:
    start: int
    end: int
    text: str
    relative: bool
    resolved: str | None = None  # for relative phrases: what they mean given the pub date
    year: int | None = None


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def spoken_day(day: date) -> str:
    """2024-12-20 -> 'December 20, 2024': how a short answer writes a day."""
    return f"{MONTHS[day.month - 1].capitalize()} {day.day}, {day.year}"


def resolve_relative(phrase: str, published: date) -> str | None:
    """'this quarter' published 2026-04-20 -> 'Q2 2026'; 'by the end of next year' -> '... 2027'."""
    text = " ".join(phrase.lower().split())
    year, quarter = published.year, _quarter(published)
    if text in ("today", "tomorrow", "yesterday"):
        shift = {"today": 0, "tomorrow": 1, "yesterday": -1}[text]
        return (published + timedelta(days=shift)).isoformat()
    offset = 1 if "next" in text else -1 if "last" in text else 0
    prefix = ""
    for lead in ("by the end of", "the end of", "later this", "earlier this", "early", "late"):
        if text.startswith(lead):
            prefix = {"later this": "later in", "earlier this": "earlier in"}.get(lead, lead) + " "
            break
    if text.endswith("year"):
        return f"{prefix}{year + offset}"
    if text.endswith("quarter"):
        index = year * 4 + (quarter - 1) + offset
        return f"{prefix}Q{index % 4 + 1} {index // 4}"
    if text.endswith("month"):
        index = year * 12 + (published.month - 1) + offset
        return f"{prefix}{MONTHS[index % 12].capitalize()} {index // 12}"
    if text.endswith("week"):
        return f"{prefix}the week of {(published + timedelta(weeks=offset)).isoformat()}"
    return None


def find_dates(text: str, published: date | None = None) -> list[DateMention]:
    mentions: list[DateMention] = []
    for match in EXPLICIT_RE.finditer(text):
        year = re.search(_YEAR, match.group(0))
        mentions.append(
            DateMention(
                match.start(),
                match.end(),
                match.group(0),
                relative=False,
                year=int(year.group(0)) if year else None,
            )
        )
    for match in RELATIVE_RE.finditer(text):
        if any(m.start <= match.start() < m.end for m in mentions):
            continue
        resolved = resolve_relative(match.group(0), published) if published else None
        year_match = re.search(_YEAR, resolved or "")
        mentions.append(
            DateMention(
                match.start(),
                match.end(),
                match.group(0),
                relative=True,
                resolved=resolved,
                year=int(year_match.group(0)) if year_match else None,
            )
        )
    return sorted(mentions, key=lambda m: m.start)


@dataclass
class TimeFrame:
    """What a question says about time: a year it is about, a cut-off, or 'the latest'."""

    years: list[int]
    latest: bool = False
    as_of: date | None = None  # "as of March 2025": only what was published by then
    before: date | None = None
    after: date | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.years or self.latest or self.as_of or self.before or self.after)


LATEST_RE = re.compile(
    r"\b(latest|most recent(ly)?|newest|current(ly)?|now|today|so far|to date|recent)\b", re.I
)
AS_OF_RE = re.compile(rf"\bas of\s+(?:(?P<month>{_MONTH_ALT})\s+)?(?P<year>{_YEAR})\b", re.I)
BEFORE_RE = re.compile(rf"\bbefore\s+(?P<year>{_YEAR})\b", re.I)
AFTER_RE = re.compile(rf"\b(?:after|since)\s+(?P<year>{_YEAR})\b", re.I)


def _month_end(year: int, month_name: str | None) -> date:
    if not month_name:
        return date(year, 12, 31)
    month = next(i for i, m in enumerate(MONTHS, 1) if m.startswith(month_name[:3].lower()))
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def question_time_frame(question: str) -> TimeFrame:
    frame = TimeFrame(years=[int(y) for y in re.findall(rf"\b{_YEAR}\b", question)])
    frame.latest = bool(LATEST_RE.search(question))
    as_of = AS_OF_RE.search(question)
    if as_of:
        frame.as_of = _month_end(int(as_of.group("year")), as_of.group("month"))
    before = BEFORE_RE.search(question)
    if before:
        frame.before = date(int(before.group("year")), 1, 1)
    after = AFTER_RE.search(question)
    if after:
        frame.after = date(int(after.group("year")), 1, 1)
    return frame
