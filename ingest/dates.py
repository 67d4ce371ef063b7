"""Publication dates: from metadata values, else from an explicit date near the top of the text.

Never invents a date: relative expressions ("today", "last week") are not parsed, and a
date must name a day, a month and a year.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# Hand-written: dateparser's search_dates also matches relative words and bare numbers,
# which would invent dates; these three shapes are the explicit ones announcements use.
_DATE_IN_TEXT = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})\b",
    re.IGNORECASE,
)
_DATEPARSER_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["custom-formats", "absolute-time"],
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DAY_OF_MONTH": "first",
}
_HEAD_CHARS = 400


def parse_date(value: Any) -> date | None:
    """A real date from a metadata value (date, datetime, ISO or RFC 822 string, struct_time)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "tm_year"):  # feedparser's *_parsed fields
        return date(value.tm_year, value.tm_mon, value.tm_mday)
    if isinstance(value, int | float):
        return None  # bare numbers are too ambiguous to be a publication date
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    import dateparser

    parsed = dateparser.parse(text, languages=["en"], settings=_DATEPARSER_SETTINGS)  # type: ignore[arg-type]
    return parsed.date() if parsed else None


def date_in_text(text: str) -> date | None:
    """The first explicit, complete date in the first few hundred characters (a dateline)."""
    for match in _DATE_IN_TEXT.finditer(text[:_HEAD_CHARS]):
        found = parse_date(match.group())
        if found and 1900 <= found.year <= 2200:
            return found
    return None
