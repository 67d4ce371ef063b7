"""A generated announcements corpus (JSONL records of DESIGN.md) for the scale benchmark:
companies, amounts with units, dates, deterministic for a seed.

`python -m bench.gen_corpus N [--seed S] [--out FILE]`; `corpus_file(n)` caches under bench/out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import OUT_DIR

SYLLABLES = ("nor", "vex", "al", "ti", "ra", "quo", "mer", "lin", "zen", "ox", "bri", "cal",
             "dor", "fen", "gal", "hex", "ion", "jar", "kel", "lum", "mon", "nav", "or", "pyr",
             "sol", "tor", "ul", "ver", "wex", "yar")  # fmt: skip
SUFFIXES = ("Energy", "Systems", "Therapeutics", "Robotics", "Networks", "Motors", "Grid",
            "Semiconductor", "Foods", "Logistics", "Bank", "Aerospace", "Mining", "Cloud")  # fmt: skip
CITIES = ("Austin", "Lyon", "Osaka", "Leeds", "Porto", "Denver", "Malmo", "Pune", "Perth", "Accra")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip


def company(rng: random.Random) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return f"{name.capitalize()} {rng.choice(SUFFIXES)}"


def money(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"${rng.randint(2, 950)} million"
    return f"${rng.randint(1, 40)}.{rng.randint(0, 9)} billion"


def quantity(rng: random.Random) -> str:
    unit = rng.choice(("megawatts", "gigawatts", "tonnes a year", "vehicles", "employees",
                       "square metres", "petabytes", "homes"))  # fmt: skip
    return f"{rng.randint(3, 900):,} {unit}"


def later(rng: random.Random, published: dt.date) -> str:
    when = published + dt.timedelta(days=rng.randint(60, 900))
    return rng.choice((f"by {MONTHS[when.month - 1]} {when.year}",
                       f"in the {('first', 'second', 'third', 'fourth')[(when.month - 1) // 3]} quarter of {when.year}",
                       f"before the end of {when.year}"))  # fmt: skip


def record(rng: random.Random, index: int, start: dt.date) -> dict[str, Any]:
    published = start + dt.timedelta(days=rng.randint(0, 1400))
    issuer, partner = company(rng), company(rng)
    city, amount, size = rng.choice(CITIES), money(rng), quantity(rng)
    kind = rng.randrange(4)
    if kind == 0:
        title = f"{issuer} raises {amount}"
        first = f"{issuer} said it had raised {amount} in a round led by {partner}."
    elif kind == 1:
        title = f"{issuer} signs supply deal with {partner}"
        first = f"{issuer} signed a supply agreement with {partner} worth {amount}."
    elif kind == 2:
        title = f"{issuer} to acquire {partner}"
        first = f"{issuer} agreed to buy {partner} for {amount} in cash and stock."
    else:
        title = f"{issuer} opens site in {city}"
        first = f"{issuer} will open a new site in {city}, an investment of {amount}."
    sentences = [
        first,
        f"The project is expected to reach {size} {later(rng, published)}.",
        f"Revenue rose {rng.randint(2, 80)}% to {money(rng)} in {published.year - 1}, "
        f"the company reported on {MONTHS[published.month - 1]} {published.day}.",
    ]
    if rng.random() < 0.5:
        sentences.append(f"Chief executive {rng.choice(SYLLABLES).capitalize()} "
                         f"{company(rng).split()[0]} called the plan a turning point for {city}.")  # fmt: skip
    return {
        "id": f"gen-{index:06d}",
        "title": title,
        "url": f"https://news.example.com/{index:06d}",
        "published": published.isoformat(),
        "text": " ".join(sentences),
    }


def records(n: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = dt.date(2022, 1, 3)
    for index in range(n):
        yield record(rng, index, start)


def questions_for(path: Path, n: int, *, seed: int = 11) -> list[str]:
    """Varied questions about facts in the generated records (the first n distinct)."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    picked = rng.sample(rows, min(n, len(rows)))
    templates = (
        "How much is involved in the announcement '{title}'?",
        "When was it announced that {title}?",
        "What capacity or size will the project behind '{title}' reach?",
        "By how much did revenue rise according to '{title}'?",
    )
    return [templates[i % len(templates)].format(title=r["title"]) for i, r in enumerate(picked)]


def write(path: Path, n: int, *, seed: int = 7) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with partial.open("w", encoding="utf-8") as handle:
        for item in records(n, seed=seed):
            handle.write(json.dumps(item) + "\n")
    partial.replace(path)
    return path


def corpus_file(n: int, *, seed: int = 7) -> Path:
    """bench/out/corpus/gen-N-sS/records.jsonl, generated once and reused."""
    path = OUT_DIR / "corpus" / f"gen-{n}-s{seed}" / "records.jsonl"
    return path if path.exists() else write(path, n, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    path = (
        write(args.out, args.n, seed=args.seed) if args.out else corpus_file(args.n, seed=args.seed)
    )
    print(path)


if __name__ == "__main__":
    main()
