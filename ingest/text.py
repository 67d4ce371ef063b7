"""Bytes -> text (BOMs, UTF-8, legacy encodings, binary refusal) and canonical text normalization."""

from __future__ import annotations

import re
import unicodedata

from ingest.errors import IngestError

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_LIST_OR_HEADING = re.compile(r"^\s*(?:[-*+•▪◦]\s|\d{1,3}[.)]\s|#{1,6}\s|\|)")
_TERMINAL = ".!?:;\"'”’)»"
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_bytes(data: bytes, *, name: str = "input") -> str:
    """Decode a text file: honour a BOM, prefer UTF-8, else let charset-normalizer decide."""
    if not data.strip():
        raise IngestError(f"{name}: empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise IngestError(f"{name}: invalid {encoding} text ({error.reason})") from error
    if b"\x00" in data[:8192]:
        raise IngestError(f"{name}: binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(data) - 3:  # a multi-byte character cut off by truncation
            return data[: error.start].decode("utf-8")
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise IngestError(f"{name}: binary or undecodable content")
    # Short texts often tie between code pages; Western announcements are overwhelmingly cp1252.
    least_chaos = min(match.chaos for match in matches)
    tied = [match for match in matches if match.chaos == least_chaos]
    best = next((m for m in tied if m.encoding in _WESTERN), tied[0])
    text = str(best)
    if len(_CONTROL.findall(text)) > max(8, len(text) // 100):
        raise IngestError(f"{name}: binary content, not text")
    return text


def _joins_next(line: str, following: str, width: int) -> bool:
    """Whether a line break inside a paragraph is hard wrapping (join) or a real break.

    Hand-written: no library unwraps plain text; wrapped lines run close to the block's
    widest line, while titles, datelines and headings are short and unpunctuated."""
    if not line or not following or _LIST_OR_HEADING.match(following) or line.startswith("#"):
        return False
    if following[0].islower():
        return True
    if width < 50 or len(line) < 0.6 * width:
        return False
    following_is_heading = len(following) < 0.6 * width and following[-1] not in _TERMINAL
    return not following_is_heading


def normalize_text(text: str) -> str:
    """The canonical document text: NFC, one space between words, wrapped lines joined,
    paragraphs kept as blank-line separated blocks. Every offset indexes into this string."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = _CONTROL.sub(" ", text.replace("\t", " "))
    text = re.sub(r"[ \u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+", " ", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        width = max(len(line) for line in lines)
        merged = [lines[0]]
        for previous, line in zip(lines, lines[1:]):
            if _joins_next(previous, line, width):
                merged[-1] = f"{merged[-1]} {line}"
            else:
                merged.append(line)
        paragraphs.append("\n".join(merged))
    return "\n\n".join(paragraphs)
