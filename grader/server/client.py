"""The HTTP client of a course server's JSON API (/api/v1), as the learner's CLI uses it.

Every call has timeouts; every refusal becomes a `ServerError` whose message is one line naming the
problem and what to do (the server's own `{"error": ...}` line where it sent one). What the server
sends is data: answers are checked for the shape the CLI reads, and text is cut and cleaned before
it reaches a terminal. httpx is imported here only: the learner's commands import this module inside
their functions, so a command that does not talk to a server never loads it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

API = "/api/v1"
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
WRITE_TIMEOUT_S = 120.0  # an upload of the largest allowed submission on a slow line
MAX_MESSAGE = 400
UNCHANGED = "nothing was sent; your files are unchanged"


class ServerError(Exception):
    """A call the server refused or that did not reach it: `status` (the HTTP status, 0 when no
    answer came), `retry_after` (seconds, from a 429), `sent` (whether the request may have reached
    the server)."""

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None, sent: bool = True):
        super().__init__(message)
        self.status, self.retry_after, self.sent = status, retry_after, sent


def one_line(text: object, limit: int = MAX_MESSAGE) -> str:
    """Server text as one terminal-safe line: no control character, at most `limit` characters."""
    line = (str(text).strip().splitlines() or [""])[0]
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "?", line)[:limit]


@dataclass(frozen=True)
class Upload:
    """One file of a submission: its base name and its bytes."""

    name: str
    data: bytes


class ServerClient:
    """The course server at `url` (its base URL), called with the learner's `token`."""

    def __init__(self, url: str, token: str, *, timeout: httpx.Timeout | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url + API, headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                               "User-Agent": "dlgrade-cli"},
            timeout=timeout or httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S, write=WRITE_TIMEOUT_S),
            transport=transport, follow_redirects=False, trust_env=True)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> "ServerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the API -----------------------------------------------------------------------------------

    def whoami(self) -> dict:
        """{"id", "name", "role", "course"} of the token's owner."""
        return _fields(self._call("GET", "/whoami"), ("id", "role"), "whoami")

    def exercises(self) -> list[dict]:
        """The course's exercises: id, title, deadline, late_policy."""
        return [_fields(e, ("id",), "exercises") for e in _list(self._call("GET", "/exercises"), "exercises")]

    def submit(self, exercise: str, files: list[Upload]) -> dict:
        """Upload a submission; the receipt (submission_id, sha256, received_at, late, files, duplicate...)."""
        parts = [("file", (f.name, f.data, "application/octet-stream")) for f in files]
        receipt = self._call("POST", f"/exercises/{_segment(exercise)}/submissions", files=parts, upload=True)
        return _fields(receipt, ("submission_id", "sha256", "received_at"), "the receipt")

    def submissions(self, exercise: str | None = None, student: str | None = None) -> list[dict]:
        """The caller's receipts (staff: `student`'s), each with its "grading"."""
        params = {k: v for k, v in (("exercise", exercise), ("student", student)) if v}
        return [_fields(r, ("submission_id", "exercise"), "submissions")
                for r in _list(self._call("GET", "/submissions", params=params), "submissions")]

    def submission(self, submission_id: int) -> dict:
        """One of the caller's receipts, with its "grading"."""
        return _fields(self._call("GET", f"/submissions/{int(submission_id)}"), ("submission_id",), "the submission")

    def feedback(self, exercise: str, lang: str | None = None) -> dict:
        """The released feedback on `exercise`: {"exercise", "markdown", "html"}."""
        params = {"lang": lang} if lang else {}
        page = _fields(self._call("GET", f"/feedback/{_segment(exercise)}", params=params), ("markdown", "html"),
                       "the feedback")
        if not isinstance(page["markdown"], str) or not isinstance(page["html"], str):
            raise ServerError(f"the server at {self.url} sent feedback that is not text; tell your instructor")
        return page

    # -- one call --------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, upload: bool = False, **kwargs) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.ProxyError) as err:
            raise ServerError(f"cannot reach the server at {self.url} ({_why(err)}); {UNCHANGED}" if upload else
                              f"cannot reach the server at {self.url} ({_why(err)}); check the address and "
                              "your network, then try again", sent=False) from None
        except httpx.TimeoutException:
            raise ServerError(f"the server at {self.url} did not answer in time; your files are unchanged; it may "
                              "have stored the submission: run `dlgrade status` to see, then submit again if it "
                              "is not there" if upload else
                              f"the server at {self.url} did not answer in time; try again later") from None
        except httpx.HTTPError as err:
            raise ServerError(f"the connection to {self.url} failed ({_why(err)}); your files are unchanged"
                              + ("; run `dlgrade status` to see whether the submission arrived" if upload else
                                 "; try again")) from None
        if response.status_code >= 400:
            raise self._refusal(response, upload)
        if 300 <= response.status_code < 400:  # never followed: the token would go wherever it points
            where = one_line(response.headers.get("Location", "?"), 200)
            raise ServerError(f"the server at {self.url} sends dlgrade elsewhere ({where}); log in again with the "
                              f"address your instructor gave (dlgrade login URL --token TOKEN)"
                              + ("; your files are unchanged" if upload else ""), status=response.status_code)
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"the server at {self.url} answered with something that is not JSON "
                              f"(HTTP {response.status_code}); check the URL of `dlgrade login`") from None

    def _refusal(self, response: httpx.Response, upload: bool) -> ServerError:
        status = response.status_code
        message = None
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip():
                message = one_line(body["error"])
        except ValueError:
            pass
        retry = _retry_after(response.headers.get("Retry-After"))
        if message is None:
            message = _default_message(status, self.url, upload)
        if status == 429 and retry is not None and "try again" not in message.lower():
            message += f"; try again in {_duration(retry)}"
        if upload and status >= 500:
            message += "; your files are unchanged: run `dlgrade status` to see whether the submission arrived"
        return ServerError(message, status=status, retry_after=retry)


def _default_message(status: int, url: str, upload: bool) -> str:
    """What a refusal without the server's own line means (a proxy's page, an older server)."""
    if status == 401:
        return "the server does not know your token; log in again with the token your instructor gave you"
    if status == 403:
        return "the server refused your token (revoked, or not allowed here); ask your instructor for a new one"
    if status == 404:
        return f"not found on the server at {url}; check the exercise id (`dlgrade status`) and the URL of your login"
    if status == 413:
        return "the submission is too large for the server; submit only your exercise's files"
    if status == 429:
        return "over the server's limit of submissions for now"
    if status >= 500:
        return f"the server at {url} failed (HTTP {status}); try again later"
    return f"the server at {url} refused the request (HTTP {status})" + ("; your files are unchanged" if upload else "")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 10 ** 7 else None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{(seconds + 59) // 60} min"
    return f"{seconds / 3600:.1f} h"


def _why(err: BaseException) -> str:
    return one_line(err, 160) or type(err).__name__


def _segment(value: str) -> str:
    from urllib.parse import quote
    return quote(str(value), safe="")


def _fields(value: Any, required: tuple[str, ...], what: str) -> dict:
    if not isinstance(value, dict) or any(k not in value for k in required):
        raise ServerError(f"the server sent {what} in a form this dlgrade does not read; update dlgrade "
                          "(pip install -U dlgrade) or tell your instructor")
    return value


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise ServerError(f"the server sent {what} in a form this dlgrade does not read; update dlgrade "
                          "(pip install -U dlgrade) or tell your instructor")
    return value


__all__ = ["ServerClient", "ServerError", "Upload", "one_line", "UNCHANGED"]
