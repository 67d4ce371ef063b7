"""Answer drafting for the extractive answerer: quoted sentences, short answers, conflicts, sums."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.citations import prose_safe
from rag.dates import DateMention
from rag.evidence import PREDICATE_REACH, Evidence, predicate_positions
from rag.quantities import Quantity, format_like
from rag.question import (
    REPORT_VERB_RE,
    QuestionAnalysis,
    answer_names,
    asks_report_date,
    canonical,
    content_stems,
    find_entities,
    stem,
)

NEGATION_RE = re.compile(
    r"\b(not|no longer|never|neither|nor|declined|denied|without|rather than|instead of|"
    r"won't|isn't|wasn't|didn't|hasn't|haven't|no plans|yet to)\b",
    re.I,
)
WORD_SPAN_RE = re.compile(r"[A-Za-z0-9$%]+(?:[.'-][A-Za-z0-9]+)*")


@dataclass
class Draft:
    text: str
    evidence: list[Evidence]  # citation n is evidence[n - 1]
    short_answer: str | None = None
    confidence: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)
    # claims beyond the quoted sentences themselves (a comparison's figures), as plain text
    # with the citation numbers whose quotes must support them
    derived_claims: list[tuple[str, list[int]]] = field(default_factory=list)

    def claims(self) -> list[tuple[str, list[int]]]:
        """Everything the answer asserts, without our date annotations, with its citations."""
        quoted = [(item.sentence.text, [n]) for n, item in enumerate(self.evidence, 1)]
        return quoted + self.derived_claims


def _term_positions(analysis: QuestionAnalysis, text: str) -> list[int]:
    wanted = set(analysis.terms)
    return [m.start() for m in WORD_SPAN_RE.finditer(text) if canonical(stem(m.group(0))) in wanted]


def _nearest(spans: list[tuple[int, int]], anchors: list[int]) -> int:
    """Index of the span closest to any anchor (first span when there are no anchors)."""
    if not anchors:
        return 0
    best, best_distance = 0, float("inf")
    for index, (start, end) in enumerate(spans):
        distance = min(
            0 if start <= a <= end else min(abs(a - start), abs(a - end)) for a in anchors
        )
        if distance < best_distance:
            best, best_distance = index, distance
    return best


def wanted_quantities(analysis: QuestionAnalysis, evidence: Evidence) -> list[Quantity]:
    found = evidence.quantities
    if analysis.wanted_kinds:
        kinds = [q for q in found if q.kind in analysis.wanted_kinds]
        if analysis.count_noun and "count" in analysis.wanted_kinds:
            nouns = [
                q for q in kinds
                if q.kind != "count" or canonical(stem(q.unit)) == canonical(analysis.count_noun)
            ]  # fmt: skip
            kinds = nouns  # 'how many homes' is not answered by a count of something else
        found = kinds
    return found


def _pick_quantity(analysis: QuestionAnalysis, evidence: Evidence) -> Quantity | None:
    options = wanted_quantities(analysis, evidence)
    if not options:
        return None
    text = evidence.sentence.text
    anchors = _term_positions(analysis, text)
    for year in analysis.time.years:  # a year in the question anchors the figure near it
        anchors += [m.start() for m in re.finditer(str(year), text)]
    spans = [(q.start, q.end) for q in options]
    return options[_nearest(spans, anchors)]


def _pick_date(analysis: QuestionAnalysis, evidence: Evidence) -> DateMention | None:
    if not evidence.dates:
        return None
    anchors = _term_positions(analysis, evidence.sentence.text)
    explicit = [d for d in evidence.dates if not d.relative or d.resolved]
    options = explicit or evidence.dates
    return options[_nearest([(d.start, d.end) for d in options], anchors)]


def _lower_first(span: str) -> str:
    first = span.split(" ", 1)[0]
    return span[0].lower() + span[1:] if first.istitle() and first.lower() in _APPROX else span


_APPROX = {"nearly", "almost", "about", "around", "approximately", "roughly", "some", "up",
           "more", "over", "at", "less", "under", "close", "just", "upwards", "as", "an", "a"}  # fmt: skip


def yes_no(analysis: QuestionAnalysis, evidence: Evidence) -> str:
    """'No' when the source negates the claim or states a different figure; else 'Yes'."""
    from rag.quantities import find_quantities

    asked = [q for q in find_quantities(analysis.text) if q.kind]
    stated = evidence.quantities
    for question_amount in asked:
        same_kind = [q for q in stated if q.kind == question_amount.kind]
        if same_kind and not any(_compatible(question_amount, q) for q in same_kind):
            return "No"
    if negates(analysis, evidence):
        return "No"
    return "Yes"


def negates(analysis: QuestionAnalysis, evidence: Evidence) -> bool:
    """The sentence denies what is asked: a negation next to the question's own words."""
    if NEGATION_RE.search(analysis.text):
        return False
    text = evidence.sentence.text
    anchors = predicate_positions(analysis, text)
    return any(
        abs(anchor - match.start()) <= PREDICATE_REACH
        for match in NEGATION_RE.finditer(text)
        for anchor in anchors
    )


def _compatible(asked: Quantity, stated: Quantity) -> bool:
    if asked.value == 0:
        return stated.value == 0
    ratio = stated.value / asked.value
    if asked.approx in ("more than", "over", "at least", "upwards of"):
        return ratio >= 0.99
    if asked.approx in ("less than", "under"):
        return ratio <= 1.01
    return 0.95 <= ratio <= 1.05


def short_answer_for(analysis: QuestionAnalysis, evidence: Evidence) -> str | None:
    qtype = analysis.qtype
    if qtype == "number":
        quantity = _pick_quantity(analysis, evidence)
        return _lower_first(quantity.text) if quantity else None
    if qtype == "date":
        mention = _pick_date(analysis, evidence)
        published = evidence.chunk.document.published
        reported = asks_report_date(analysis) and REPORT_VERB_RE.search(analysis.text)
        if published and reported and (mention is None or mention.relative):
            return published.isoformat()  # announced the day the source was published
        if mention is not None:
            if mention.relative and mention.resolved:
                return f"{mention.text} ({mention.resolved})"
            return mention.text
        if published and asks_report_date(analysis):
            return published.isoformat()
        return None
    if qtype == "entity":
        names = answer_names(evidence.sentence.text, analysis.entities, evidence.chunk.text)
        if not names:
            return None
        anchors = _term_positions(analysis, evidence.sentence.text)
        return names[_nearest([(s, e) for s, e, _ in names], anchors)][2]
    if qtype == "yes_no":
        return yes_no(analysis, evidence)
    return None


def annotate(evidence: Evidence) -> str:
    """The quoted sentence with relative dates resolved inline, e.g. 'this quarter (Q2 2026)'."""
    text = evidence.sentence.text
    for mention in sorted(evidence.dates, key=lambda d: d.start, reverse=True):
        if mention.relative and mention.resolved:
            end = mention.end
            possessive = re.match(r"['’]s\b", text[end:])
            end += possessive.end() if possessive else 0  # "this week's (…) auction"
            text = f"{text[:end]} ({mention.resolved}){text[end:]}"
    return text.strip()


def cited(evidence: Evidence, number: int, *, with_date: bool = True) -> str:
    """'<sentence> (published 2026-04-20) [n].' with the sentence's end punctuation moved last."""
    body = prose_safe(annotate(evidence))  # the source's own "[3]" is not our marker
    end = ""
    while body and body[-1] in ".!?;:":
        end = end or body[-1]
        body = body[:-1]
    published = evidence.chunk.document.published
    when = f" (published {published.isoformat()})" if with_date and published else ""
    return f"{body}{when} [{number}]{end or '.'}"


SLOT_MARGIN = 0.15  # how far below the best sentence one holding the wanted slot may score


def single_draft(analysis: QuestionAnalysis, evidence: list[Evidence]) -> Draft:
    best = evidence[0]
    short = short_answer_for(analysis, best)
    if short is None and analysis.qtype in ("number", "date", "entity"):
        # The best-scoring sentence may lack the figure, date or name asked for; a close
        # runner-up that holds it answers better than a guess.
        for other in evidence[1:12]:
            if other.score < best.score - SLOT_MARGIN:
                break
            short = short_answer_for(analysis, other)
            if short is not None:
                best = other
                break
    if analysis.qtype == "yes_no":
        # A close runner-up that denies the claim outweighs a sentence that merely mentions it.
        for other in evidence[1:4]:
            if other.score >= best.score - SLOT_MARGIN and negates(analysis, other):
                best, short = other, "No"
                break
    sentences = [cited(best, 1)]
    if analysis.qtype == "yes_no" and short:
        sentences[0] = f"{short}: {sentences[0]}"
    return Draft(" ".join(sentences), [best], short)


def _slot(analysis: QuestionAnalysis, evidence: Evidence) -> tuple[str, float] | None:
    if analysis.qtype == "date":
        mention = _pick_date(analysis, evidence)
        return ("date", float(hash(mention.resolved or mention.text.lower()))) if mention else None
    quantity = _pick_quantity(analysis, evidence)
    return (quantity.kind + quantity.unit, quantity.value) if quantity else None


def conflict_draft(
    analysis: QuestionAnalysis,
    evidence: list[Evidence],
    threshold: float,
    confidence: Callable[[Evidence, QuestionAnalysis], float],
) -> Draft | None:
    """Two dated sources giving different figures or dates for the same thing: cite both."""
    if analysis.qtype not in ("number", "date") or analysis.comparison:
        return None
    best = evidence[0]
    best_slot = _slot(analysis, best)
    if best_slot is None:
        return None
    best_terms = set(content_stems(best.sentence.text))
    for other in evidence[1:8]:
        if other.doc_id == best.doc_id or other.score < best.score - 0.08:
            continue
        if confidence(other, analysis) < threshold or other.entity < best.entity:
            continue
        slot = _slot(analysis, other)
        if slot is None or slot[0] != best_slot[0] or slot[1] == best_slot[1]:
            continue
        other_terms = set(content_stems(other.sentence.text))
        overlap = len(best_terms & other_terms) / max(1, len(best_terms | other_terms))
        if overlap < 0.3:
            continue
        pair = sorted(
            [best, other],
            key=lambda e: (
                e.chunk.document.published.toordinal() if e.chunk.document.published else 0
            ),
            reverse=True,
        )
        newer, older = pair
        newer_date = newer.chunk.document.published
        older_date = older.chunk.document.published
        text = (
            f"Sources differ. The most recent report"
            f"{f' ({newer_date.isoformat()})' if newer_date else ''} says: "
            f"{cited(newer, 1, with_date=False)} An earlier report"
            f"{f' ({older_date.isoformat()})' if older_date else ''} said: "
            f"{cited(older, 2, with_date=False)}"
        )
        return Draft(
            text, [newer, older], short_answer_for(analysis, newer), notes={"conflict": "yes"}
        )
    return None


SIDES_RE = re.compile(r"\b(?:or|versus|vs\.?|compared (?:to|with)|and|than)\b", re.I)


def compared_sides(analysis: QuestionAnalysis) -> list[list[str]]:
    """The two things compared, each as its names: 'OpenAI's deal with AMD or Anthropic's deal
    with Amazon' -> [[OpenAI, AMD], [Anthropic, Amazon]]."""
    asked = set(analysis.entities)
    for match in SIDES_RE.finditer(analysis.text):
        left = [e for _, _, e in find_entities(analysis.text[: match.start()]) if e in asked]
        right = [
            e
            for _, _, e in find_entities(analysis.text[match.end() :], skip_first=False)
            if e in asked
        ]
        if left and right and left[0] != right[0]:
            return [left, right]
    names = list(dict.fromkeys(analysis.entities))[:2]
    return [[name] for name in names]


def _side_options(
    analysis: QuestionAnalysis, evidence: list[Evidence], names: list[str]
) -> list[tuple[float, Evidence, Quantity]]:
    """Candidate figures for one side, best first: sentences naming more of the side's names,
    ranked higher, with the figure nearest the question's own words."""
    options = []
    for rank, item in enumerate(evidence[:25]):
        haystack = (item.sentence.text + " " + item.chunk.document.title).lower()
        named = sum(1 for n in names if n.lower() in haystack)
        in_sentence = sum(1 for n in names if n.lower() in item.sentence.text.lower())
        if not named:
            continue
        quantity = _pick_quantity(analysis, item)
        if quantity is None:
            continue
        cost = rank - 6 * named - 4 * in_sentence
        options.append((float(cost), item, quantity))
    return sorted(options, key=lambda o: o[0])


def comparison_draft(analysis: QuestionAnalysis, evidence: list[Evidence]) -> Draft | None:
    """'Which is bigger, A's or B's, and by how much?' / 'How much in total ...?'"""
    sides = compared_sides(analysis)
    if len(sides) != 2:
        return None
    entities = [side[0] for side in sides]
    left = _side_options(analysis, evidence, sides[0])
    right = _side_options(analysis, evidence, sides[1])
    pairs = [
        (cost_a + cost_b, (entities[0], a, qa), (entities[1], b, qb))
        for cost_a, a, qa in left
        for cost_b, b, qb in right
        if a is not b and qa.kind == qb.kind and (qa.kind != "count" or qa.unit == qb.unit)
    ]
    if not pairs:
        return None
    _, first_pick, second_pick = min(pairs, key=lambda p: p[0])
    picks = [first_pick, second_pick]
    (name_a, ev_a, qa), (name_b, ev_b, qb) = picks
    kind, unit = qa.kind, qa.unit
    bigger, smaller = (picks[0], picks[1]) if qa.value >= qb.value else (picks[1], picks[0])
    first = cited(ev_a, 1)
    second = cited(ev_b, 2)
    operation = analysis.comparison
    if operation == "sum":
        result = format_like(qa.value + qb.value, kind, unit, qa.text + " " + qb.text)
        closing = f"Together that is {result}: {qa.text} plus {qb.text} [1][2]."
        short = result
    elif operation == "ratio" and qb.value:
        ratio = bigger[2].value / smaller[2].value if smaller[2].value else 0.0
        result = f"{ratio:.2g} times"
        closing = f"{bigger[0]}'s figure is {result} {smaller[0]}'s: {bigger[2].text} versus {smaller[2].text} [1][2]."
        short = result
    else:
        difference = format_like(
            bigger[2].value - smaller[2].value, kind, unit, qa.text + " " + qb.text
        )
        closing = (
            f"{bigger[0]}'s is larger: {bigger[2].text} versus {smaller[2].text}, "
            f"a difference of {difference} [1][2]."
        )
        wants_amount = re.search(r"\bhow (much|many|large|big)\b", analysis.text, re.I)
        short = difference if operation == "difference" else bigger[0]
        if operation == "max" and wants_amount:
            short = bigger[2].text  # "which is bigger, and how much is it?"
        if operation == "min":
            short = smaller[2].text if wants_amount else smaller[0]
    return Draft(
        f"{first} {second} {closing}",
        [ev_a, ev_b],
        short,
        notes={"comparison": operation or ""},
        derived_claims=[(f"{qa.text} and {qb.text}", [1, 2])],  # the inputs of the arithmetic
    )
