"""The reader's stages one at a time, on sentences written for these tests: the lexicon is
validated, typed spans have exact offsets, question analysis reads cues from data, features
have the names the artifact expects, and the artifact refuses features it was not trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.reader.lexicon import LexiconError, default_lexicon, load_lexicon, parse_lexicon
from rag.reader.model import ModelError, load_model
from rag.reader.question import analyse, kind_flags
from rag.reader.ranking import ANSWER_FEATURES, STACKED_FEATURES
from rag.reader.reader import EXPECTED_FEATURES, KIND_INPUTS
from rag.reader.spans import KINDS, dump_spans, find_spans, load_spans, period_keys
from rag.store import ChromaStore


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in find_spans(text)]


def test_the_packaged_lexicon_loads_and_collapses_synonyms() -> None:
    lexicon = default_lexicon()
    assert lexicon.canonical("revenue") == lexicon.canonical("sales")
    assert lexicon.canonical("profit") != lexicon.canonical("revenue")
    assert "per_share" in lexicon.modifier_groups("a dividend of 40 cents per share")
    assert "up_to" in lexicon.modifier_groups("worth up to $2 billion")
    assert "growth" not in lexicon.modifier_groups("an up-front payment")  # "up" is not "up-front"


def test_a_word_in_two_synonym_groups_is_an_error(tmp_path: Path) -> None:
    data = dict(default_lexicon().raw)
    data["synonyms"] = [["revenue", "sales"], ["turnover", "sales"]]
    with pytest.raises(LexiconError, match="'sales' is in group"):
        parse_lexicon(data)
    data = dict(default_lexicon().raw)
    data["negation"] = ["Not"]
    with pytest.raises(LexiconError, match="lower case"):
        parse_lexicon(data)
    broken = tmp_path / "lexicon.json"
    broken.write_text("{not json")
    with pytest.raises(LexiconError, match="lexicon.json: not JSON"):
        load_lexicon(broken)
    missing = dict(default_lexicon().raw)
    del missing["negation"]
    with pytest.raises(LexiconError, match="negation"):
        parse_lexicon(missing)


def test_polarity_scales_read_which_way_words_lean() -> None:
    lexicon = default_lexicon()
    assert lexicon.pole("direction", {"revenue", "fell"}) == -1
    assert lexicon.pole("direction", {"revenue", "rose"}) == 1
    assert lexicon.pole("direction", {"rose", "then", "fell"}) == 0  # both ways: no lean
    assert lexicon.pole("extent", {"only", "plant"}) == -1
    assert lexicon.pole("extent", {"plant"}) == 0
    data = dict(default_lexicon().raw)
    data["polarity"] = {"direction": {"up": ["rose", "flat"], "down": ["fell", "flat"]}}
    with pytest.raises(LexiconError, match="'flat' is in group 'up' and in group 'down'"):
        parse_lexicon(data)
    data["polarity"] = {"direction": {"up": ["rose"]}}
    with pytest.raises(LexiconError, match="exactly two poles"):
        parse_lexicon(data)


def test_amounts_with_currency_scale_ranges_and_durations() -> None:
    text = (
        "Kestrel Rail raised NT$3.2 billion, guided to $1,200 - $1,250 million, paid Rs 18 crore, "
        "cut 4.5% of jobs and signed a 15-year lease that starts in 18 months."
    )
    found = spans_of(text)
    assert ("NT$3.2 billion", "money") in found
    assert ("$1,200 - $1,250 million", "money") in found
    assert ("Rs 18 crore", "money") in found
    assert ("4.5%", "percent") in found
    assert ("15-year", "duration") in found and ("18 months", "duration") in found
    money = next(s for s in find_spans(text) if s.kind == "money")
    assert money.unit == "TWD" and money.value == pytest.approx(3.2e9)


def test_dates_periods_years_and_names() -> None:
    text = (
        "SAN MATEO (Wirewatch) - Orrin Labs' chief executive Mara Quill said on July 17 the deal "
        "should close in the first quarter of Orrin's fiscal year 2027, after a 2026 review."
    )
    found = spans_of(text)
    assert ("July 17", "date") in found
    assert ("the first quarter of Orrin's fiscal year 2027", "date") in found
    assert ("2026", "year") in found
    assert ("Mara Quill", "name") in found and ("Orrin Labs", "name") in found
    assert all(kind != "name" or "'" not in surface for surface, kind in found)  # no possessives
    assert period_keys("Q3 2024 and the second half of 2025") >= {"2024Q3", "2025H2", "2024"}


def test_months_alone_and_counts_written_in_words() -> None:
    """A month named alone is a date ("in September"; "May" only after a preposition, else the
    verb), and a small number written as a word counts what follows when that is plural
    ("three LNG trains"); "one", "a" and "an" stay articles."""
    text = (
        "Talvane may add capacity: in September it approved three LNG trains and seven "
        "buildings, one of them in early May, and a plant in Texas."
    )
    found = spans_of(text)
    assert [surface for surface, kind in found if kind == "date"] == ["September", "May"]
    # two counts, not "one of them" or "a plant", and not one range over both nouns
    assert [surface for surface, kind in found if kind == "count"] == [
        "three LNG trains",
        "seven buildings",
    ]


def test_each_figure_keeps_the_period_written_beside_it() -> None:
    """A question's quarter must be the figure's own quarter, not only the sentence's: the
    year-ago figure of an earnings line is another period's."""
    from rag.reader.signals import period_owner, periods_agree
    from rag.reader.spans import period_mentions

    text = (
        "Brannock Rail reported third-quarter sales of $2.4 billion, up from $2.1 billion in the "
        "second quarter, and expects $9 billion for 2026."
    )
    spans = find_spans(text)
    owned = {
        key: text[spans[n].start : spans[n].end]
        for key, start, end in period_mentions(text)
        if (n := period_owner(spans, start, end)) >= 0
    }
    assert owned == {"Q3": "$2.4 billion", "Q2": "$2.1 billion", "2026": "$9 billion"}
    assert periods_agree({"Q3"}, {"2025Q3", "2025"}) == (True, False)
    assert periods_agree({"Q4"}, {"Q3"}) == (False, True)  # another quarter, none asked
    assert periods_agree({"2025"}, {"Q3"}) == (False, False)  # another grain says nothing
    assert periods_agree({"2025Q3"}, {"2024Q3"}) == (False, True)
    assert periods_agree({"2025Q4", "2025"}, {"2025Q3", "2025"}) == (True, True)  # same year


def test_spans_round_trip_through_stored_metadata() -> None:
    spans = find_spans("Volta Freight booked $12 million in Q2 2025 from 40 customers.")
    assert load_spans(dump_spans(spans)) == spans


def test_question_analysis_reads_cues_from_the_lexicon() -> None:
    lexicon = default_lexicon()
    q = analyse("How much did Volta Freight's Q2 2025 revenue rise per share?", lexicon)
    assert q.wh == "how_much" and q.names == ["Volta Freight"]
    assert q.periods >= {"2025Q2"} and "per_share" in q.modifiers
    assert "q2" not in q.attribute_terms and lexicon.canonical("revenue") in q.attribute_terms
    assert analyse("Did Volta Freight cut its forecast?", lexicon).yes_no
    compare = analyse("How many more parcels did Volta ship in Q3 than in Q2?", lexicon)
    assert compare.comparisons["difference"] == 1.0
    assert analyse("When will the Ostrava depot open?", lexicon).wh == "when"


@pytest.mark.parametrize(
    ("question", "wh"),
    [
        # a yes/no question whose main clause follows an opening clause
        ("In 2024, did Volta Freight cut its forecast?", "yes_no"),
        ("Under the new rules, must Volta keep the depot?", "yes_no"),
        ("When the depot opened, was it already profitable?", "yes_no"),
        ("Volta raised its forecast in May, didn't it?", "yes_no"),
        ("Might Volta sell the depot?", "yes_no"),
        # ... but not when the opening clause is itself the question
        ("In 2024, which depot did Volta open?", "which"),
        ("When did Volta open the depot, and where?", "when"),
        ("How much, in total, did Volta raise?", "how_much"),
        # a clause's "when" does not ask; the main clause's question word does
        ("When Volta opened the depot, what did it cost?", "what"),
        ("How old was Volta when it opened the depot?", "other"),
        ("When will Volta open the depot?", "when"),
        ("By when does Volta expect to open the depot?", "when"),
        ("What date did Volta open the depot?", "when"),
    ],
)
def test_yes_no_questions_are_found_after_an_opening_clause(question: str, wh: str) -> None:
    assert analyse(question, default_lexicon()).wh == wh


def _sides(question: str):  # type: ignore[no-untyped-def]
    from rag.reader.computed import ComputedReader

    lexicon = default_lexicon()
    return ComputedReader(lexicon, None, None).sides(analyse(question, lexicon))  # type: ignore[arg-type]


def test_a_comparison_of_two_events_splits_on_their_own_words() -> None:
    # no second name or period: the sides differ by their own words
    sides = _sides(
        "How much did Volta's depot budget grow from the 2021 announcement to the opening?"
    )
    assert sides is not None
    first, second = sides
    assert "announcement" in first.text and "opening" in second.text
    # the opening's period is unknown: it does not borrow the announcement's year
    assert first.periods == {"2021"} and second.periods == set()


def test_two_subjects_share_the_period_the_question_names_once() -> None:
    sides = _sides("How much more did Volta Freight earn than Korva Logistics in Q3 2025?")
    assert sides is not None
    first, second = sides
    assert "2025Q3" in first.periods and "2025Q3" in second.periods


def test_the_shipped_artifact_matches_the_features_this_code_computes() -> None:
    model = load_model()
    model.check(EXPECTED_FEATURES, KINDS, KIND_INPUTS)  # raises when the artifact is stale
    assert model.scorer("stacked").features == STACKED_FEATURES
    assert model.scorer("answerable").features == ANSWER_FEATURES
    assert 0.0 <= model.threshold("answerable") <= 1.0
    assert model.meta["sets"] and model.meta["questions"] > 0
    flags = np.asarray(kind_flags(analyse("How much did Volta raise?", default_lexicon())))
    probabilities = model.kinds.predict(np.ones(384) / np.sqrt(384), flags)
    assert probabilities.shape == (len(KINDS),) and probabilities.sum() == pytest.approx(1.0)


def test_an_artifact_for_other_features_is_refused(tmp_path: Path) -> None:
    data = load_model().to_json()
    data["models"]["span"]["features"] = data["models"]["span"]["features"][:-1]
    stale = tmp_path / "model.json"
    stale.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="retrain"):
        load_model(stale).check(EXPECTED_FEATURES, KINDS, KIND_INPUTS)
    data["version"] = 0
    stale.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="version"):
        load_model(stale)


def test_equal_cosines_share_a_rank(
    store: ChromaStore, embedder: SentenceTransformerEmbedder, settings: Settings
) -> None:
    """One sentence carried by two documents has one cosine, so one `cos_rank`, whichever
    document the store lists first (training examples must not depend on store order)."""
    from rag.pipeline import QuestionPipeline
    from rag.reader.candidates import DocumentSentenceGatherer
    from rag.reader.features import SENTENCE_FEATURES, FeatureBuilder
    from rag.system import build_retriever

    from .conftest import make_document, put

    shared = "Volta Freight opened its Ostrava depot in May 2025."
    for key, extra in (("wire-a", "Shares rose 4%."), ("wire-b", "The depot employs 300 people.")):
        put(store, embedder, make_document(key, f"Volta depot ({key})", None, f"{shared} {extra}"))
    lexicon = default_lexicon()
    pipeline = QuestionPipeline(embedder=embedder, retriever=build_retriever(settings, store))
    retrieved = pipeline.run("When did Volta Freight open the Ostrava depot?")
    candidates = DocumentSentenceGatherer(store, lexicon).gather(retrieved.chunks, retrieved.vector)
    rows = FeatureBuilder(lexicon, store).sentence_features(
        analyse(retrieved.standalone, lexicon), candidates
    )
    column = SENTENCE_FEATURES.index("cos_rank")
    same = [i for i, c in enumerate(candidates.sentences) if c.sentence.text == shared]
    assert len(same) == 2
    assert rows[same[0], column] == rows[same[1], column] == 0.0


@pytest.mark.parametrize(
    ("question", "sentence", "column", "expected"),
    [
        ("Did Corvane's third-quarter revenue rise?", "fell 6%", "v_direction", -1.0),
        ("Did Corvane's third-quarter revenue fall?", "fell 6%", "v_direction", 1.0),
        ("Did all of Halden Air's hangars reopen?", "Only the", "v_extent", -1.0),
        ("Did Corvane's third-quarter revenue rise?", "Only the", "v_direction", 0.0),
    ],
)
def test_the_verdict_compares_which_way_question_and_sentence_lean(
    store: ChromaStore,
    embedder: SentenceTransformerEmbedder,
    settings: Settings,
    question: str,
    sentence: str,
    column: str,
    expected: float,
) -> None:
    """The yes/no verdict's polarity columns: +1 when question and sentence lean the same way on
    a scale (rise / fell: direction; all / only: extent), -1 opposite ways, 0 when either does
    not lean."""
    from rag.pipeline import QuestionPipeline
    from rag.reader.candidates import DocumentSentenceGatherer
    from rag.reader.decisions import VERDICT_FEATURES, verdict_row
    from rag.reader.features import FeatureBuilder
    from rag.system import build_retriever

    from .conftest import make_document, put

    texts = {
        "corvane-q3": "Corvane Retail's third-quarter revenue fell 6% to $410 million.",
        "halden-hangars": "Only the Lyon hangar of Halden Air reopened after the storm.",
    }
    for key, text in texts.items():
        put(store, embedder, make_document(key, key, None, text))
    lexicon = default_lexicon()
    pipeline = QuestionPipeline(embedder=embedder, retriever=build_retriever(settings, store))
    retrieved = pipeline.run(question)
    candidates = DocumentSentenceGatherer(store, lexicon).gather(retrieved.chunks, retrieved.vector)
    builder = FeatureBuilder(lexicon, store)
    q = analyse(retrieved.standalone, lexicon)
    rows = builder.sentence_features(q, candidates)
    best = next(i for i, c in enumerate(candidates.sentences) if sentence in c.sentence.text)
    row = verdict_row(builder, q, candidates, rows, np.zeros(len(rows)), best)
    assert row[VERDICT_FEATURES.index(column)] == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Halden Air said today that it reopened the Lyon hangar.", "December 20, 2024"),
        ("The hangar reopened yesterday, Halden Air said.", "December 19, 2024"),
        ("The first flights start this quarter.", "this quarter (Q4 2024)"),
        ("The hangar reopened on March 3, 2024.", "March 3, 2024"),
    ],
)
def test_a_short_answer_writes_a_relative_day_as_the_day_it_names(
    sentence: str, expected: str
) -> None:
    """A relative date is resolved against the publication date: a day ("today") becomes the
    day itself, a wider period keeps its words with what they mean."""
    from datetime import date

    from rag.reader.compose import short_answer
    from rag.types import DocumentInfo

    info = DocumentInfo(doc_id="halden", title="Halden", url=None, published=date(2024, 12, 20),
                        source="tests/halden", content_hash="x")  # fmt: skip
    span = next(s for s in find_spans(sentence) if s.kind == "date")
    assert short_answer(span, sentence, info) == expected


def test_computed_counts_are_written_in_full() -> None:
    """A computed count or ratio reads as people write it, never in exponent notation."""
    from rag.reader.computed import _amount, _times

    assert _amount(3442140.0, "count", "vehicles", "") == "3,442,140 vehicles"
    assert _amount(18934.0, "count", "", "") == "18,934"
    assert _amount(1.55, "number", "", "") == "1.55"
    assert _times(1234.5) == "1,230 times"
    assert _times(15.0) == "15 times"
