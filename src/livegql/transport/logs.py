"""What the ASGI server logs about a client's mistakes: a client must not be able to fill the error log.

uvicorn's default WebSocket protocol (websockets-sansio) answers a text frame that is not UTF-8 with 1007, as
RFC 6455 says, but logs it at ERROR with a traceback first, before the app hears of it: any client could write
tracebacks into the server's log at will. It is the client's error, so it is logged at INFO, without traceback.
"""

import logging

INVALID_UTF8 = "Invalid UTF-8 sequence received from client."
_UVICORN = "uvicorn.error"


class ClientErrorsAtInfo(logging.Filter):
    """Demotes the server's records of a client's malformed input to INFO, without their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.msg == INVALID_UTF8:
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.exc_info = record.exc_text = None
        return True


def demote_client_errors() -> None:
    """Install the filter on uvicorn's error logger, once (a logging config keeps a logger's filters)."""
    logger = logging.getLogger(_UVICORN)
    if not any(isinstance(existing, ClientErrorsAtInfo) for existing in logger.filters):
        logger.addFilter(ClientErrorsAtInfo())
