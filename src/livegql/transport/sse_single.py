"""graphql-sse's single connection mode: one event stream per client carries every operation's results.

PUT (admitted by `on_connect`, with the request's headers) reserves a stream and answers its token, drawn
from `secrets`. A GET with the token opens that stream; a second GET on the same token is 409. POSTs with the
token start operations named by `extensions.operationId` (202), DELETEs with `?operationId=` stop one (200).
The token is the client's ticket, as the protocol intends: a browser's EventSource cannot send headers, so
the PUT is where credentials are checked, and its context serves every operation on the stream. A token is
used once: the stream's end forgets it, and an unused reservation expires after `sse_reservation_timeout`.

Reservations live in the process that made them: behind several workers, route one client to one process
(sticky sessions) or use the distinct connections mode, which needs no state between requests.
"""

import asyncio
import secrets
from dataclasses import dataclass
from http import HTTPStatus

from starlette.requests import HTTPConnection, Request
from starlette.types import Receive, Send

from livegql.protocol import SubscribePayload
from livegql.protocol.http import BadRequest, MediaType, check_query_size
from livegql.protocol.sse import OperationConflict, SSEFraming, SSESingleProtocol, accepts_event_stream
from livegql.protocol.transport_ws import State
from livegql.transport.answer import Answer, empty_answer, error_answer, text_answer
from livegql.transport.auth import admit_request
from livegql.transport.context import Admission, ContextValue
from livegql.transport.http_request import read_params
from livegql.transport.origin import check_origin
from livegql.transport.runtime import Runtime
from livegql.transport.shutdown import SHUTTING_DOWN, draining
from livegql.transport.stream import HTTPStreamSession

TOKEN_HEADER = "x-graphql-event-stream-token"
_TOKEN_HEADER_BYTES = TOKEN_HEADER.encode()
TOKEN_PARAM = "token"
OPERATION_ID = "operationId"
ALLOW = "GET, POST, PUT, DELETE"
_TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG: not guessable, so the token can be the ticket


@dataclass(slots=True)
class _Reservation:
    request: HTTPConnection  # the admitted PUT: what the operations' context says about who is asking
    context: ContextValue
    grant: Admission  # the PUT's admission: the stream's expiry and principals
    expiry: asyncio.TimerHandle | None = None
    session: HTTPStreamSession | None = None


class SingleConnectionStreams:
    """The reservations and open streams of one app in this process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._reservations: dict[str, _Reservation] = {}

    def __len__(self) -> int:
        return len(self._reservations)

    def claims(self, request: Request) -> bool:
        """A single connection mode request: a PUT or DELETE, or anything carrying a stream token.

        Every GraphQL request asks, so this reads the raw ASGI scope (header names are lowercase bytes there)
        rather than building Starlette's parsed headers and query parameters.
        """
        scope = request.scope
        if scope["method"] in ("PUT", "DELETE"):
            return True
        if b"token=" in scope.get("query_string", b"") and request.query_params.get(TOKEN_PARAM):
            return True
        return any(name == _TOKEN_HEADER_BYTES for name, _ in scope["headers"])

    async def serve(self, request: Request, send: Send, receive: Receive) -> None:
        try:
            answer = await self._dispatch(request, send, receive)
        except BadRequest as problem:
            answer = error_answer(problem.status, MediaType.JSON, problem.message, problem.allow)
        if answer is not None:
            await answer.send(send)

    async def _dispatch(self, request: Request, send: Send, receive: Receive) -> Answer | None:
        if request.method in ("PUT", "GET"):
            # The reservation and the stream are what a foreign page must not reach; a token cannot be guessed.
            check_origin(request.scope, self.runtime.settings)
        if request.method == "PUT":
            return await self._reserve(request)
        token = _token(request)
        if token is None:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"The {TOKEN_HEADER} header or ?{TOKEN_PARAM}= is missing")
        reservation = self._reservations.get(token)
        if reservation is None:
            raise BadRequest(HTTPStatus.NOT_FOUND, "Stream not found")
        if request.method == "GET":
            await self._open(token, reservation, request, send, receive)
            return None
        if request.method == "POST":
            return await self._start(reservation, request)
        if request.method == "DELETE":
            return _stop(reservation, request)
        raise BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, f"Method {request.method} is not allowed", allow=ALLOW)

    async def _reserve(self, request: Request) -> Answer:
        accept = request.headers.get("accept")
        if accept and not any(kind in accept for kind in ("*/*", "text/*", "text/plain")):
            raise BadRequest(HTTPStatus.NOT_ACCEPTABLE, "A reservation's token is text/plain")
        if draining(self.runtime):
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE, SHUTTING_DOWN)
        admitted = await admit_request(self.runtime, request, {})
        if isinstance(admitted, str):
            raise BadRequest(HTTPStatus.FORBIDDEN, admitted)
        context, grant = admitted
        if len(self._reservations) >= self.runtime.settings.max_sse_reservations:
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE, "Too many event streams; try again later")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        reservation = self._reservations[token] = _Reservation(request, context, grant)
        timeout = self.runtime.settings.sse_reservation_timeout
        reservation.expiry = asyncio.get_running_loop().call_later(timeout, self._expire, token)
        return text_answer(HTTPStatus.CREATED, token)

    def _expire(self, token: str) -> None:
        reservation = self._reservations.get(token)
        if reservation is not None and reservation.session is None:
            del self._reservations[token]

    async def _open(
        self, token: str, reservation: _Reservation, request: Request, send: Send, receive: Receive
    ) -> None:
        if not accepts_event_stream(request.headers.get("accept")):
            await error_answer(HTTPStatus.NOT_ACCEPTABLE, MediaType.JSON, "Accept must allow text/event-stream").send(
                send
            )
            return
        if reservation.session is not None:
            await error_answer(HTTPStatus.CONFLICT, MediaType.JSON, "Stream already open").send(send)
            return
        if reservation.expiry is not None:
            reservation.expiry.cancel()
        machine = SSESingleProtocol()
        request_of_put, content_type = reservation.request, SSEFraming.content_type
        session = HTTPStreamSession(request_of_put, self.runtime, send, receive, machine, content_type=content_type)
        reservation.session = session
        session.runner.pending_grant = reservation.grant
        try:
            await session.run(reservation.context)
        finally:
            # One stream per token, once: a reconnecting client reserves again.
            self._reservations.pop(token, None)

    async def _start(self, reservation: _Reservation, request: Request) -> Answer:
        session = reservation.session
        if session is None or not session.open:
            raise BadRequest(HTTPStatus.CONFLICT, "Open the event stream (GET with the token) before operations")
        params = await read_params(request, self.runtime.settings.max_body_bytes)
        check_query_size(params.query, self.runtime.settings.max_query_bytes)
        operation_id = (params.extensions or {}).get(OPERATION_ID)
        if not isinstance(operation_id, str) or not operation_id:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"extensions.{OPERATION_ID} must be a non-empty string")
        machine = session.machine
        assert isinstance(machine, SSESingleProtocol)
        if machine.state is not State.ACKNOWLEDGED:
            raise BadRequest(HTTPStatus.CONFLICT, "The event stream is closing")
        if draining(self.runtime):
            # Not run: the stream ends once running operations finish; the client starts it again elsewhere.
            raise BadRequest(HTTPStatus.SERVICE_UNAVAILABLE, SHUTTING_DOWN)
        payload = SubscribePayload(params.query, params.variables, params.operation_name, params.extensions)
        try:
            machine.start(operation_id, payload)
        except OperationConflict:
            raise BadRequest(HTTPStatus.CONFLICT, "Operation with this ID already exists") from None
        session.feed()
        return empty_answer(HTTPStatus.ACCEPTED)


def _stop(reservation: _Reservation, request: Request) -> Answer:
    operation_id = request.query_params.get(OPERATION_ID)
    if not operation_id:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"?{OPERATION_ID}= is missing")
    session = reservation.session
    if session is not None:
        machine = session.machine
        assert isinstance(machine, SSESingleProtocol)
        if machine.stop(operation_id):
            session.feed()
    return empty_answer(HTTPStatus.OK)


def _token(request: Request) -> str | None:
    return request.headers.get(TOKEN_HEADER) or request.query_params.get(TOKEN_PARAM) or None
