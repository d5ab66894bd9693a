"""Tell the edges (``EDGE_PURGE_URLS``) to drop copies: a page's URLs, or every tailored page. Sent by a Celery task.

What changes a page's copies: django CMS's operations on it (its settings, a translation, a plugin of its
placeholders: published, unpublished, edited), which ``receivers.py`` turns into ``BAN <path>`` for each of the
page's URLs; and what changes every tailored page at once (a segment saved, switched off or deleted; a topic
changed, which feeds and panels show), turned into one ``BAN`` of every copy marked tailored. The shipped VCL
accepts both (``tailored.vcl``).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable

from ..conf import tailored_settings

__all__ = ["TAILORED", "ban"]

TAILORED = "tailored"  # the ban of every tailored page (``X-Tailored-Ban: tailored``)
TIMEOUT = 5.0  # seconds an edge may take to answer a BAN


def ban(paths: Iterable[str]) -> int:
    """Send each edge a ``BAN`` for each path (``TAILORED``: every tailored page); returns how many were sent.

    Raises ``OSError`` (``urllib.error.URLError`` included) when an edge doesn't take one: the task retries.
    """
    sent = 0
    for edge in tailored_settings.EDGE_PURGE_URLS:
        for path in paths:
            headers = {"X-Tailored-Ban": TAILORED} if path == TAILORED else {}
            request = urllib.request.Request(
                edge.rstrip("/") + ("/" if path == TAILORED else path), method="BAN", headers=headers
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 -- the site's own edges
                response.read()
            sent += 1
    return sent
