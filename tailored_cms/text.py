"""Text from outside: what the database can store, and how an error message repeats it.

JSON's ``"\\u0000"`` and ``"\\ud800"`` decode to a NUL character and a lone UTF-16 surrogate. PostgreSQL refuses
the first in text and JSON columns; no UTF-8 encoder takes the second, so a response or a query holding one
can't be sent. Input that is stored is checked with ``check_storable``; a message that repeats input uses
``shown``.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext

__all__ = ["check_storable", "is_storable", "json_nesting", "shown"]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def is_storable(text: str) -> bool:
    """Whether every database and encoder takes ``text``: no NUL character, no lone surrogate."""
    return _UNSTORABLE.search(text) is None


def check_storable(text: str) -> None:
    """Raise ``ValueError`` saying what is wrong with ``text`` if a database or an encoder would refuse it."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise ValueError(gettext("must not contain a NUL character (\\u0000)"))
    raise ValueError(gettext("must not contain a lone UTF-16 surrogate (%(text)s)") % {"text": shown(found.group())})


def shown(value: Any) -> str:
    """``value`` as an error message repeats it: as is, but a lone surrogate written as its escape (``\\ud800``).

    Anything else (a NUL character included) is left alone: a JSON response escapes it and HTML carries it.
    """
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def json_nesting(text: str | bytes) -> int:
    """How deep arrays and objects nest in JSON ``text``, found without parsing it.

    ``json`` parses nesting by recursion: a few KB of ``[[[[…`` raise ``RecursionError``, and what parses may still
    be too deep for the code that walks it. Callers bound the nesting first. Linear in the size of ``text``.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest
