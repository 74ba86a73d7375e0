"""GraphQL over `multipart/mixed` HTTP responses, each part one JSON object, framed for `HTTPStreamProtocol`:
Apollo's subscription protocol (`{}` a heartbeat, `payload` an event) and incremental delivery (@defer,
@stream: each part a raw result); and the Accept tests that select them.
"""

import re
from typing import Final

from livegql.core.json import dumps, loads
from livegql.protocol.incremental import IncrementalSpec, Legacy2022Translator

__all__ = [
    "MULTIPART_CONTENT_TYPE",
    "IncrementalMultipartFraming",
    "MultipartFraming",
    "accepts_multipart_subscription",
    "incremental_multipart_spec",
]

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
# Parameters that name the format a multipart range asks for; a range with none of them is plain.
_SPEC_PARAMETERS: Final = frozenset({"subscriptionspec", "deferspec", "incrementalspec"})


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


class IncrementalMultipartFraming:
    """One query's or mutation's results (an incremental response's payloads, or a single result) as the parts
    of a `multipart/mixed` body, in the format `spec` names.

    Parts are the results themselves, with no `payload` wrapper. graphql-core 3.3 writes INCREMENTAL_V0_2,
    which goes out as is; for DEFER_20220824 each result is parsed, translated and encoded again.
    """

    def __init__(self, spec: IncrementalSpec) -> None:
        self.spec = spec
        self.content_type = f'multipart/mixed;boundary="{BOUNDARY}";{spec.value}'
        self._translator = Legacy2022Translator() if spec is IncrementalSpec.DEFER_20220824 else None
        self._results_sent = False

    def opening(self) -> str:
        # The headers go out at once, and no part: a client reads any JSON part as a result (urql fails on `{}`).
        return _DELIMITER

    def next(self, payload_json: str) -> str:
        """A result's part, or "" for a payload the format has nothing to say about."""
        if self._translator is not None:
            payload = loads(payload_json)
            translated = self._translator.translate(payload)
            if translated is None:
                return ""
            if translated is not payload:
                payload_json = dumps(translated)
        self._results_sent = True
        return _PART_HEAD + payload_json + _DELIMITER

    def error(self, errors_json: str) -> str:
        return self._errors_part(errors_json)

    def complete(self) -> str:
        return _END

    def heartbeat(self) -> str:
        # The incremental delivery RFC (graphql-over-http rfcs/IncrementalDelivery.md) has no heartbeat part, and
        # a client takes any JSON part for a result.
        return ""

    def abort(self, reason: str) -> str:
        """Errors as the last result, then the end boundary; without a reason, only the end boundary."""
        if not reason:
            return _END
        return self._errors_part(dumps([{"message": reason}])) + _END

    def _errors_part(self, errors_json: str) -> str:
        # After a result of an incremental response, `hasNext: false` makes the errors its last payload, which
        # clients merge into what they have; before any, a plain error result.
        end = ',"hasNext":false}' if self._results_sent else "}"
        return _PART_HEAD + '{"errors":' + errors_json + end + _DELIMITER


def incremental_multipart_spec(accept: str | None) -> IncrementalSpec | None:
    """The incremental delivery format the Accept header's `multipart/mixed` ranges (q > 0) ask for, if any.

    `incrementalSpec=v0.2` and `deferSpec=20220824` name theirs. A plain `multipart/mixed` (urql's, which reads
    both formats but places streamed items right only by the 2022 format's indexed paths) gets the 2022 format.
    A range naming another format (`subscriptionSpec`, an unknown version) asks for none. Of several, the
    highest q wins, and on a tie INCREMENTAL_V0_2, which goes out untranslated.
    """
    best: tuple[tuple[float, bool], IncrementalSpec] | None = None
    for media_range in (accept or "").split(","):
        media_type, *raw_parameters = media_range.split(";")
        if media_type.strip().lower() != "multipart/mixed":
            continue
        parameters = _parameters(raw_parameters)
        spec = _incremental_spec(parameters)
        quality = _quality(parameters.get("q"))
        if spec is None or quality <= 0:
            continue
        rank = (quality, spec is IncrementalSpec.INCREMENTAL_V0_2)
        if best is None or rank > best[0]:
            best = (rank, spec)
    return None if best is None else best[1]


def _incremental_spec(parameters: dict[str, str]) -> IncrementalSpec | None:
    if parameters.get("incrementalspec") == "v0.2":
        return IncrementalSpec.INCREMENTAL_V0_2
    if parameters.get("deferspec") == "20220824" or _SPEC_PARAMETERS.isdisjoint(parameters):
        return IncrementalSpec.DEFER_20220824
    return None


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
