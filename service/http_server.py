"""How uvicorn serves the app: header size and read-time limits, keep-alive, errors as JSON.

uvicorn picks httptools when it is installed, which reads headers of any size
(a 32 MB header was answered 200), and no uvicorn protocol limits how long a
client may take to send its headers (5,000 half-sent requests stayed open).
So the service always runs h11 with `MAX_HEADER_BYTES` for the request line
and headers, and `GuardedH11` closes a connection whose headers are not
complete `Settings.header_timeout` seconds after it opened (or after its last
answer).  Requests h11 cannot read (too long, malformed) are answered with the
API's JSON error body instead of uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["MAX_HEADER_BYTES", "GuardedH11", "uvicorn_options"]

MAX_HEADER_BYTES = 64 * 1024  # request line plus headers; a 100 KB URL is refused with a JSON 400
KEEP_ALIVE_SECONDS = 5


class GuardedH11(H11Protocol):
    header_timeout = 10.0  # set per server by `uvicorn_options`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # headers not complete in time: drop the connection

    def data_received(self, data: bytes) -> None:
        if getattr(self, "_discarding", False):  # answered 400: read the rest away so closing does not reset
            return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": "bad_request", "detail": f"the request line or headers are malformed or longer "
                                                            f"than {MAX_HEADER_BYTES // 1024} KiB"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # h11 is already in its error state: write the answer by hand
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers)
                                 + b"\r\n" + body)
        # Close after a moment, reading what the client still sends: closing with unread bytes would send a
        # reset, and the client would lose the answer
        self._discarding = True
        self._disarm()
        self.loop.call_later(1.0, self.transport.close)


def uvicorn_options(header_timeout: float) -> dict[str, Any]:
    """uvicorn.Config keywords for the service.  The header timeout is the protocol class's (one server per
    process; server processes started by uvicorn's supervisor set it again from CCHC_HEADER_TIMEOUT)."""
    GuardedH11.header_timeout = header_timeout
    return {"http": GuardedH11, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
            "timeout_keep_alive": KEEP_ALIVE_SECONDS, "server_header": False}
