"""`JSONFormatter`: one JSON object per log record, with livegql's ids (`connection_id`, `operation_id`, ...) as
fields, for log pipelines that index them. Plug it into a logging config:
`{"formatters": {"json": {"()": "livegql.core.logs.JSONFormatter"}}}`."""

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

FIELDS = ("connection_id", "transport", "operation_id", "operation_kind")
"""The `extra=` attributes livegql's records carry, copied into the JSON object when a record has them."""


class JSONFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ids..., "exception"?}`; `fields` adds attributes of your own."""

    def __init__(self, fields: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._fields = FIELDS + tuple(fields)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self._fields:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()  # an app's own extra need not be JSON
