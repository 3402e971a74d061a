"""Client-side rate limiting: configured requests/tokens per minute, plus the server's own signals.

Two token buckets (requests, tokens) refill continuously. A 429's `retry-after` or a response
announcing `x-ratelimit-remaining-requests: 0` (or `-tokens: 0`) pauses every sender until the
server's reset time, so a burst of concurrent requests does not hammer a server that said stop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """Seconds in a rate-limit header: `12`, `1.5`, `20ms`, `6m0s`, or an HTTP date."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_pause(headers: Mapping[str, str], status: int | None = None) -> float | None:
    """Seconds the server asks us to wait, from `retry-after(-ms)` or exhausted quota headers."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lower:
        ms = parse_duration(lower["retry-after-ms"])
        if ms is not None:
            return ms / 1000.0
    if "retry-after" in lower:
        return parse_duration(lower["retry-after"])
    waits = []
    for kind in ("requests", "tokens"):
        remaining = lower.get(f"x-ratelimit-remaining-{kind}")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            waits.append(parse_duration(lower.get(f"x-ratelimit-reset-{kind}")) or 1.0)
    if waits:
        return max(waits)
    return 1.0 if status == 429 else None


class _Bucket:
    def __init__(self, per_minute: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 60.0)  # at most a second's worth in a burst
        self.level = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self, amount: float) -> float:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= amount:
            self.level -= amount
            return 0.0
        need = amount - self.level
        self.level -= amount  # reserve now; goes negative, refills while we sleep
        return need / self.rate


class RateLimiter:
    """Awaited before each request; shared by every concurrent sender of one client."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None):
        self._requests = _Bucket(requests_per_minute) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute) if tokens_per_minute else None
        self._paused_until = 0.0
        self.waited = 0.0  # seconds spent waiting, for the metadata

    def pause(self, seconds: float) -> None:
        """Hold every sender for `seconds` from now (the server asked)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self, tokens: int = 0) -> None:
        while True:
            delay = self._paused_until - time.monotonic()
            if delay <= 0:
                break
            self.waited += delay
            await asyncio.sleep(delay)
        delay = 0.0
        if self._requests:
            delay = max(delay, self._requests.wait_time(1))
        if self._tokens and tokens:
            delay = max(delay, self._tokens.wait_time(tokens))
        if delay > 0:
            self.waited += delay
            await asyncio.sleep(delay)
