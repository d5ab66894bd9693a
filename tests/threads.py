"""Requests run on a thread of their own, as another editor's would: races run for real."""

from __future__ import annotations

from django.db import connection
from django.test import Client


def post_in_thread(client: Client, url: str, data: dict[str, str]) -> object:
    """``client.post`` on this thread's own connection: the response's status, or what it raised."""
    try:
        return client.post(url, data).status_code
    except Exception as exc:  # noqa: BLE001 - the test says what it was
        return exc
    finally:
        connection.close()
