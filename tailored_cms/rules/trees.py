"""Rule trees: their limits, their validation, their leaves and their words for editors.

A rule tree is JSON: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``, nested freely; a leaf is
``{"rule": NAME, **params}``, NAME a rule type of the registry (``registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import get_text_list
from django.utils.translation import gettext

from ..text import shown
from .registry import BRANCHES, Names, Rule, RuleError, _registry, current_names, get_rule

__all__ = [
    "MAX_DEPTH",
    "MAX_JSON_NESTING",
    "MAX_RULES",
    "describe_tree",
    "iter_leaves",
    "validate_tree",
]

# A tree deeper or bigger than this is refused: what an editor builds stays readable, and what the request path
# checks stays cheap (a residual tree is evaluated on every page view).
MAX_DEPTH = 8
MAX_RULES = 50
# How deep the JSON text of a tree within MAX_DEPTH can nest: an object and a list per group, and a leaf's list
# of values. Deeper text is refused before it is parsed (``json`` recurses, and fails ~1,000 levels down).
MAX_JSON_NESTING = 2 * MAX_DEPTH + 2


def describe_tree(tree: Any) -> str:
    """A rule tree as a sentence for editors: "read at least 3 pages about Sports in the last 30 days and is on a
    mobile device", topics and segments by their names. Groups inside groups are parenthesised; a tree that isn't
    valid still gets words, never an error. Cost: a query for the topics' names, one for the segments', if it
    names any."""
    token = current_names.set(Names())
    try:
        return _describe(tree, nested=False)
    finally:
        current_names.reset(token)


def _describe(tree: Any, *, nested: bool) -> str:
    if not isinstance(tree, Mapping):
        return gettext("(not a rule)")
    if "rule" in tree:
        name = tree["rule"]
        rule = _registry.get(name) if isinstance(name, str) else None
        if rule is None:
            return gettext("%(name)s (no such rule)") % {"name": shown(name)}
        params = {key: value for key, value in tree.items() if key != "rule"}
        try:
            return rule.describe(params)
        except Exception:  # a site's describe() on parameters stored before its rule changed: words, not a 500
            return Rule.describe(rule, params)
    if "not" in tree:
        return gettext("not (%(rules)s)") % {"rules": _describe(tree["not"], nested=False)}
    for kind, joiner in (("all", gettext("and")), ("any", gettext("or"))):
        if kind in tree:
            children = tree[kind] if isinstance(tree[kind], list) else []
            if not children:
                return gettext("(an empty group)")
            text = f" {joiner} ".join(_describe(child, nested=True) for child in children)
            return f"({text})" if nested and len(children) > 1 else text
    return gettext("(not a rule)")


def iter_leaves(tree: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every leaf of a (validated) tree, depth first."""
    if "rule" in tree:
        yield tree
    elif "not" in tree:
        yield from iter_leaves(tree["not"])
    else:
        for key in BRANCHES:
            for child in tree.get(key, ()):
                yield from iter_leaves(child)


def validate_tree(
    tree: Any,
    *,
    segment: str | None = None,
    definitions: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The tree with every leaf's parameters cleaned; raises ``ValidationError`` naming what is wrong.

    Checks the shape (``all``/``any`` lists, ``not`` one tree, leaves naming a registered rule), depth
    (``MAX_DEPTH``) and size (``MAX_RULES`` leaves), each leaf's parameters, and ``segment`` references: the
    referenced segment must exist and no chain of references may lead back to ``segment`` (the slug of the
    segment this tree is for). ``definitions`` maps slugs to rule trees (or is a function returning that map, called
    only for a tree that references segments); by default no segment exists. ``rules.models.validate_rules`` checks
    a tree against the saved segments.
    """
    counter = [0]
    cleaned = _clean(tree, depth=1, counter=counter, path="rules")
    references = {leaf["slug"] for leaf in iter_leaves(cleaned) if leaf.get("rule") == "segment"}
    if references:
        if callable(definitions):
            definitions = definitions()
        definitions = definitions or {}
        missing = sorted(references - set(definitions) - ({segment} if segment else set()))
        if missing:
            raise RuleError(
                gettext("Rule 'segment': no segment %(slugs)s exists.")
                % {"slugs": get_text_list(missing, gettext("or"))},
                rule="segment",
                param="slug",
            )
        if segment:
            graph = {**definitions, segment: cleaned}
            cycle = _find_cycle(segment, graph)
            if cycle:
                raise RuleError(
                    gettext("Rule 'segment': the references make a cycle (%(cycle)s); a segment can't contain itself.")
                    % {"cycle": " → ".join(cycle)},
                    rule="segment",
                    param="slug",
                )
    return cleaned


def _clean(tree: Any, *, depth: int, counter: list[int], path: str) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ValidationError(
            gettext("The rule tree is nested more than %(depth)s levels deep (at %(path)s).")
            % {"depth": MAX_DEPTH, "path": path}
        )
    if not isinstance(tree, Mapping):
        raise ValidationError(
            gettext(
                '%(path)s must be an object: {"all": [...]}, {"any": [...]}, {"not": {...}} or {"rule": NAME, ...}, '
                "not %(type)s."
            )
            % {"path": path, "type": type(tree).__name__}
        )
    kinds = [key for key in ("all", "any", "not", "rule") if key in tree]
    if len(kinds) != 1:
        raise ValidationError(
            gettext('%(path)s must have exactly one of "all", "any", "not" or "rule" (it has %(keys)s).')
            % {"path": path, "keys": shown(", ".join(sorted(map(str, tree)))) or gettext("none")}
        )
    kind = kinds[0]
    if kind == "rule":
        counter[0] += 1
        if counter[0] > MAX_RULES:
            raise ValidationError(gettext("The rule tree has more than %(count)s rules.") % {"count": MAX_RULES})
        name = tree["rule"]
        if not isinstance(name, str):
            raise ValidationError(
                gettext("%(path)s: a rule's name must be a string, not %(name)r.") % {"path": path, "name": name}
            )
        return get_rule(name).clean(tree)
    if len(tree) != 1:
        extra = sorted(set(tree) - {kind})
        raise ValidationError(
            gettext('%(path)s: "%(kind)s" can\'t have siblings (%(extra)s).')
            % {"path": path, "kind": kind, "extra": shown(", ".join(map(str, extra)))}
        )
    if kind == "not":
        return {"not": _clean(tree["not"], depth=depth + 1, counter=counter, path=f"{path}.not")}
    children = tree[kind]
    if not isinstance(children, list) or not children:
        raise ValidationError(
            gettext('%(path)s: "%(kind)s" must be a non-empty list of rules.') % {"path": path, "kind": kind}
        )
    return {
        kind: [
            _clean(child, depth=depth + 1, counter=counter, path=f"{path}.{kind}[{index}]")
            for index, child in enumerate(children)
        ]
    }


def _find_cycle(start: str, graph: Mapping[str, Any]) -> list[str] | None:
    """A chain of ``segment`` references from ``start`` back to it, or None."""

    def references(slug: str) -> Iterable[str]:
        tree = graph.get(slug)
        if not isinstance(tree, Mapping):
            return ()
        try:
            return [leaf["slug"] for leaf in iter_leaves(tree) if leaf.get("rule") == "segment" and "slug" in leaf]
        except (TypeError, AttributeError):  # a malformed stored tree: it references nothing we can follow
            return ()

    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        slug, chain = stack.pop()
        for target in references(slug):
            if target == start:
                return [*chain, target]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*chain, target]))
    return None
