"""HTTP GET/POST for sources: bounded size, retries with backoff, Retry-After honoured, conditional GET."""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

import requests

from . import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"pops-chm/{__version__} (POPs clearing-house node harvester)"
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 300.0


class FetchError(Exception):
    """A request that failed for good (after retries), with the URL and the reason."""


@dataclass
class Response:
    url: str
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Fetcher:
    timeout: float = 60.0
    retries: int = 5
    max_bytes: int = 200 * 1024 * 1024
    backoff: float = 1.0            # first wait; doubles each retry, with jitter
    max_wait: float = MAX_RETRY_AFTER
    session: requests.Session = field(default_factory=requests.Session)
    sleep = staticmethod(time.sleep)

    def __post_init__(self):
        self.session.headers["User-Agent"] = USER_AGENT

    def get(self, url: str, params: dict | None = None, headers: dict | None = None, method: str = "GET") -> Response:
        """The response to a request, retried on connection errors, timeouts and transient statuses.

        A 503 (or 429) with Retry-After waits as asked (capped); other failures back off exponentially.
        Bodies larger than max_bytes are refused, never read whole into memory.
        """
        attempt = 0
        while True:
            try:
                resp = self._once(url, params, headers, method)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                failure, wait = _reason(exc), None
            else:
                if resp.status < 400 or resp.status == 304:
                    return resp
                if resp.status not in TRANSIENT_STATUS:
                    snippet = resp.body[:200].decode("utf-8", "replace").strip()
                    raise FetchError(f"{url}: HTTP {resp.status} {snippet}".rstrip())
                failure, wait = f"HTTP {resp.status}", _retry_after(resp.headers.get("Retry-After"))
            if attempt >= self.retries:
                raise FetchError(f"{url}: {failure} (after {attempt + 1} attempts)")
            delay = wait if wait is not None else self.backoff * (2 ** attempt) * (0.5 + random.random() / 2)
            delay = min(delay, self.max_wait)
            log.warning("%s: %s; retrying in %.1fs (%d/%d)", url, failure, delay, attempt + 1, self.retries)
            self.sleep(delay)
            attempt += 1

    def _once(self, url, params, headers, method) -> Response:
        kwargs = dict(headers=headers or {}, timeout=self.timeout, stream=True)
        r = (self.session.post(url, data=params, **kwargs) if method == "POST"
             else self.session.get(url, params=params, **kwargs))
        with r:
            declared = r.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise _TooLarge(f"{url}: response of {int(declared)} bytes exceeds the limit of {self.max_bytes}")
            chunks, size = [], 0
            for chunk in r.iter_content(64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise _TooLarge(f"{url}: response exceeds the limit of {self.max_bytes} bytes")
                chunks.append(chunk)
            return Response(r.url, r.status_code, b"".join(chunks), dict(r.headers))


class _TooLarge(FetchError):
    pass


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed or was reset"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped in the middle of the response"
    return str(exc).split(": ", 1)[-1]
