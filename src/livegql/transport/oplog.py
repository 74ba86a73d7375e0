"""Log records about one operation of one session, carrying `connection_id`, `transport` and `operation_id` as
record attributes (`extra=`), so a structured formatter (core/logs.py) can index them."""

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livegql.transport.session import Session

logger = logging.getLogger("livegql.operations")


def _extra(session: "Session", operation_id: str, kind: str) -> dict[str, str]:
    return {**session.log_extra, "operation_id": operation_id, "operation_kind": kind}


def operation_started(session: "Session", operation_id: str, kind: str) -> None:
    # Checked first: building the extra dict for every operation would cost even with DEBUG off.
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("Operation %s started (%s)", operation_id, kind, extra=_extra(session, operation_id, kind))


def operation_failed(session: "Session", operation_id: str, kind: str) -> None:
    """A bug below graphql-core's own error handling ended the operation: logged with its traceback."""
    logger.exception("Operation %s failed", operation_id, extra=_extra(session, operation_id, kind))
