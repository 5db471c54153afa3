"""uvicorn's HTTP protocol with a deadline and a size limit on reading a request's head.

uvicorn bounds the idle time between keep-alive requests (`timeout_keep_alive`) but not the
time a client takes to send a request line and headers, nor (with httptools) their size: a
client trickling one header byte every few seconds holds a connection open for good, and a
thousand of them hold a thousand (slowloris), while a multi-megabyte URL becomes a cache key.
Here the head of each request must arrive within `HEAD_TIMEOUT_SECONDS` of its first byte (of
the connection, for the first request) and within `MAX_HEAD_BYTES`; otherwise the connection
is answered 408 or 431 and closed, as nginx does with `client_header_timeout` and
`large_client_header_buffers`.
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT_SECONDS = 10.0
MAX_HEAD_BYTES = 64 * 2**10


def _status_response(status: bytes, message: bytes) -> bytes:
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(message)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            message,
        ]
    )


class HeadTooLargeError(Exception):
    """Raised from a parser callback to stop parsing a request refused with 431."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that times and measures each request head (see the module doc)."""

    head_timeout_seconds = HEAD_TIMEOUT_SECONDS
    max_head_bytes = MAX_HEAD_BYTES

    _head_timer: asyncio.TimerHandle | None = None
    _reading_head = True
    _head_bytes = 0  # URL and headers of the current request, as the parser reports them
    _raw_head_bytes = 0  # bytes of reads that fell wholly inside the current head
    _heads_completed = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        heads_before = self._heads_completed
        reading_head = self._reading_head
        super().data_received(data)
        # A read that neither ends nor follows the head is head through and through (this also
        # catches a header trickled for ever, which the parser reports only once complete).
        # One that ends it may carry megabytes of body behind a small head: the parser's
        # callbacks measure that head instead.
        if (
            reading_head
            and self._heads_completed == heads_before
            and not self.transport.is_closing()
        ):
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > self.max_head_bytes:
                self._refuse(b"431 Request Header Fields Too Large", b"request head too large")

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes:
            self._refuse(b"431 Request Header Fields Too Large", b"request head too large")
            raise HeadTooLargeError  # stops the parser: no app call for this request

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():  # closing: refused above, the parser's error is ours
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        if self._head_timer is None:
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._heads_completed += 1
        self._head_bytes = self._raw_head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True  # what arrives next is the next request's head

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._reading_head:
            self._refuse(b"408 Request Timeout", b"request head not received in time")

    def _refuse(self, status: bytes, message: bytes) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(_status_response(status, message))
            self.transport.close()
