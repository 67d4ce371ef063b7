"""Intervals as people write them: `5s`, `15m`, `1h`, `1d`, `1h30m`, or plain seconds."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 366 * 86400.0


def parse_interval(text: str | float | int) -> float:
    """Seconds in `text`; raises ValueError naming the accepted forms."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", value):
            seconds = float(value)
        elif value and _PART.sub("", value) == "":
            seconds = sum(float(n) * UNITS[unit] for n, unit in _PART.findall(value))
        else:
            raise ValueError(f"interval {text!r}: write it like 5s, 15m, 1h, 1d or 1h30m")
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValueError(
            f"interval {text!r}: must be between {MIN_INTERVAL_S:g} s and {MAX_INTERVAL_S / 86400:g} days"
        )
    return seconds


def format_interval(seconds: float) -> str:
    """The shortest exact spelling: 900 -> '15m', 5400 -> '1h30m', 7.5 -> '7.5s'."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    rest, parts = int(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"
