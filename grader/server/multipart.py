"""Reading an upload's body within limits: a multipart/form-data body read chunk by chunk from the
ASGI stream (never whole before it is counted), with the size cap checked on the declared
Content-Length AND on the bytes that arrive (a chunked body declares none), the file count checked
as each part begins, and a client that stalls cut off (the slow-client timeout). File names are kept
as the raw bytes the client sent, so a name that is not UTF-8 is refused rather than guessed.

Every refusal is a `BodyRefused` with an HTTP status and a one-line message."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

DRAIN_BYTES = 64 * 1024 * 1024  # what is read and dropped after an oversized body, so the client hears the 413
MAX_PART_HEADER_BYTES = 8192
TOTAL_FACTOR = 20  # a whole upload must arrive within this many idle periods


class BodyRefused(Exception):
    """A request body refused: `status` (4xx) and a one-line `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Part:
    """One part of a multipart body: its field name, its raw file name (None: not a file) and data."""

    field: str
    filename: bytes | None
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """The parser's callbacks: the parts, with the file count checked as each begins."""

    def __init__(self, max_files: int, max_bytes: int):
        self.max_files, self.max_bytes = max_files, max_bytes
        self.parts: list[Part] = []
        self.headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self.current: Part | None = None
        self.error: BodyRefused | None = None
        self.ended = False

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self.headers, self.current = {}, None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        if len(self._value) > MAX_PART_HEADER_BYTES and self.error is None:
            self.error = BodyRefused(422, "a part's header is too long: the body is not a well-formed upload; "
                                          "send files as multipart/form-data parts named `file`")

    def header_end(self) -> None:
        self.headers[bytes(self._field).lower()] = bytes(self._value)
        self._field, self._value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            self.error = self.error or BodyRefused(
                422, "a part has no Content-Disposition form-data name: the body is not a well-formed upload; "
                     "send files as multipart/form-data parts named `file`")
            return
        self.current = Part(options[b"name"].decode("latin-1"), options.get(b"filename"))
        self.parts.append(self.current)
        if self.current.filename is not None and sum(p.filename is not None for p in self.parts) > self.max_files:
            self.error = self.error or BodyRefused(
                413, f"more than {self.max_files} files in one upload; submit only your exercise's files")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is not None:
            self.current.data += data[start:end]

    def part_end(self) -> None:
        self.current = None

    def end(self) -> None:
        self.ended = True


async def _receive(receive, deadline: float, idle_s: float) -> dict:
    timeout = min(idle_s, max(0.0, deadline - time.monotonic()))
    try:
        return await asyncio.wait_for(receive(), timeout)
    except (asyncio.TimeoutError, TimeoutError):
        raise BodyRefused(408, f"the upload stalled (nothing arrived for {idle_s:g} s, or it took too long); "
                               "nothing was stored: check your connection and submit again") from None


async def _drain(receive, deadline: float, idle_s: float, already: int) -> None:
    """Read and drop the rest of an oversized body (up to DRAIN_BYTES more), so the client is not
    cut off mid-send and reads the refusal."""
    read = 0
    while read <= already + DRAIN_BYTES:
        try:
            message = await _receive(receive, deadline, idle_s)
        except BodyRefused:
            return
        if message.get("type") != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body"):
            return


def _too_large(max_bytes: int) -> BodyRefused:
    return BodyRefused(413, f"the upload is over the server's limit of {max_bytes / (1024 * 1024):g} MiB; "
                            "submit only your exercise's source files (clear a notebook's outputs)")


async def read_multipart(headers, receive, *, max_bytes: int, max_files: int, idle_s: float) -> list[Part]:
    """The parts of a multipart/form-data body read from the ASGI `receive`, or BodyRefused: 415 not
    multipart, 413 over `max_bytes` (declared or streamed) or over `max_files` file parts, 408 a
    client that sends nothing for `idle_s` seconds, 422 a broken multipart body."""
    ctype, options = parse_options_header(headers.get("content-type", ""))
    if ctype != b"multipart/form-data":
        raise BodyRefused(415, "an upload is multipart/form-data with one part named `file` per file; "
                               "use `dlgrade submit` or send the files as a form")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise BodyRefused(422, "the multipart body has no valid boundary: it is not a well-formed upload; "
                               "send the files again as multipart/form-data")
    deadline = time.monotonic() + idle_s * TOTAL_FACTOR
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        if int(declared) <= max_bytes + DRAIN_BYTES:
            await _drain(receive, deadline, idle_s, 0)
        raise _too_large(max_bytes)
    collector = _Collector(max_files, max_bytes)
    parser = MultipartParser(boundary, collector.callbacks())
    total = 0
    while True:
        message = await _receive(receive, deadline, idle_s)
        if message.get("type") == "http.disconnect":
            raise BodyRefused(400, "the client went away before the upload was complete; nothing was stored")
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > max_bytes:
            if message.get("more_body"):
                await _drain(receive, deadline, idle_s, total)
            raise _too_large(max_bytes)
        try:
            parser.write(chunk)
        except MultipartParseError:
            raise BodyRefused(422, "the multipart body is broken (it does not follow its boundary); nothing was "
                                   "stored: send the files again") from None
        if collector.error is not None:
            if collector.error.status == 413 and message.get("more_body"):
                await _drain(receive, deadline, idle_s, total)
            raise collector.error
        if not message.get("more_body"):
            break
    try:
        parser.finalize()
    except MultipartParseError:
        collector.ended = False
    if not collector.ended:
        raise BodyRefused(422, "the multipart body ended early (no closing boundary); nothing was stored: send the "
                               "files again")
    return collector.parts


__all__ = ["BodyRefused", "Part", "read_multipart", "DRAIN_BYTES"]
