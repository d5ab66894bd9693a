"""The Lua scripts Redis runs for tailored_cms, one ``.lua`` file each, read once when their module is imported.

Each file says at its top which module sends it, what its ``KEYS`` and ``ARGV`` are and what it returns. Some are
whole scripts; the others are pieces of a request's one round trip, put together by ``tailored_cms.round_trip``.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["load"]


def load(name: str) -> str:
    """The Lua of ``<name>.lua``, without its comment lines (the script travels with every ``EVAL``)."""
    text = files(__package__).joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("--")) + "\n"
