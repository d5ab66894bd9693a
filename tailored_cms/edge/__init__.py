"""Edge mode (``EDGE_MODE``): tailored pages from a shared cache (Varnish, a CDN), one copy per tailoring.

The origin keeps a cookie (``KEY_COOKIE``) holding the visitor's **edge key**: a keyed digest of everything of the
visitor that tailors a page (choices, widget arrangement, the segments Celery put them in with their request-time
residuals, the consent answer), then ``.`` and their holdout bucket. The edge (``tailored.vcl``) copies the two
parts into request headers (``KEY_HEADER``, ``BUCKET_HEADER``), looks pages up without cookies, and stores each
tailored page under the headers its ``Vary`` names. A visitor without the cookie presents an empty key: one
shared copy per page. What the origin promises in each response is in ``responses.py``; purging in ``purge.py``.
"""

from __future__ import annotations

__all__ = ["BUCKET_HEADER", "KEY_COOKIE", "KEY_HEADER", "MARK_HEADER", "VCL"]

from pathlib import Path

KEY_COOKIE = "tailored_key"
KEY_HEADER = "X-Tailored-Key"
BUCKET_HEADER = "X-Tailored-Bucket"
# On every response the edge may store: "tailored" (varies on the key) or "plain". The VCL trusts its Vary then
# (the cookies it looks up without are covered by the key) and bans tailored pages by it; it is never delivered.
MARK_HEADER = "X-Tailored-Edge"
VCL = Path(__file__).with_name("tailored.vcl")  # the VCL for Varnish 7 the tests run and the docs show
