"""QuestionAnalysis: what a question wants (type, unit, entities, key terms, time frame)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.dates import TimeFrame, question_time_frame

WORD_RE = re.compile(r"[A-Za-z0-9$%€£]+(?:[.'-][A-Za-z0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours much many whose shall may might must also
    s t per via according said say says tell there's what's did does""".split()
)
QUESTION_WORDS = frozenset(
    "how what when which who whom whose where why is are was were do does did will has have had "
    "can could should would".split()
)
# Words that say what kind of amount a question wants.
CURRENCY_CUES = frozenset(
    "money invest invested investing investment investments fund funding funded raise raised "
    "raising round valuation valued worth cost costs price priced prices pay paid spend spending "
    "spent revenue revenues dollars dollar budget capex commitment committed financing loan debt "
    "stake fee fees charge charges sales profit".split()
)
GENERIC_AMOUNT_WORDS = frozenset("money dollars dollar % percent percentage".split())
POWER_CUES = frozenset(
    "capacity power gigawatt gigawatts megawatt megawatts electricity watts".split()
)
DATA_CUES = frozenset(["memory", "bandwidth", "storage capacity"])
PERCENT_CUES = frozenset("percent percentage share proportion %".split())
# Synonym groups, as stems: a question word matches a source word of the same group.
SYNONYM_GROUPS = [
    "price cost priced charg fee pay paid bill tariff",
    "invest investment stake fund funding backed back",
    "valuat valu worth",
    "rais round fund funding",
    "loan debt credit facil financ borrow",
    "launch releas unveil debut introduc announc rollout roll",
    "capac power gigawatt megawatt gw mw",
    "oper onlin activ live",
    "employe staff worker headcount peopl",
    "chip processor acceler gpu gpus tpu tpus silicon",
    "data datacent campus facil site",
    "partner partnership deal agreement contract pact",
    "buy acquir acquisit purchas",
    "compani firm startup lab",
    "billion bn",
    "revenu sale",
    "build construct develop",
    "open launch",
    "ceo chief execut lead head",
    "found founder cofound",
    "locat site where",
]


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))


@lru_cache(maxsize=1)
def _synonym_index() -> dict[str, int]:
    index: dict[str, int] = {}
    for number, group in enumerate(SYNONYM_GROUPS):
        for word in group.split():
            index.setdefault(word, number)
    return index


def canonical(stemmed: str) -> str:
    """Collapse synonyms onto one key so 'price' in a question matches 'cost' in a source."""
    group = _synonym_index().get(stemmed)
    return f"#{group}" if group is not None else stemmed


def content_stems(text: str) -> list[str]:
    return [
        canonical(stem(w))
        for w in WORD_RE.findall(text)
        if w.lower() not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


_UP = "A-ZÀ-ÖØ-Þ"
_AL = "a-zA-Z0-9À-ÖØ-öø-ÿ"
ENTITY_RE = re.compile(
    rf"\b(?:[{_UP}][{_AL}&.:-]*[{_AL}]|[a-z]+[A-Z][{_AL}]*|[{_UP}])"
    rf"(?:[\s-](?:[{_UP}][{_AL}&.:-]*|of\b|de\b|\d+\b))*"
)
NOT_ENTITIES = frozenset(
    QUESTION_WORDS | {"The", "A", "An", "In", "By", "As", "And", "Did", "Does"}
)


TITLE_WORDS = frozenset("CEO CFO CTO COO Chief Head President Chairman Founder Director".split())


def find_entities(text: str, *, skip_first: bool = True) -> list[tuple[int, int, str]]:
    """Capitalised phrases (companies, products, people); sentence-initial common words skipped."""
    found = []
    for match in ENTITY_RE.finditer(text):
        phrase = match.group(0).rstrip(".")
        words = phrase.split()
        while words and (words[0] in NOT_ENTITIES or words[0].lower() in STOPWORDS):
            words = words[1:]
        if not words:
            continue
        while words and words[-1] in ("of", "de"):
            words = words[:-1]  # "MHz of" -> "MHz"
        while len(words) > 1 and UNIT_NAME_RE.match(words[0]):
            words = words[1:]  # "5 GW Anthropic" -> "Anthropic"
        while len(words) > 2 and words[0] in TITLE_WORDS and words[1] == "of":
            words = words[2:]  # "CEO of Platte Valley Energy" -> the company
        phrase = " ".join(words)
        start = match.start() + match.group(0).index(words[0])
        if skip_first and start == 0 and len(words) == 1 and words[0].lower() in STOPWORDS:
            continue
        if re.fullmatch(r"(?:19|20)\d\d|Q[1-4]", phrase):
            continue
        if re.fullmatch(
            r"(?:January|February|March|April|May|June|July|August|September|October|November|December)(?: \d+)?",
            phrase,
        ):
            continue
        found.append((start, start + len(phrase), phrase))
    return found


NOT_ANSWER_NAME_RE = re.compile(
    r"^(?:Series [A-Z]\d?|[A-Z][a-z]+-(?:based|backed|powered|owned|led|focused|native|made|class|scale)"
    r"|(?:[A-Z][a-z]+(?:an|ese|ish|ch) )?AI)$"
)
UNIT_NAME_RE = re.compile(r"^(?:[GMkT]Wh?|[GMkT]Hz|GB|TB|PB|USD|EUR|GBP|Q[1-4]|H[12])$")
DATELINE_RE = re.compile(r"^[A-Z]{2,}(?: [A-Z]{2,})+$")  # "SAN FRANCISCO" opening a release
GENERIC_NAMES = frozenset(
    "AI CEO CFO CTO GPU GPUs TPU TPUs CPU CPUs IPO API APIs LLM LLMs Inc LLC "
    "Series The This That It Analysts".split()
)


def answer_names(
    text: str, asked: list[str], context: str, *, skip_first_word: bool = True
) -> list[tuple[int, int, str]]:
    """Names in `text` that could answer a who/which question: not asked about, not generic,
    and a sentence-initial single word only if it is capitalised mid-sentence in `context`
    ("Nvidia said" yes, "Electricity for the site" no)."""
    asked_words = {w for e in asked for w in e.lower().replace("-", " ").split()}
    names = []
    for start, end, name in find_entities(text, skip_first=False):
        if name in GENERIC_NAMES or NOT_ANSWER_NAME_RE.match(name) or DATELINE_RE.match(name):
            continue
        if UNIT_NAME_RE.match(name):
            continue
        if re.search(r"-[a-z]", name):  # "AI-powered", "Amsterdam-based": adjectives
            continue
        if asked_words & set(name.lower().replace("-", " ").split()):
            continue
        lone_first_word = start == 0 and " " not in name and skip_first_word
        if lone_first_word and not re.search(rf"[a-z,;:]\s+{re.escape(name)}\b", context):
            continue
        names.append((start, end, name))
    return names


def is_generic(name: str) -> bool:
    """Words that look like names but say nothing about which source ("GPU", "AI", "GW")."""
    return name in GENERIC_NAMES or bool(UNIT_NAME_RE.match(name))


def _named_word(text: str, word: str) -> bool:
    """A question's first word is a name only when it looks like one ("Google's", "xAI",
    "AMD"); "Adding up ..." or "Roughly how many ..." are not."""
    return bool(
        re.match(rf"{re.escape(word)}(?:'s|’s)\b", text)
        or re.fullmatch(r"[A-Z0-9]{2,}|[a-z]+[A-Z]\w*|\w*\d\w*", word)
    )


@dataclass
class QuestionAnalysis:
    text: str
    qtype: str  # number | date | entity | yes_no | other
    wanted_kinds: set[str] = field(default_factory=set)  # quantity kinds for number questions
    count_noun: str | None = None
    terms: list[str] = field(default_factory=list)  # canonical content stems
    entities: list[str] = field(default_factory=list)
    time: TimeFrame = field(default_factory=lambda: TimeFrame(years=[]))
    comparison: str | None = None  # "max" | "min" | "sum" | "difference" | "ratio"
    # the attribute asked about ("price", "capacity", "funding"), as canonical stems: a figure
    # only answers the question when its sentence speaks of that attribute
    attributes: set[str] = field(default_factory=set)
    # bare numbers that identify what is asked about ("phase 2", "PASI 90", "Unit 1"): a source
    # that lacks them is about something else
    required_numbers: list[str] = field(default_factory=list)
    answer_noun: str | None = None  # "utility" in "which utility ...": what the answer is
    past: bool = False  # "did", "was": the event has happened, so its report date may answer


YES_NO_START = re.compile(
    r"^(is|are|was|were|does|do|did|will|has|have|had|can|could|should|would)\b", re.I
)
DATE_START = re.compile(
    r"(?:^|, )(?:(?:on|in|by|from|at|during)\s+)?(when|by when|how soon|how long until)\b|"
    r"\b(what|which) (date|year|month|day|quarter)\b",
    re.I,
)
ENTITY_START = re.compile(
    r"(^who|^whom|^whose|^where|\bwhich (?:\w+ )?(?:company|companies|firm|firms|investor|investors|"
    r"vendor|vendors|utility|partner|startup|start-up|lab|bank|chipmaker|developer)\b|"
    r"^(which (company|companies|firm|firms|organi[sz]ation|startup|lab|provider|"
    r"cloud|chipmaker|partner|investor|investors|vendor|model|chip|country|city|state|bank|"
    r"utility|carrier|automaker|one)|what (company|firm|organi[sz]ation|startup|lab|chip|model|"
    r"is the name|city|country|state)|name the)\b)",
    re.I,
)
NUMBER_CUE = re.compile(
    r"\b(how (much|many|large|big|long)|what (is|was|were|are) the (size|value|amount|price|cost|"
    r"valuation|capacity|total|number|share|percentage)|what (size|amount|price|percentage|share|"
    r"valuation|capacity)|how much|how many|total|combined|by how much)\b",
    re.I,
)
COMPARISON_CUES = [
    (
        "difference",
        re.compile(
            r"\b(by how much|how much (more|less|larger|bigger|smaller)|difference|gap)\b", re.I
        ),
    ),
    (
        "sum",
        re.compile(
            r"\b(in total|combined|together|total of|altogether|sum|add(?:s|ing|ed)? up)\b", re.I
        ),
    ),
    ("ratio", re.compile(r"\b(how many times|ratio|times (larger|bigger|more))\b", re.I)),
    (
        "max",
        re.compile(
            r"\b(which|who)\b.*\b(bigger|larger|more|most|largest|biggest|higher|greater)\b", re.I
        ),
    ),
    ("min", re.compile(r"\b(which|who)\b.*\b(smaller|less|fewer|lowest|smallest|cheaper)\b", re.I)),
]


TERSE_DATE_RE = re.compile(
    r"\b(timing|date|deadline|start|starts|when|year|schedule|launch date)\b", re.I
)
TERSE_ENTITY_RE = re.compile(
    r"\b(who|which|developer|ceo|cto|cfo|founder|lead investor|partner|supplier|buyer|name)\b",
    re.I,
)
TERSE_NUMBER_WORDS = frozenset(
    "amount size nameplate total number count mw gw mwh gwh kw tokens users customers".split()
)


NUMBER_TOKEN = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"


def identifying_numbers(text: str) -> list[str]:
    """Numbers in a question that are labels, not amounts or years."""
    from rag.quantities import find_quantities

    amounts = [
        (q.start, q.end)
        for q in find_quantities(text)
        if q.kind != "count"
        or re.search(r"(?i)\b(million|billion|thousand|trillion|bn|k)\b", q.text)
    ]
    found = []
    for match in re.finditer(rf"(?<![\w.,$€£])(?:{NUMBER_TOKEN})(?![\w.%])", text):
        if re.fullmatch(r"(?:19|20)\d\d", match.group(0)):
            continue
        if any(start <= match.start() < end for start, end in amounts):
            continue
        found.append(match.group(0))
    return found


REPORT_VERB_RE = re.compile(
    r"\b(announc|unveil|publish|report|releas|launch|introduc|debut|come out|came out|sign)", re.I
)


def asks_report_date(analysis: QuestionAnalysis) -> bool:
    """'When was X announced / did X come out': the source's publication date answers it."""
    return analysis.qtype == "date" and bool(REPORT_VERB_RE.search(analysis.text) or analysis.past)


def _unnamed_stems(words: list[str], entities: list[str]) -> set[str]:
    """Stems of the words outside names: "Power" in "Acme Power" asks for no amount."""
    named = {w.lower() for e in entities for w in e.split()}
    return {stem(w) for w in words if w not in named}


def counted_noun(words: list[str]) -> str | None:
    """The counted thing after "how many": "GB200 chips" -> chips, "GPUs is" -> GPUs."""
    for word in words:
        if word.lower() in STOPWORDS:
            return None
        if re.fullmatch(r"[a-z]+|[A-Z]{2,}s", word):
            return word
    return None


def terse_type(text: str, stems: set[str]) -> str:
    """The answer type of a keyword query with no question word."""
    amount_cues = {stem(w) for w in CURRENCY_CUES | POWER_CUES | PERCENT_CUES | TERSE_NUMBER_WORDS}
    if TERSE_ENTITY_RE.search(text):
        return "entity"
    if TERSE_DATE_RE.search(text):
        return "date"
    if stems & amount_cues:
        return "number"
    return "other"


def analyse(question: str) -> QuestionAnalysis:
    text = " ".join(question.split())
    words = [w.lower() for w in WORD_RE.findall(text)]
    stems = {stem(w) for w in words}
    analysis = QuestionAnalysis(text=text, qtype="other")
    analysis.entities = [
        e
        for start, _, e in find_entities(text)
        if not is_generic(e) and not (start == 0 and " " not in e and not _named_word(text, e))
    ]
    analysis.terms = content_stems(
        " ".join(w for w in text.split() if w.lower() not in QUESTION_WORDS)
    )
    analysis.time = question_time_frame(text)
    noun = re.search(r"\b(?:which|what)\s+(\w+)", text, re.I)
    if noun and noun.group(1).lower() not in STOPWORDS | {
        "year",
        "date",
        "month",
        "day",
        "quarter",
    }:
        analysis.answer_noun = canonical(stem(noun.group(1)))
    analysis.required_numbers = identifying_numbers(text)
    analysis.past = bool(re.search(r"\b(did|was|were|had)\b", text, re.I))
    for name, pattern in COMPARISON_CUES:
        if pattern.search(text):
            analysis.comparison = name
            break
    if DATE_START.search(text):
        analysis.qtype = "date"
    elif NUMBER_CUE.search(text) or re.search(
        r"\b(in (tokens|dollars|gigawatts|megawatts|percent)|what(?:'s| is| was) the "
        r"(longest|largest|biggest|highest|lowest|maximum|minimum|top|peak))\b",
        text,
        re.I,
    ):
        analysis.qtype = "number"
    elif re.match(r"^what\b", text, re.I) and _unnamed_stems(words, analysis.entities) & {
        stem(w) for w in CURRENCY_CUES | POWER_CUES | PERCENT_CUES
    }:
        analysis.qtype = "number"  # "What is Meta's campus capacity?"
    elif ENTITY_START.search(text):
        analysis.qtype = "entity"
    elif YES_NO_START.search(text):
        analysis.qtype = "yes_no"
    elif not re.match(r"^(what|how|why|where|tell|describe|explain)\b", text, re.I):
        analysis.qtype = terse_type(
            text, _unnamed_stems(words, analysis.entities)
        )  # search-box style: "helmsway capacity now"
    if analysis.qtype in ("number", "yes_no") or analysis.comparison:
        # cue words inside names ("Kairos Power") say nothing about the amount asked for
        named = {w.lower() for e in analysis.entities for w in e.split()}
        words = [w for w in words if w not in named]
        stems = {stem(w) for w in words}
        if stems & {stem(w) for w in CURRENCY_CUES} or "$" in text:
            analysis.wanted_kinds.add("currency")
        if stems & {stem(w) for w in POWER_CUES}:
            analysis.wanted_kinds.add("power")
        if stems & {stem(w) for w in PERCENT_CUES} or "%" in text:
            analysis.wanted_kinds.add("percent")
        if stems & {stem(w) for w in DATA_CUES}:
            analysis.wanted_kinds.add("data")
        cues = (CURRENCY_CUES | POWER_CUES | PERCENT_CUES) - GENERIC_AMOUNT_WORDS
        cue_stems = {stem(c) for c in cues}
        analysis.attributes = {canonical(stem(w)) for w in words if stem(w) in cue_stems}
        # the counted noun: "how many GB200 chips" counts chips
        many = re.search(r"\bhow many\s+((?:[\w-]+\s*){1,3})", text, re.I)
        counted = counted_noun(many.group(1).split()) if many else None
        if counted:
            analysis.count_noun = stem(counted)
            analysis.wanted_kinds.add("count")
        elif re.search(r"\b(in tokens|context window|context length)\b", text, re.I):
            analysis.count_noun = stem("tokens")
            analysis.wanted_kinds.add("count")
    return analysis
