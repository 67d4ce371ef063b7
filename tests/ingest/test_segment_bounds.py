"""Segmentation of very long lines: windows cover the line exactly, cut after sentence ends,
and give the same sentences as segmenting the whole line at once."""

from __future__ import annotations

from ingest.segment import LINE_WINDOW, _line_spans, line_windows, sentence_spans
from tests.reliability.hostile import one_line_record


def test_windows_cover_the_line_and_cut_after_sentence_ends() -> None:
    line = one_line_record(60_000)["text"]
    windows = list(line_windows(line))
    assert windows[0][0] == 0 and windows[-1][1] == len(line)
    assert all(end - start <= LINE_WINDOW for start, end in windows)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    assert all(line[end - 2 : end] == ". " for _, end in windows[:-1])


def test_a_line_without_spaces_is_cut_hard() -> None:
    line = "x" * (3 * LINE_WINDOW + 7)
    assert [end - start for start, end in line_windows(line)] == [LINE_WINDOW] * 3 + [7]


def test_windowed_sentences_equal_whole_line_sentences() -> None:
    line = one_line_record(3 * LINE_WINDOW, seed=7)["text"]
    whole = list(_line_spans(line))
    windowed = sentence_spans(line, max_chars=10_000)
    assert windowed == whole
    assert all(line[start:end].endswith(".") for start, end in windowed)
