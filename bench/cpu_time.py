"""The render bench's CPU time per view: what the worker's thread spent on a request (the whole middleware stack,
the view, the rendering), sent back in a response header that ``served.alternate`` reads. Unlike the latency, it
leaves out the time the worker waited (PostgreSQL, Redis, the network) and that another process held the core."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Bench-CPU-Microseconds"


def cpu_time_header(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Middleware (first in the stack): the request's CPU time in ``HEADER``."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        started = time.thread_time_ns()
        response = get_response(request)
        response[HEADER] = str((time.thread_time_ns() - started) // 1000)
        return response

    return middleware
