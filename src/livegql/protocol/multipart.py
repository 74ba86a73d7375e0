"""Apollo's multipart HTTP protocol for GraphQL subscriptions: the body framing for `HTTPStreamProtocol` and
the Accept test that selects it. Each part is one JSON object; `{}` is a heartbeat, `payload` an event.
"""

import re
from typing import Final

from livegql.core.json import dumps

__all__ = ["MULTIPART_CONTENT_TYPE", "MultipartFraming", "accepts_multipart_subscription"]

BOUNDARY: Final = "graphql"
SUBSCRIPTION_SPEC: Final = "1.0"
MULTIPART_CONTENT_TYPE: Final = f'multipart/mixed;boundary="{BOUNDARY}";subscriptionSpec={SUBSCRIPTION_SPEC}'

# RFC 2046 section 5.1.1: a delimiter is CRLF "--" boundary; part headers follow on the next line, and the
# close-delimiter adds "--". Clients (Apollo's, for one) hand a part over only once the delimiter after it has
# arrived, so every part is written with the delimiter that ends it: the opening writes the first delimiter,
# each part is headers + JSON + its closing delimiter, and the end turns the last delimiter into the close.
_DELIMITER: Final = f"\r\n--{BOUNDARY}"
_PART_HEAD: Final = "\r\ncontent-type: application/json\r\n\r\n"
_END: Final = "--\r\n"
_HEARTBEAT: Final = _PART_HEAD + "{}" + _DELIMITER
# RFC 7231 section 5.3.1: a qvalue is 0 to 1 with at most three decimals.
_QVALUE: Final = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)")
_QUOTED_PAIR: Final = re.compile(r"\\(.)")


class MultipartFraming:
    """One subscription's events as the parts of a `multipart/mixed` body."""

    content_type = MULTIPART_CONTENT_TYPE

    def opening(self) -> str:
        # An event may be long in coming: the client should see the response, and a part, at once.
        return _DELIMITER + _HEARTBEAT

    def next(self, payload_json: str) -> str:
        return _PART_HEAD + '{"payload":' + payload_json + "}" + _DELIMITER

    def error(self, errors_json: str) -> str:
        # The operation's GraphQL errors travel inside `payload`, where the client reports them as its result's.
        return _PART_HEAD + '{"payload":{"errors":' + errors_json + "}}" + _DELIMITER

    def complete(self) -> str:
        return _END

    def heartbeat(self) -> str:
        return _HEARTBEAT

    def abort(self, reason: str) -> str:
        """A top-level `errors` with a null `payload` is the protocol's fatal transport error; the end boundary
        follows so the body stays well-formed. Without a reason, only the end boundary is written."""
        if not reason:
            return _END
        fatal = '{"payload":null,"errors":[{"message":' + dumps(reason) + "}]}"
        return _PART_HEAD + fatal + _DELIMITER + _END


def accepts_multipart_subscription(accept: str | None) -> bool:
    """True when some Accept range is `multipart/mixed` with `subscriptionSpec=1.0` (quoted or not) and q > 0.

    Parameters are read wherever they stand, even after q, as clients are not strict about their order.
    """
    for media_range in (accept or "").split(","):
        media_type, *raw_parameters = media_range.split(";")
        if media_type.strip().lower() != "multipart/mixed":
            continue
        parameters = _parameters(raw_parameters)
        if parameters.get("subscriptionspec") == SUBSCRIPTION_SPEC and _quality(parameters.get("q")) > 0:
            return True
    return False


def _parameters(raw_parameters: list[str]) -> dict[str, str]:
    """Names lowercased (they are case-insensitive), values unquoted (RFC 7230 quoted-string)."""
    parameters: dict[str, str] = {}
    for raw in raw_parameters:
        name, _, value = raw.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        parameters[name.strip().lower()] = value
    return parameters


def _quality(value: str | None) -> float:
    """The range's q (1 when absent); a malformed q makes the range say nothing, as 0 does."""
    if value is None:
        return 1.0
    return float(value) if _QVALUE.fullmatch(value) else 0.0
