"""Logging setup for `serve` (uvicorn's log_config) and `watch`: text, or JSON lines with
NEWSDESK_LOG_FORMAT=json, each line carrying the request id of the request it belongs to."""

from __future__ import annotations

import logging
from typing import Any

from api.observe import REQUEST_ID

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# python-json-logger adds every `extra=` field (route, status, duration_ms, ...) by itself.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI copy of the message
        return True


def logging_config(log_format: str, level: str = "info") -> dict[str, Any]:
    """A dictConfig for uvicorn's loggers and ours. In JSON mode our access line (with route,
    status, timings and request id) replaces uvicorn's own access log."""
    as_json = log_format == "json"
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "timestamp": "time",  # ISO 8601, UTC
            "rename_fields": {"levelname": "level", "name": "logger"},
        }
        if as_json
        else {"format": TEXT_FORMAT}
    )
    uvicorn_access = (
        {"handlers": [], "level": "CRITICAL", "propagate": False}
        if as_json
        else {"handlers": ["uvicorn_access"], "level": level.upper(), "propagate": False}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "newsdesk": formatter,
            "uvicorn_access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
            },
        },
        "handlers": {
            "newsdesk": {
                "class": "logging.StreamHandler",
                "formatter": "newsdesk",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            },
            "uvicorn_access": {
                "class": "logging.StreamHandler",
                "formatter": "uvicorn_access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["newsdesk"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": uvicorn_access,
            "newsdesk": {"handlers": ["newsdesk"], "level": level.upper(), "propagate": False},
            # text mode: uvicorn's access line already says it; JSON mode: ours says more
            "newsdesk.access": {"level": level.upper() if as_json else "WARNING"},
        },
    }
