"""Numbers with units and scale words, for scoring answers ("1 GW" == "one gigawatt" == "1,000 MW").

Hand-written and deliberately independent of rag.quantities: a scorer that shared the
system's parser would agree with the system's parsing mistakes (quantulum3 also misses "4bn").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RELATIVE_TOLERANCE = 0.01

WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "half a": 0.5, "half": 0.5,
    "a": 1, "an": 1,
}  # fmt: skip
SCALES = {
    "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6,
    "mm": 1e6, "thousand": 1e3, "hundred": 1e2,
}  # fmt: skip
# single letters are scales only when glued to the number ("4bn", "$4b", "300k")
LETTER_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
UNITS = {
    "gigawatts": ("power", 1e9), "gigawatt": ("power", 1e9), "gw": ("power", 1e9),
    "megawatts": ("power", 1e6), "megawatt": ("power", 1e6), "mw": ("power", 1e6),
    "kilowatts": ("power", 1e3), "kilowatt": ("power", 1e3), "kw": ("power", 1e3),
    "terawatt-hours": ("energy", 1e12), "terawatt hours": ("energy", 1e12), "twh": ("energy", 1e12),
    "gigawatt-hours": ("energy", 1e9), "gigawatt hours": ("energy", 1e9), "gwh": ("energy", 1e9),
    "megawatt-hours": ("energy", 1e6), "megawatt hours": ("energy", 1e6), "mwh": ("energy", 1e6),
    "percent": ("percent", 1.0), "per cent": ("percent", 1.0), "%": ("percent", 1.0),
    "dollars": ("currency:USD", 1.0), "dollar": ("currency:USD", 1.0),
    "euros": ("currency:EUR", 1.0), "euro": ("currency:EUR", 1.0),
    "pounds": ("currency:GBP", 1.0), "yen": ("currency:JPY", 1.0),
}  # fmt: skip
CURRENCIES = {"$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
              "gbp": "GBP", "¥": "JPY", "jpy": "JPY"}  # fmt: skip


def _alternation(words: object) -> str:
    return "|".join(sorted((re.escape(str(w)) for w in words), key=len, reverse=True))  # type: ignore[attr-defined]


QUANTITY_RE = re.compile(
    rf"(?P<currency>us\$|\$|€|£|¥|\b(?:usd|eur|gbp|jpy)\b)?\s?"
    rf"(?:(?<![a-z\d.,])(?P<digits>\d+(?:,\d{{3}})*(?:\.\d+)?|\.\d+)|\b(?P<word>{_alternation(WORDS)})\b)"
    rf"(?P<letter>[kmbt](?![a-z]))?"
    rf"(?:[\s-]?(?P<scale>{_alternation(SCALES)})\b)?"
    rf"(?:[\s-]?(?P<unit>{_alternation(UNITS)})(?![a-z]))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    value: float  # in the base unit of `dimension` (watts, watt-hours, percent, currency units)
    dimension: str | None  # "power", "energy", "percent", "currency:USD", or None
    text: str
    bare: bool = False  # no unit, currency or scale: "3" in "March 3"


def find_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with its scale and unit applied; bare years and bare "a"/"one" skipped."""
    found = []
    for match in QUANTITY_RE.finditer(text):
        currency = (match.group("currency") or "").strip().lower()
        letter = (match.group("letter") or "").lower()
        scale_word = (match.group("scale") or "").lower()
        unit_word = (match.group("unit") or "").lower()
        digits, word = match.group("digits"), (match.group("word") or "").lower()
        if word:
            if letter:
                continue  # "a m..." is not a quantity
            if not (scale_word or unit_word or currency):
                continue  # "one of the", "a company": a word number needs a unit or scale
            value = float(WORDS[word])
        else:
            value = float(digits.replace(",", ""))
            if re.fullmatch(r"(19|20)\d\d", digits) and not (
                currency or letter or scale_word or unit_word
            ):
                continue  # a year
        if word == "hundred" and scale_word:
            value = 100.0
        value *= LETTER_SCALES.get(letter, 1.0) * SCALES.get(scale_word, 1.0)
        dimension: str | None = None
        if unit_word:
            dimension, factor = UNITS[unit_word]
            value *= factor
        if currency:
            dimension = f"currency:{CURRENCIES.get(currency, 'USD')}"
        bare = not (dimension or letter or scale_word)
        found.append(Quantity(value, dimension, match.group(0).strip(), bare=bare))
    return found


def same_quantity(gold: Quantity, predicted: Quantity) -> bool:
    """Equal within 1% relative tolerance; dimensions must agree when both are known."""
    if gold.dimension and predicted.dimension and gold.dimension != predicted.dimension:
        return False
    scale = max(abs(gold.value), abs(predicted.value))
    return scale == 0 or abs(gold.value - predicted.value) <= RELATIVE_TOLERANCE * scale


def numeric_match(golds: list[str], prediction: str, *, bare_numbers: bool = False) -> bool | None:
    """True/False when some gold answer holds a quantity; None when the metric does not apply.

    Bare gold numbers ("200,000" of "200,000 GPUs") count only with `bare_numbers` (number
    questions); otherwise the "3" of "March 3" would make every date question numeric.
    """
    gold_quantities = [
        q for gold in golds for q in find_quantities(gold) if bare_numbers or not q.bare
    ]
    if not gold_quantities:
        return None
    predicted = find_quantities(prediction)
    return any(same_quantity(g, p) for g in gold_quantities for p in predicted)
