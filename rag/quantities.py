"""Quantities in text (amounts, power, percentages, counts) with exact spans.

Hand-written: quantulum3 misses scale words like "$4bn" and trained units, and is too slow
to run over every candidate sentence on the query path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "half a": 0.5,
    "a dozen": 12, "dozens of": 24,
}  # fmt: skip
ARTICLE_NUMBERS = frozenset({"a", "an", "one", "half a"})  # as often an article as a number
SCALES = {
    "trillion": 1e12, "tn": 1e12, "t": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mn": 1e6, "m": 1e6, "mm": 1e6, "thousand": 1e3, "k": 1e3, "hundred": 1e2,
    "crore": 1e7, "lakh": 1e5,
}  # fmt: skip
# unit word -> (class, factor to the class's base unit)
UNITS = {
    "gigawatts": ("power", 1e9), "gigawatt": ("power", 1e9), "gw": ("power", 1e9),
    "megawatts": ("power", 1e6), "megawatt": ("power", 1e6), "mw": ("power", 1e6),
    "kilowatts": ("power", 1e3), "kilowatt": ("power", 1e3), "kw": ("power", 1e3),
    "terawatt-hours": ("energy", 1e12), "twh": ("energy", 1e12), "gigawatt-hours": ("energy", 1e9),
    "gwh": ("energy", 1e9), "megawatt-hours": ("energy", 1e6), "mwh": ("energy", 1e6),
    "percent": ("percent", 1.0), "per cent": ("percent", 1.0), "%": ("percent", 1.0),
    "percentage points": ("percent", 1.0),
    "gb": ("data", 1e9), "tb": ("data", 1e12), "pb": ("data", 1e15), "gigabytes": ("data", 1e9),
    "terabytes": ("data", 1e12), "petabytes": ("data", 1e15),
    "euros": ("currency", 1.0), "euro": ("currency", 1.0), "dollars": ("currency", 1.0),
    "pounds": ("currency", 1.0), "yen": ("currency", 1.0), "yuan": ("currency", 1.0),
    "won": ("currency", 1.0), "rupees": ("currency", 1.0), "kronor": ("currency", 1.0),
    "krona": ("currency", 1.0), "kroner": ("currency", 1.0), "francs": ("currency", 1.0),
}  # fmt: skip
CURRENCY_SYMBOLS = {"$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR",
                    "£": "GBP", "gbp": "GBP", "¥": "JPY", "jpy": "JPY", "nt$": "TWD",
                    "hk$": "HKD", "a$": "AUD", "c$": "CAD", "s$": "SGD", "r$": "BRL",
                    "₹": "INR", "rs": "INR", "rs.": "INR", "inr": "INR", "sek": "SEK",
                    "nok": "NOK", "dkk": "DKK", "chf": "CHF", "cny": "CNY", "rmb": "CNY",
                    "krw": "KRW", "hkd": "HKD", "aud": "AUD", "cad": "CAD", "twd": "TWD"}  # fmt: skip
UNIT_CURRENCIES = {"eur": "EUR", "pou": "GBP", "yen": "JPY", "yua": "CNY", "won": "KRW",
                   "rup": "INR", "kro": "SEK", "fra": "CHF"}  # fmt: skip
APPROXIMATORS = (
    "nearly|almost|about|around|approximately|roughly|some|up to|more than|over|at least|"
    "less than|under|close to|just over|just under|upwards of|as much as|as many as|"
    "an estimated|a total of|a further|another|an additional|a record"
)
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORDNUM = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))
_SCALE = "trillion|billion|million|thousand|hundred|crore|lakh|bn|tn|mn|mm|[kKmMbBtT]"
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
QUANTITY_RE = re.compile(
    rf"(?:(?P<approx>{APPROXIMATORS})\s+)?"
    rf"(?P<currency>(?:US|NT|HK|A|C|S|R)\$|\$|€|£|¥|₹|\bRs\.?\s?|"
    rf"\b(?:USD|EUR|GBP|JPY|SEK|NOK|DKK|CHF|CNY|RMB|INR|KRW|HKD|AUD|CAD|TWD)\s?)?"
    rf"(?<![A-Za-z0-9.,])(?P<num>{_NUMBER}|\b(?:{_WORDNUM})\b)"
    rf"(?:[\s-]?(?P<scale>(?:{_SCALE}))\b)?"
    rf"(?:[\s-]?(?P<unit>{_UNIT})(?![\w]))?"
    rf"(?:\s(?P<noun>[A-Za-z][\w-]*(?:\s[A-Za-z][\w-]*){{0,2}}))?",
    re.IGNORECASE,
)
YEAR_RE = re.compile(r"^(19|20)\d\d$")
COUNT_NOUN_STOP = {
    "to", "in", "of", "and", "the", "by", "for", "on", "at", "from", "with", "a", "an", "is",
    "was", "will", "as", "per", "that", "this", "it", "or", "than", "into", "over",
    "has", "have", "had", "are", "were", "would", "could", "can", "said", "says", "remains",
}  # fmt: skip


@dataclass
class Quantity:
    start: int
    end: int
    text: str
    value: float  # in the base unit of `kind` (watts, currency units, percent, count)
    kind: str  # "power" | "energy" | "currency" | "percent" | "count"
    unit: str  # "W", "USD", "%", or the counted noun ("gpus")
    approx: str = ""


ACRONYM_RE = re.compile(r"^[A-Z]{2,}s$")  # "GPUs", not "XR200"


def _noun_phrase(words: list[str]) -> int:
    """How many of the words after a number name what is counted: modifiers that are names or
    model numbers ("Korva XR200"), then lower-case words up to the plural noun they qualify
    ("outpatient clinics", "more people") or the first lower-case word."""
    for used, word in enumerate(words[:3], 1):
        if word.lower() in COUNT_NOUN_STOP:
            return 0
        if word[0].islower() or ACRONYM_RE.match(word):
            if _plural(word):
                return used
            for more, following in enumerate(words[used : used + 2], used + 1):
                lowered = following.lower()
                if not (following.isalpha() and following[0].islower()) or (
                    lowered in COUNT_NOUN_STOP
                ):
                    break
                if _plural(following):
                    return more
            return used
        if not (word[0].isupper() or any(c.isdigit() for c in word)):
            return 0
    return 0


# Plurals without an -s (a counted noun often is one): grammar, not a topic list.
IRREGULAR_PLURALS = frozenset("people staff personnel children men women".split())


def _plural(word: str) -> bool:
    """Looks like a plural noun: 'clinics', 'GPUs', 'people' (not 'across', 'bonus', 'basis')."""
    lowered = word.lower()
    if lowered in IRREGULAR_PLURALS:
        return True
    return len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is"))


def _parse_number(raw: str) -> float | None:
    lowered = raw.lower()
    if lowered in WORD_NUMBERS:
        return float(WORD_NUMBERS[lowered])
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity with a unit, currency, scale or counted noun; bare years are skipped."""
    found: list[Quantity] = []
    for match in QUANTITY_RE.finditer(text):
        raw_num = match.group("num")
        value = _parse_number(raw_num)
        if value is None:
            continue
        currency = (match.group("currency") or "").strip().lower()
        scale_word = (match.group("scale") or "").lower()
        unit_word = (match.group("unit") or "").lower()
        noun = (match.group("noun") or "").strip()
        is_word_number = not raw_num[0].isdigit()
        # single letters are only scales right after a currency ("$4B") or a digit ("4bn")
        if len(scale_word) == 1 and not currency:
            scale_word = "" if not match.group("scale").isupper() else scale_word
        scale = SCALES.get(scale_word, 1.0)
        end = match.end()
        kind, unit, factor = "", "", 1.0
        if currency:
            kind, unit = "currency", CURRENCY_SYMBOLS.get(currency, "USD")
            end = match.end("scale") if match.group("scale") else match.end("num")
        elif unit_word:
            kind, factor = UNITS[unit_word]
            unit = {"power": "W", "energy": "Wh", "percent": "%", "data": "B"}.get(kind, "")
            if kind == "currency":
                unit = UNIT_CURRENCIES.get(unit_word[:3], "USD")
            end = match.end("unit")
        elif noun and (used := _noun_phrase(noun.split())):
            phrase = noun.split()[:used]
            kind, unit = "count", phrase[-1].lower()
            end = match.start("noun") + len(" ".join(phrase))
        elif scale_word and not is_word_number:
            kind, unit = "count", ""
            end = match.end("scale")
        else:
            continue
        if YEAR_RE.match(raw_num) and kind == "count" and not scale_word:
            continue  # "2026 projects" is usually a year
        if (
            is_word_number
            and kind == "count"
            and not scale_word
            and (raw_num.lower() in ARTICLE_NUMBERS or not _plural(unit))
        ):
            continue  # "one of the" / "a company": an article; "three trains" is a count
        start = match.start()
        found.append(
            Quantity(
                start=start,
                end=end,
                text=text[start:end],
                value=value * scale * factor,
                kind=kind,
                unit=unit,
                approx=(match.group("approx") or "").lower(),
            )
        )
    return found


LIKE_SCALES = [
    ("gigawatt", 1e9, "gigawatts"), ("gw", 1e9, "GW"), ("megawatt", 1e6, "megawatts"),
    ("mw", 1e6, "MW"), ("trillion", 1e12, "trillion"), ("billion", 1e9, "billion"),
    ("bn", 1e9, "billion"), ("million", 1e6, "million"),
]  # fmt: skip


def format_like(value: float, kind: str, unit: str, example: str) -> str:
    """A computed amount in the scale its inputs were written in ("0.5 gigawatts", not "500 MW")."""
    words = set(re.findall(r"[a-z]+", example.lower()))
    for marker, scale, word in LIKE_SCALES:
        written = marker in words or (len(marker) > 2 and any(w.startswith(marker) for w in words))
        if written and abs(value) >= scale:  # "€290 million", not "€0.29 billion"
            number = f"{value / scale:,.4g}"
            if kind == "currency":
                symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(unit, "")
                return f"{symbol}{number} {word}"
            if kind == "power":
                return f"{number} {word}"
    return format_value(value, kind, unit)


def format_value(value: float, kind: str, unit: str) -> str:
    """Human form of a computed amount, in the largest unit that keeps it >= 1."""
    if kind == "currency":
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(unit, unit + " ")
        for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if abs(value) >= scale:
                return f"{symbol}{value / scale:,.4g} {word}"
        return f"{symbol}{value:,.0f}"
    if kind == "power":
        for scale, word in ((1e9, "gigawatts"), (1e6, "megawatts"), (1e3, "kilowatts")):
            if abs(value) >= scale:
                return f"{value / scale:,.4g} {word}"
        return f"{value:,.4g} watts"
    if kind == "percent":
        return f"{value:,.4g}%"
    return f"{value:,.6g} {unit}".strip()
