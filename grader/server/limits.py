"""Limits the server enforces whatever the client does: the rate of uploads per learner and
exercise (a sliding hour; over it, 429 with Retry-After), and where the server may listen (a
non-loopback address only with --public and a base URL). The upload's size, file count and slow
client timeout are enforced while its body is read (grader/server/multipart.py).

The rate is counted in the server's memory (one process serves a course): a restart forgets it."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from typing import Callable

HOUR_S = 3600.0


class RateLimiter:
    """At most `per_hour` events per key in any sliding hour. Thread-safe."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic, window_s: float = HOUR_S):
        self.per_hour, self.clock, self.window_s = per_hour, clock, window_s
        self._events: dict[tuple, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple) -> float | None:
        """Count one event for `key`: None when it is allowed, else the seconds to wait before the
        next one is (nothing is counted then)."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.per_hour:
                return max(1.0, math.ceil(events[0] + self.window_s - now))
            events.append(now)
            if len(self._events) > 100_000:  # forget keys with nothing in the window
                for k in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]:
                    del self._events[k]
            return None


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or `localhost` (a bind only this machine can reach)."""
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, public: bool, base_url: str) -> str | None:
    """Why the server may not listen on `host`, or None: a non-loopback host needs `--public` and a
    base URL (learners must reach it through a known address, behind TLS)."""
    if is_loopback(host):
        return None
    if not public:
        return (f"{host} is not a loopback address: serving the course beyond this machine needs --public and a "
                "base URL (--base-url https://... or [server] base_url); put it behind a TLS reverse proxy "
                "(see the README) or use --host 127.0.0.1")
    if not base_url:
        return (f"--public on {host} needs the address learners use: give --base-url https://... or set [server] "
                "base_url in course.toml")
    return None


__all__ = ["RateLimiter", "is_loopback", "check_bind", "HOUR_S"]
