"""The reader's named capabilities as families of questions over announcements written for these
tests (never seen in training), and how to score a reader on them.

A trained reader is judged on each capability by the share of its family it gets right, not by
one pinned question: retraining unchanged code with another seed moves single answers across
the answerability threshold (eval/README.md, "Retraining noise"), so a single question tells one
draw of the reader from another, while a family's rate tells a capability kept from one lost.
`tests/rag/test_reader_capabilities.py` holds the bounds; `python -m tests.rag.reader_families
ARTIFACT...` prints each family's count for reader artifacts, which is how the bounds were set:

    python -m eval.train --draws 12 --seed 1 --keep /tmp/draws
    python -m tests.rag.reader_families rag/reader/model.json /tmp/draws/*.json
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rag.config import Settings
from rag.embedder import SentenceTransformerEmbedder
from rag.reader.model import ReaderModel
from rag.system import Newsdesk, build_newsdesk
from rag.types import Answer
from tests.rag.conftest import ARTICLES as SHARED_ARTICLES
from tests.rag.conftest import make_document, put

OWN_ARTICLES = [
    (
        "harbor-grid",
        "Harbor Grid wins Delmar County storage contract",
        date(2026, 3, 10),
        "Harbor Grid Energy said on Tuesday it has signed a storage contract with Delmar County "
        "with a base value of $120 million. Options in the agreement could lift the total to up "
        "to $310 million over ten years. The 400 MW battery will be built in Fresno, California. "
        "Construction is scheduled to begin in June 2027, and the battery is expected to enter "
        "service in 2029. Harbor Grid did not disclose the price per megawatt-hour. Chief "
        "executive Ana Lindqvist said the county had chosen the lowest-cost bid.",
    ),
    (
        "fjordlink-q3",
        "Fjordlink Telecom posts higher third-quarter revenue",
        date(2025, 10, 22),
        "OSLO (Northwire) - Fjordlink Telecom reported third-quarter revenue of NOK 4.2 billion on "
        "Wednesday, up from NOK 3.9 billion a year earlier. Net profit was NOK 610 million, or "
        "NOK 1.45 per share. Excluding one-off items, operating profit rose to NOK 980 million. "
        "The operator added 41,000 mobile subscribers in the quarter, of which 12,000 were in "
        "Sweden.",
    ),
    (
        "pellston-trial",
        "Pellston Bio's rovaxin misses in Phase 3",
        date(2025, 6, 4),
        "Pellston Bio said its Phase 3 trial of rovaxin in chronic migraine did not meet its "
        "primary endpoint. The company said it will not file for approval this year. Shares "
        "fell 38% in early trading.",
    ),
    (
        "corvane-q2",
        "Corvane Motors second-quarter deliveries",
        date(2025, 7, 2),
        "Corvane Motors delivered 52,300 vehicles in the second quarter of 2025, the electric "
        "carmaker said.",
    ),
    (
        "corvane-q3",
        "Corvane Motors third-quarter deliveries",
        date(2025, 10, 2),
        "Corvane Motors delivered 61,800 vehicles in the third quarter of 2025. The company "
        "expects its second plant to open by the end of next year.",
    ),
    (
        "tessaly-brightmill",
        "Tessaly Foods agrees to buy Brightmill Bakeries",
        date(2026, 2, 12),
        "LONDON (Ledgerline) - Tessaly Foods said on Thursday it had agreed to buy Brightmill "
        "Bakeries for £640 million in cash, or 412 pence per share. The price is 28% above "
        "Brightmill's closing share price on Wednesday. Including debt, the deal values "
        "Brightmill at £810 million. The deal is expected to close in the third quarter of 2026, "
        "subject to approval by the Competition and Markets Authority. Brightmill's board, "
        "chaired by Helen Okafor, recommended the offer. Tessaly did not say how many jobs "
        "would be cut.",
    ),
    (
        "norvik-round",
        "Norvik Robotics raises $85 million",
        date(2026, 5, 6),
        "Norvik Robotics, a warehouse automation start-up based in Rotterdam, has raised $85 "
        "million in a Series B round led by Calder Ventures. Existing investor Pinegate Capital "
        "also took part. The company did not disclose its valuation. Norvik, founded in 2021 by "
        "Maarten Voss, said it will use the money to open an office in Austin, Texas, and to "
        "double its engineering staff to 240 by the end of 2027. The round brings its total "
        "funding to $130 million.",
    ),
    (
        "keswick-solar",
        "Keswick Renewables starts building Ardent Flats solar farm",
        date(2026, 8, 19),
        "Keswick Renewables began construction of the 250 MW Ardent Flats solar farm near "
        "Tucson, Arizona, on Monday. The $390 million project will also include a 100 MW "
        "battery. The plant is due to start commercial operation in the second half of 2027 and "
        "will sell its power to Sonora Valley Electric under a 20-year contract. Keswick did not "
        "disclose the contract price. Chief operating officer Priya Raman said about 400 "
        "workers would be on site at the peak of construction.",
    ),
    (
        "altira-q1",
        "Altira Pharma first-quarter results",
        date(2026, 4, 29),
        "Altira Pharma reported first-quarter sales of $2.6 billion, up 9% from a year earlier. "
        "Net income fell to $310 million from $355 million, as research spending rose. Sales of "
        "its heart drug Cardivex were $740 million. The company kept its full-year sales "
        "forecast of $10.5 billion to $10.9 billion. Altira said it expects a US decision on its "
        "asthma drug Pulmera in September.",
    ),
    (
        "veyra-recall",
        "Veyra Motors recalls 18,000 scooters",
        date(2026, 9, 3),
        "Veyra Motors is recalling 18,000 electric scooters sold in Germany and France because a "
        "battery connector can overheat. No injuries have been reported, the company said. The "
        "recall does not include scooters sold in Spain. Owners will get a free repair at "
        "dealers from October 1.",
    ),
]

# the families read both these and the rag tests' shared corpus (tests/rag/conftest.py)
ARTICLES = [*SHARED_ARTICLES, *OWN_ARTICLES]

# names that are only an outlet or a dateline in the articles above: never an answer
OUTLETS = ("Northwire", "Ledgerline", "OSLO", "LONDON")


@dataclass(frozen=True)
class Case:
    """One question: right when the short answer holds one of `expect` and none of `forbid`
    (and the first quote holds `quote`, when given), or, with `abstain`, when it abstains."""

    question: str
    expect: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    quote: str | None = None
    abstain: bool = False


def case(question: str, expect: str | tuple[str, ...], forbid: str | tuple[str, ...] = (),
         quote: str | None = None) -> Case:  # fmt: skip
    as_tuple = lambda v: (v,) if isinstance(v, str) else v  # noqa: E731
    return Case(question, as_tuple(expect), as_tuple(forbid), quote)


FAMILIES: dict[str, tuple[Case, ...]] = {
    # the figure the question's modifiers pick: base, up to, a year earlier, per share,
    # excluding, of which, including, in total
    "modifiers": (
        case(
            "What is the base value of Harbor Grid's Delmar County contract?",
            "$120 million",
            "$310",
        ),
        case(
            "How much could Harbor Grid's Delmar County contract be worth with its options?",
            "$310 million",
            "$120",
        ),
        case(
            "What was Fjordlink Telecom's third-quarter revenue a year earlier?",
            "NOK 3.9 billion",
            "4.2",
        ),
        case(
            "What net profit per share did Fjordlink Telecom report for the third quarter?",
            "NOK 1.45",
            "610",
        ),
        case(
            "What was Fjordlink Telecom's operating profit excluding one-off items?",
            "NOK 980 million",
            "610",
        ),
        case("How many of Fjordlink's new mobile subscribers were in Sweden?", "12,000", "41,000"),
        case("How much is Tessaly Foods paying per Brightmill share?", "412 pence", "640"),
        case(
            "Including debt, what does the Tessaly deal value Brightmill Bakeries at?",
            "£810 million",
            "640",
        ),
        case(
            "What was Altira Pharma's first-quarter net income a year earlier?",
            "$355 million",
            "$310",
        ),
        case("How much has Norvik Robotics raised in total?", "$130 million", "$85"),
        case("How big is the battery at Keswick's Ardent Flats solar farm?", "100 MW", "250"),
        case(
            "How much did Altira's heart drug Cardivex sell in the first quarter?",
            "$740 million",
            "2.6",
        ),
    ),
    # the date an event happens, not the date it was announced
    "event_dates": (
        case(
            "When is construction of Harbor Grid's Fresno battery scheduled to begin?",
            "June 2027",
            "2026",
        ),
        case(
            "When is Harbor Grid's Delmar County battery expected to enter service?", "2029", "2026"
        ),
        case(
            "When is Tessaly's purchase of Brightmill expected to close?",
            ("third quarter of 2026", "Q3 2026"),
            "February",
        ),
        case(
            "When will the Ardent Flats solar farm start commercial operation?",
            ("second half of 2027", "H2 2027"),
            "August",
        ),
        case("When does Altira expect a US decision on Pulmera?", "September", "April"),
        case("From when will Veyra scooter owners get a free repair?", "October 1", "September 3"),
    ),
    # "where" wants a place, "who" a person or an organisation
    "where_who": (
        case("Where will Harbor Grid's 400 MW battery be built?", "Fresno"),
        case("Who is Harbor Grid's chief executive?", "Ana Lindqvist"),
        case("Where is Norvik Robotics based?", "Rotterdam"),
        case("Who led Norvik Robotics' Series B round?", "Calder Ventures"),
        case("Who founded Norvik Robotics?", "Maarten Voss"),
        case("Who chairs Brightmill's board?", "Helen Okafor"),
        case("Where is the Ardent Flats solar farm?", "Tucson"),
        case("Who is Keswick Renewables' chief operating officer?", "Priya Raman"),
        case("Where will Norvik Robotics open its new office?", "Austin"),
        case("Who led Mistral's funding round?", "ASML"),
    ),
    # an organisation asked for next to an outlet or a dateline: the organisation, never those
    "outlets": (
        case(
            "Which operator reported third-quarter revenue of NOK 4.2 billion?",
            "Fjordlink",
            OUTLETS,
        ),
        case("Which company agreed to buy Brightmill Bakeries?", "Tessaly", OUTLETS),
        case("Which bakery group is Tessaly Foods buying?", "Brightmill", OUTLETS),
        case(
            "Which operator added 41,000 mobile subscribers in the third quarter?",
            "Fjordlink",
            OUTLETS,
        ),
    ),
    # yes/no reads negation and contradiction, and cites the sentence it read
    "yes_no": (
        case("Did rovaxin's Phase 3 trial meet its primary endpoint?", "No", quote="did not meet"),
        case(
            "Did Harbor Grid disclose the price per megawatt-hour?", "No", quote="did not disclose"
        ),
        case("Did Harbor Grid sign a storage contract with Delmar County?", "Yes"),
        case("Will Pellston Bio file rovaxin for approval this year?", "No", quote="will not"),
        case("Did Norvik Robotics disclose its valuation?", "No", quote="did not disclose"),
        case(
            "Does Veyra's scooter recall include scooters sold in Spain?",
            "No",
            quote="does not include",
        ),
        case(
            "Has Veyra Motors reported any injuries linked to the overheating connectors?",
            "No",
            quote="No injuries",
        ),
        case("Did Altira Pharma keep its full-year sales forecast?", "Yes"),
        case("Did Brightmill's board recommend Tessaly's offer?", "Yes"),
        case("Has Keswick Renewables begun construction of Ardent Flats?", "Yes"),
        case("Is Tessaly Foods paying for Brightmill in cash?", "Yes"),
        case(
            "Did Keswick disclose the price of its Sonora Valley Electric contract?",
            "No",
            quote="did not disclose",
        ),
        case("Did Amazon invest $10 billion in Anthropic?", "No"),
        case("Did Amazon invest more than $4 billion in Anthropic?", "Yes"),
    ),
}

# near misses: the subject and a figure of the asked kind are there, the asked attribute is not
FAMILIES["near_misses"] = tuple(
    Case(question, abstain=True)
    for question in (
        "What is the price per megawatt-hour in Harbor Grid's Delmar County contract?",
        "How many employees does Harbor Grid have?",
        "What was Fjordlink Telecom's fourth-quarter revenue?",
        "What valuation did Norvik Robotics raise its Series B at?",
        "What price per megawatt-hour will Sonora Valley Electric pay Keswick?",
        "How many jobs will Tessaly cut at Brightmill?",
        "How much will Veyra's scooter recall cost?",
        "What were Pulmera's first-quarter sales?",
        "What is Tesla's market value?",
        "How many employees does Oracle have in Abilene?",
        "What is the price of Anthropic's expanded deal with Amazon?",
    )
)


@dataclass
class Outcome:
    case: Case
    answer: Answer
    right: bool
    faults: list[str] = field(default_factory=list)  # broken invariants: always a failure


def inexact_quotes(desk: Newsdesk, answer: Answer) -> list[str]:
    """The answer's quotes that are not their document's own text at their offsets."""
    wrong = []
    for citation in answer.citations:
        found = desk.store.get_document(citation.doc_id)
        if found is None or found[1][citation.start : citation.end] != citation.quote:
            wrong.append(citation.quote)
    return wrong


def judge(desk: Newsdesk, c: Case) -> Outcome:
    answer = desk.ask(c.question)
    short = answer.short_answer or ""
    faults = [f"inexact quote {quote!r}" for quote in inexact_quotes(desk, answer)]
    if answer.abstained and (answer.citations or answer.short_answer is not None):
        faults.append("an abstention with citations or a short answer")
    if not answer.abstained and answer.short_answer is None:
        faults.append("an answer without a short answer")
    if any(outlet in short for outlet in OUTLETS):
        faults.append(f"an outlet or dateline as the answer: {short!r}")
    if c.abstain:
        right = answer.abstained
    else:
        right = (
            not answer.abstained
            and any(e in short for e in c.expect)
            and not any(f in short for f in c.forbid)
            and (c.quote is None or c.quote in answer.citations[0].quote)
        )
    return Outcome(c, answer, right, faults)


def outcomes(desk: Newsdesk, family: str) -> list[Outcome]:
    return [judge(desk, c) for c in FAMILIES[family]]


def describe(o: Outcome) -> str:
    got = "abstained" if o.answer.abstained else repr(o.answer.short_answer)
    return f"{o.case.question} -> {got}"


def family_desk(
    data_dir: Path, embedder: SentenceTransformerEmbedder, model: ReaderModel | None = None
) -> Newsdesk:
    """A desk over ARTICLES in `data_dir`, reading with `model` (default: the shipped one)."""
    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    desk = build_newsdesk(settings, embedder=embedder, model=model)
    for key, title, published, text in ARTICLES:
        put(desk.store, embedder, make_document(key, title, published, text))
    desk.refresh()
    return desk


def _rates(artifacts: list[str]) -> None:
    """Each family's count for each artifact (a fresh store per artifact, the real embedder)."""
    import tempfile

    from rag.reader.model import load_model

    embedder = SentenceTransformerEmbedder()
    for artifact in artifacts:
        with tempfile.TemporaryDirectory() as tmp:
            desk = family_desk(Path(tmp), embedder, load_model(Path(artifact)))
            cells = []
            for family in FAMILIES:
                found = outcomes(desk, family)
                cells.append(f"{family} {sum(o.right for o in found)}/{len(found)}")
                faults = [f for o in found for f in o.faults]
                if faults:
                    cells.append(f"FAULTS {faults}")
            print(artifact, " | ".join(cells), flush=True)


if __name__ == "__main__":
    _rates(sys.argv[1:])
