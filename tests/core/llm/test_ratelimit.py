import asyncio
import time

import pytest

from core.llm.ratelimit import RateLimiter, parse_duration, server_pause


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2", 2.0), ("1.5", 1.5), ("20ms", 0.02), ("6m0s", 360.0), ("1h2m", 3720.0), ("", None)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_parse_duration_of_an_http_date_in_the_past_is_zero():
    assert parse_duration("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_duration("soon") is None


def test_server_pause_reads_retry_after_and_exhausted_quotas():
    assert server_pause({"Retry-After": "3"}) == 3.0
    assert server_pause({"retry-after-ms": "250"}) == 0.25
    quota = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s"}
    assert server_pause(quota) == 1.5
    assert server_pause({"x-ratelimit-remaining-requests": "12"}) is None
    assert server_pause({}, status=429) == 1.0


def test_limiter_pause_holds_every_sender():
    limiter = RateLimiter(None, None)
    limiter.pause(0.2)
    start = time.monotonic()
    asyncio.run(limiter.acquire())
    assert time.monotonic() - start >= 0.19


def test_tokens_per_minute_spaces_big_requests():
    limiter = RateLimiter(None, 600)  # 10 tokens/s, a second's worth in a burst

    async def two():
        await limiter.acquire(10)
        await limiter.acquire(3)

    start = time.monotonic()
    asyncio.run(two())
    assert time.monotonic() - start >= 0.25
