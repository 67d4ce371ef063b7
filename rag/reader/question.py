"""Question analysis, the reader's first stage: what a question asks for, in features.

Every cue comes from the lexicon; what the cues mean for an answer is learned downstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.dates import TimeFrame, question_time_frame
from rag.reader.lexicon import WORD_RE, Lexicon
from rag.reader.spans import AMOUNT_KINDS, MONTHS, Span, find_spans, name_phrases, period_keys

WH_CLASSES = ("how_much", "how_many", "when", "who", "which", "where", "what", "yes_no", "other")
CUE_KINDS = ("money", "percent", "count", "power", "energy", "duration", "date", "person", "org",
             "place", "name")  # fmt: skip
COMPARISONS = ("difference", "sum", "ratio", "max", "min")
MONTH_NAMES = frozenset(MONTHS) | {m[:3] for m in MONTHS}
PERIOD_TERM_RE = re.compile(
    r"^(?:q[1-4]|h[12]|fy\d*|\d[\d.,]*)$"
)  # periods and figures: not attributes


@dataclass
class QuestionAnalysis:
    text: str
    wh: str  # one of WH_CLASSES
    terms: list[str]  # canonical content stems of the whole question
    attribute_terms: list[str]  # ... of the words outside names: what is asked about
    names: list[str]  # capitalised names asked about
    name_terms: set[str]  # canonical stems of the names' words
    cues: dict[str, float]  # CUE_KINDS -> 1.0 when the question has a cue for that kind
    modifiers: set[str]  # modifier groups the question uses ("up_to", "per_share", ...)
    comparisons: dict[str, float]  # COMPARISONS -> 1.0 when cued
    figures: list[Span]  # amounts the question itself states ("$83.50 per share")
    periods: set[str]  # period keys ("2024", "2024Q3")
    time: TimeFrame = field(default_factory=lambda: TimeFrame(years=[]))
    latest: bool = False
    report_verb: bool = False  # "when was X announced": the report's date may answer
    event_verb: bool = False
    negated: bool = False  # the question itself holds a negation ("did X not ...")
    two_sides: bool = False  # "A ... than/vs/or/and ... B": two subjects to compare

    @property
    def yes_no(self) -> bool:
        return self.wh == "yes_no"


def _wh_class(text: str, lexicon: Lexicon) -> str:
    lowered = text.lower()
    first = (WORD_RE.findall(lowered) or [""])[0]
    if first in lexicon.yes_no_openers:
        return "yes_no"
    found = []
    for order, (pattern, name) in enumerate(
        (
            (r"\bhow (?:much|large|big|long)\b", "how_much"),
            (r"\bhow many\b", "how_many"),
            (r"\b(?:when|what (?:date|day|month|year|quarter|time)|by when|how soon)\b", "when"),
            (r"\b(?:who|whom|whose)\b", "who"),
            (r"\bwhere\b", "where"),
            (r"\bwhich\b", "which"),
            (r"\bwhat\b", "what"),
        )
    ):
        match = re.search(pattern, lowered)
        if match:
            found.append((match.start(), order, name))
    comma = lowered.find(",")
    # a clause's bare "when" ("When it reported Q1, what ...", "How old was it when ...") does
    # not ask; "what date", "by when" and "how soon" always do
    asking = [
        f
        for f in found
        if f[2] != "when"
        or not lowered.startswith("when", f[0])
        or _asks_when(lowered, f[0] + 4, lexicon)
    ]
    if comma > 0 and not any(start < comma for start, _, _ in asking):
        # "In 2024, did it ...", "When it raised guidance, did it ...": a yes/no question whose
        # main clause follows an opening one
        main = WORD_RE.findall(lowered[comma + 1 :])
        if main and main[0] in lexicon.yes_no_openers:
            return "yes_no"
    if asking:  # the question's first question word ("Which is larger ..., and by how much?")
        return min(asking)[2]
    return "other"


def _asks_when(lowered: str, end: int, lexicon: Lexicon) -> bool:
    """A question's "when" is followed by its verb ("when did", "when is") or ends the
    question; a clause's "when" by the clause's subject ("when it raised guidance")."""
    following = WORD_RE.findall(lowered[end:])
    return not following or following[0] in lexicon.yes_no_openers


def question_names(text: str, lexicon: Lexicon) -> list[str]:
    """Names asked about: capitalised phrases, but not the question's own first word unless it
    looks like a name ("Korva's", "KVX", "qLabs") and never generic words ("AI", "Q3")."""
    names = []
    for start, _, phrase in name_phrases(text):
        words = phrase.split()
        if start == 0 and len(words) == 1:
            token = words[0]
            looks_named = re.match(rf"{re.escape(token)}['’]s\b", text) or re.fullmatch(
                r"[A-Z0-9]{2,}|[a-z]+[A-Z]\w*|\w*\d\w*", token
            )
            if not looks_named or token.lower() in lexicon.question_words:
                continue
        if words and words[0].lower() in lexicon.question_words:
            words = words[1:]
        phrase = " ".join(words)
        lowered = phrase.lower().rstrip(".")
        if not phrase or lowered in lexicon.generic_names or lowered in MONTH_NAMES:
            continue
        names.append(phrase)
    return list(dict.fromkeys(names))


def analyse(question: str, lexicon: Lexicon) -> QuestionAnalysis:
    text = " ".join(question.split())
    names = question_names(text, lexicon)
    name_terms = {lexicon.canonical(w) for n in names for w in WORD_RE.findall(n)}
    terms = lexicon.content_terms(text)
    figures = [s for s in find_spans(text) if s.kind in AMOUNT_KINDS and s.kind != "number"]
    time = question_time_frame(text)
    split = lexicon.comparison_split.search(text)
    return QuestionAnalysis(
        text=text,
        wh=_wh_class(text, lexicon),
        terms=terms,
        attribute_terms=[t for t in terms if t not in name_terms and not PERIOD_TERM_RE.match(t)]
        or terms,
        names=names,
        name_terms=name_terms,
        cues={k: float(bool(lexicon.kind_cues[k].search(text))) for k in CUE_KINDS},
        modifiers=lexicon.modifier_groups(text),
        comparisons={k: float(bool(lexicon.comparison[k].search(text))) for k in COMPARISONS},
        figures=figures,
        periods=period_keys(text),
        time=time,
        latest=bool(lexicon.latest_cues.search(text)),
        report_verb=bool(lexicon.report_verbs.search(text)),
        event_verb=bool(lexicon.event_verbs.search(text)),
        negated=any(w.lower() in lexicon.negation for w in WORD_RE.findall(text)),
        two_sides=bool(split and len(names) >= 2),
    )


WH_TYPES = {"yes_no": "yes_no", "when": "date", "who": "entity", "which": "entity",
            "where": "entity", "how_much": "number", "how_many": "number"}  # fmt: skip


def guessed_type(analysis: QuestionAnalysis) -> str | None:
    """The eval-set type a question most likely has, from its question word alone (None when
    that says nothing: "what ...", keyword queries)."""
    return WH_TYPES.get(analysis.wh)


def kind_flags(analysis: QuestionAnalysis) -> list[float]:
    """What the question word and the lexicon's cues say about the answer's kind (inputs of the
    question-kind model besides the question's vector)."""
    return [float(analysis.wh == w) for w in WH_CLASSES] + [analysis.cues[k] for k in CUE_KINDS]
