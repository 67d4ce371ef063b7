"""The reader's lexicon: cue words, synonyms, negations and modifiers, loaded from data and checked.

Words live in `lexicon.json`, never in code. Loading validates it: lists are lower case and
non-empty, and a word in two synonym groups (or two modifier groups) is an error, not a silent
first-wins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

WORD_RE = re.compile(r"[A-Za-z0-9$%€£]+(?:[.'’-][A-Za-z0-9]+)*")


class LexiconError(ValueError):
    """The lexicon file is malformed (names the section and the word)."""


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer, already installed for bm25s

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str]:
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"[\s-]+") for p in ordered)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Lexicon:
    stopwords: frozenset[str]
    question_words: frozenset[str]
    yes_no_openers: frozenset[str]
    synonym_of: dict[str, str]  # stem -> group key ("#3")
    negation: frozenset[str]
    negative_outcome: frozenset[str]
    contrast: frozenset[str]
    modifiers: dict[str, re.Pattern[str]]
    kind_cues: dict[str, re.Pattern[str]]
    report_verbs: re.Pattern[str]
    event_verbs: re.Pattern[str]
    latest_cues: re.Pattern[str]
    comparison: dict[str, re.Pattern[str]]
    comparison_split: re.Pattern[str]
    org_suffixes: frozenset[str]
    person_titles: frozenset[str]
    outlet_cues: re.Pattern[str]
    place_prepositions: frozenset[str]
    generic_names: frozenset[str]
    # scale -> (positive pole, negative pole): "direction" is (up, down), "extent" (wide, narrow)
    polarity: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    # canonical stems of every attribute word the kind cues name (revenue, profit, capacity...)
    attribute_vocabulary: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def canonical(self, word: str) -> str:
        """A word's stem, with synonyms collapsed onto one key ("sales" and "revenue" alike)."""
        stemmed = stem(word)
        return self.synonym_of.get(stemmed, stemmed)

    def content_terms(self, text: str) -> list[str]:
        """Canonical stems of the words that carry meaning (stop words and question words out)."""
        return [
            self.canonical(w)
            for w in WORD_RE.findall(text)
            if w.lower() not in self.stopwords
            and w.lower() not in self.question_words
            and (len(w) > 1 or w.isdigit())
        ]

    def modifier_groups(self, text: str) -> set[str]:
        return {name for name, pattern in self.modifiers.items() if pattern.search(text)}

    def pole(self, scale: str, words: set[str]) -> int:
        """Which way `words` (lower case) lean on a polarity scale: +1 when they use only the
        positive pole's words ("rose"), -1 only the negative's ("fell"), 0 neither or both."""
        positive, negative = self.polarity[scale]
        return int(bool(words & positive)) - int(bool(words & negative))


def _words(section: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise LexiconError(f"lexicon section {section!r} must be a non-empty list of words")
    for word in value:
        if not isinstance(word, str) or not word.strip():
            raise LexiconError(f"lexicon section {section!r}: {word!r} is not a word")
        if word != word.lower():
            raise LexiconError(f"lexicon section {section!r}: {word!r} must be lower case")
    if len(set(value)) != len(value):
        seen: set[str] = set()
        dup = next(w for w in value if w in seen or seen.add(w))  # type: ignore[func-returns-value]
        raise LexiconError(f"lexicon section {section!r}: {dup!r} is listed twice")
    return list(value)


def _groups(section: str, value: Any, *, stemmed: bool) -> dict[str, list[str]]:
    """Named (or numbered) word groups where no word may sit in two groups."""
    items = value.items() if isinstance(value, dict) else enumerate(value or [])
    owner: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for name, words in items:
        key = str(name)
        groups[key] = _words(f"{section}.{key}", words)
        for word in groups[key]:
            token = stem(word) if stemmed and " " not in word else word
            if token in owner and owner[token] != key:
                raise LexiconError(
                    f"lexicon section {section!r}: {word!r} is in group {owner[token]!r} "
                    f"and in group {key!r}"
                )
            owner[token] = key
    return groups


def _polarity(value: Any) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Scales of two poles each ({"direction": {"up": [...], "down": [...]}}); a word may not
    sit on both poles of one scale."""
    if not isinstance(value, dict) or not value:
        raise LexiconError("lexicon section 'polarity' must map scales to two poles")
    scales = {}
    for scale, poles in value.items():
        if not isinstance(poles, dict) or len(poles) != 2:
            raise LexiconError(f"lexicon section 'polarity.{scale}' must have exactly two poles")
        groups = _groups(f"polarity.{scale}", poles, stemmed=False)
        positive, negative = (frozenset(words) for words in groups.values())
        scales[str(scale)] = (positive, negative)
    return scales


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    """Validate and compile a lexicon mapping; LexiconError names what is wrong."""
    if not isinstance(data, dict):
        raise LexiconError("the lexicon must be a JSON object")
    required = [
        "stopwords", "question_words", "yes_no_openers", "synonyms", "negation",
        "negative_outcome", "contrast", "modifiers", "kind_cues", "report_verbs", "event_verbs",
        "latest_cues", "comparison", "comparison_split", "org_suffixes", "person_titles",
        "outlet_cues", "place_prepositions", "generic_names", "polarity",
    ]  # fmt: skip
    missing = [name for name in required if name not in data]
    if missing:
        raise LexiconError(f"lexicon lacks sections: {', '.join(missing)}")
    synonyms = _groups("synonyms", data["synonyms"], stemmed=True)
    synonym_of = {
        stem(word): f"#{key}"
        for key, words in synonyms.items()
        for word in words
        if " " not in word
    }
    modifiers = _groups("modifiers", data["modifiers"], stemmed=False)
    kind_cues = {k: _words(f"kind_cues.{k}", v) for k, v in data["kind_cues"].items()}
    comparison = {k: _words(f"comparison.{k}", v) for k, v in data["comparison"].items()}
    polarity = _polarity(data["polarity"])

    def words(name: str) -> frozenset[str]:
        return frozenset(_words(name, data[name]))

    return Lexicon(
        stopwords=words("stopwords"),
        question_words=words("question_words"),
        yes_no_openers=words("yes_no_openers"),
        synonym_of=synonym_of,
        negation=words("negation"),
        negative_outcome=words("negative_outcome"),
        contrast=words("contrast"),
        modifiers={k: _phrase_pattern(v) for k, v in modifiers.items()},
        kind_cues={k: _phrase_pattern(v) for k, v in kind_cues.items()},
        report_verbs=_phrase_pattern(_words("report_verbs", data["report_verbs"])),
        event_verbs=_phrase_pattern(_words("event_verbs", data["event_verbs"])),
        latest_cues=_phrase_pattern(_words("latest_cues", data["latest_cues"])),
        comparison={k: _phrase_pattern(v) for k, v in comparison.items()},
        comparison_split=_phrase_pattern(_words("comparison_split", data["comparison_split"])),
        org_suffixes=words("org_suffixes"),
        person_titles=words("person_titles"),
        outlet_cues=_phrase_pattern(_words("outlet_cues", data["outlet_cues"])),
        place_prepositions=words("place_prepositions"),
        generic_names=words("generic_names"),
        polarity=polarity,
        attribute_vocabulary=frozenset(
            synonym_of.get(stem(w), stem(w))
            for cues in kind_cues.values()
            for phrase in cues
            for w in phrase.split()
            if w not in data["stopwords"]
        ),
        raw=data,
    )


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon at `path`, or the packaged one."""
    if path is None:
        text = resources.files("rag.reader").joinpath("lexicon.json").read_text(encoding="utf-8")
        where = "rag/reader/lexicon.json"
    else:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = json.loads(text)
    except ValueError as error:
        raise LexiconError(f"{where}: not JSON ({error})") from None
    try:
        return parse_lexicon(data)
    except LexiconError as error:
        raise LexiconError(f"{where}: {error}") from None


@cache
def default_lexicon() -> Lexicon:
    """The packaged lexicon, parsed once per process (it is immutable data)."""
    return load_lexicon()
