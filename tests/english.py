"""tailored_cms's English strings, to look for on a page that should speak another language.

``english_strings(language, domain)`` reads the package's catalog of ``language`` (``msgcat``, as
``tests/test_catalogs.py`` does) and keeps each msgid (and msgid_plural) whose translation differs from it: a
string that is the same in both languages ("OK", "Widget") proves nothing, nor does one whose only word the
language's translations use too (Italian says "layout": "%(layout)s layout" is no English on an Italian page).
Each becomes a pattern that finds it in a text as a reader would see it: whole words, case as written, its
placeholders (``%(title)s``, ``{count}``) matching any text on the line, not in straight double quotes (code).
``visible_text(html)`` is what a reader sees of an HTML page or fragment: its text outside scripts and styles,
and the attributes read out or shown (aria-label, title, placeholder, alt, an input button's value, the
confirmation privacy.js shows before erasing).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tailored_cms"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdi]|%[sdi]|\{\w*\}")
SHOWN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-tailored-confirm"}
INLINE = {"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "time"}  # run on in one line of text


@functools.cache
def english_strings(language: str, domain: str = "django") -> dict[str, re.Pattern[str]]:
    """msgid -> pattern, for every English string of ``domain`` that ``language`` translates differently."""
    po = PACKAGE / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    msgcat = shutil.which("msgcat")
    assert msgcat, "msgcat is missing: install Debian's gettext package (scripts/ensure-system.sh --browser does)"
    text = subprocess.run([msgcat, "--no-wrap", str(po)], capture_output=True, text=True, check=True).stdout
    entries = []
    for block in text.split("\n\n"):
        fields = dict(re.findall(r'^(msgid|msgid_plural|msgstr|msgstr\[\d\]) "(.*)"$', block, flags=re.MULTILINE))
        fields = {name: _unescape(value) for name, value in fields.items()}
        entries.append((fields, {value for name, value in fields.items() if name.startswith("msgstr")}))
    borrowed = {word.lower() for _, translations in entries for t in translations for word in _words(t)}
    found: dict[str, re.Pattern[str]] = {}
    for fields, translations in entries:
        for name in ("msgid", "msgid_plural"):
            english = fields.get(name, "")
            words = _words(english)
            if not words or english in translations or (len(words) == 1 and words[0].lower() in borrowed):
                continue
            found[english] = _pattern(english)
    return found


def english_in(text: str, language: str, domains: tuple[str, ...] = ("django",)) -> list[str]:
    """The English strings of tailored_cms (of ``domains``) that appear in ``text``."""
    return sorted(
        english
        for domain in domains
        for english, pattern in english_strings(language, domain).items()
        if pattern.search(text)
    )


def visible_text(html: str) -> str:
    """What a reader sees or hears of ``html``: a line per block of text or shown attribute, spaces collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda escaped: {"n": "\n", "t": "\t"}.get(escaped[1], escaped[1]), value)


def _words(text: str) -> list[str]:
    """The words of ``text`` outside its placeholders (two letters or more)."""
    return re.findall(r"[^\W\d_]{2,}", PLACEHOLDER.sub(" ", text))


def _pattern(english: str) -> re.Pattern[str]:
    """Whole words as written, placeholders matching any text on the line."""
    literals = PLACEHOLDER.split(english)
    body = r"[^\n]+?".join(re.escape(literal) for literal in literals)
    # A word in straight double quotes is code shown as it is typed (the JSON keys of a help text: {"not": ...}).
    start = r'(?<![\w"])' if re.match(r"\w", english) else ""
    end = r'(?![\w"])' if re.search(r"\w$", english) else ""
    return re.compile(start + body + end)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self.hidden_depth += 1
        values = dict(attrs)
        shown = [value for name, value in attrs if name in SHOWN_ATTRIBUTES and value]
        if tag == "input" and values.get("type") in {"submit", "button", "reset"} and values.get("value"):
            shown.append(values["value"] or "")
        self.parts.extend(f"\n{value}\n" for value in shown)
        if tag not in INLINE:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"} and self.hidden_depth:
            self.hidden_depth -= 1
        if tag not in INLINE:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.parts.append(data)
