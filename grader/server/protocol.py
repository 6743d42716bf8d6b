"""The HTTP/1.1 protocol `dlgrade serve` runs: uvicorn's h11 protocol with a deadline for a
request's headers. uvicorn itself waits for headers without end (its keep-alive timeout covers only
an idle connection), so a client that sends its headers a byte at a time could hold a connection
for ever; here a connection whose request headers are not complete `seconds` after it opened (or
after its previous response) is closed. The body's own timeout is grader/server/multipart.py's."""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    """H11Protocol that closes a connection whose request headers take over `header_timeout_s`."""

    header_timeout_s = 30.0
    _header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before and self.cycle is not None:
            self._disarm()  # a request's headers are complete: the application has it now

    def on_response_complete(self) -> None:
        self._arm()  # before: a pipelined request handled inside disarms it again
        super().on_response_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._header_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.logger.info("closed a connection whose request headers took over %g s", self.header_timeout_s)
            self.transport.close()


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class with a header deadline of `seconds`."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": float(seconds)})


__all__ = ["HeaderDeadlineProtocol", "header_deadline_protocol"]
