"""Source-watching fixtures: the loopback feed server, settings with short intervals, and the
real model wrapped so a test can see exactly which texts were embedded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from ingest.poll import SourcePoller
from rag.config import Settings
from rag.sources import SourceRegistry
from rag.store import ChromaStore
from tests.sources.feedserver import Entry, FeedServer, feed_server

# Written for these tests: short dated announcements with figures a question can ask about.
ENTRIES = [
    Entry("tidewater-ferry", "Tidewater orders two electric ferries",
          "Tidewater Lines ordered two electric ferries from Baltic Yards. "
          "Each ferry carries 300 passengers and enters service in 2027."),
    Entry("copperleaf-hires", "Copperleaf Bank hires 80 engineers",
          "Copperleaf Bank will hire 80 software engineers in Leeds this year. "
          "The bank is moving its payments platform to the cloud."),
    Entry("granite-kiln", "Granite Works fires a hydrogen kiln",
          "Granite Works started a hydrogen-fired kiln at its plant in Brescia. "
          "The kiln cuts the plant's emissions by 40 percent."),
]  # fmt: skip
NEW_ENTRY = Entry(
    "meridian-reactor",
    "Meridian Power picks Kestrel Bay for a reactor",
    "Meridian Power chose Kestrel Bay for its first small modular reactor. "
    "The reactor will deliver 77 megawatts from 2031.",
    published="Tue, 03 Mar 2026 09:00:00 GMT",
)
NEW_QUESTION = "How many megawatts will the Meridian Power reactor deliver?"


class RecordingEmbedder:
    """The real model, remembering every text it was asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts, show_progress=show_progress)  # type: ignore[no-any-return]


def watch_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "allow_private_urls": True,  # the feed server is on loopback
        "fetch_timeout_s": 0.5,
        "source_stall_after": 3,
        "source_host_min_interval_s": 0.0,
        "watch_tick_s": 0.1,
        "watch_lease_s": 2.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Desk:
    settings: Settings
    store: ChromaStore
    registry: SourceRegistry
    embedder: RecordingEmbedder
    poller: SourcePoller


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def make_desk(settings: Settings, embedder: Any) -> Desk:
    store = ChromaStore.from_settings(settings)
    registry = SourceRegistry(store)
    recording = RecordingEmbedder(embedder)
    poller = SourcePoller(settings, registry, Ingestor(settings, store, recording))
    return Desk(settings, store, registry, recording, poller)


@pytest.fixture
def desk(tmp_path: Path, embedder: Any) -> Desk:
    return make_desk(watch_settings(tmp_path / "data"), embedder)
