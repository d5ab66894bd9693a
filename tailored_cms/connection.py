"""The Redis connection, with a circuit breaker so a Redis outage costs one timeout, not one per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from django.core.signals import setting_changed

from .conf import SETTING_NAME, tailored_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_client: redis.Redis | None = None
_down_until = 0.0
failures = 0  # how often the request path fell back because Redis failed (read by stats and tests)


def get_redis() -> redis.Redis:
    """The shared client for ``TAILORED_CMS["REDIS_URL"]`` (one connection pool per process)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                timeout = tailored_settings.REDIS_TIMEOUT
                _client = redis.Redis.from_url(
                    tailored_settings.REDIS_URL,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    health_check_interval=30,
                )
    return _client


def key(*parts: str) -> str:
    """A Redis key under ``REDIS_PREFIX``."""
    return ":".join((tailored_settings.REDIS_PREFIX, *parts))


def call(operation: Callable[[redis.Redis], T], default: T) -> T:
    """Run ``operation`` against Redis; on failure log it, open the breaker and return ``default``."""
    global _down_until, failures
    if time.monotonic() < _down_until:
        failures += 1
        return default
    try:
        return operation(get_redis())
    except redis.RedisError as exc:
        failures += 1
        _down_until = time.monotonic() + tailored_settings.REDIS_RETRY_AFTER
        logger.warning("Redis unavailable (%s); using the database for %ss", exc, tailored_settings.REDIS_RETRY_AFTER)
        return default


def reset() -> None:
    """Forget the client and close the breaker (settings changed, or a test restarted Redis)."""
    global _client, _down_until
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _down_until = 0.0


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == SETTING_NAME:
        reset()


setting_changed.connect(_on_setting_changed)
