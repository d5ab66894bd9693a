"""``{tailored-rules}``: every registered rule type, from the rule registry (``tailored_cms.rules``), for editors.

Per rule: its label, name and kind, what it holds for (the builder's description, then the class's docstring),
its parameters, and an example generated from them, checked by the rule itself, as JSON and in words.
``{tailored-rule-limits}`` says how large a rule tree may be.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from django.core.exceptions import ValidationError
from generated_markdown import MarkdownDirective
from sphinx.application import Sphinx

from tailored_cms.rules import MAX_DEPTH, MAX_RULES, Param, Rule, registered_rules

KINDS = {
    True: "Computed in the background (by Celery) from what the visitor did; a change shows within about a second.",
    False: "Checked on each page view, from the request (no stored history needed).",
}
REFERS_TO = {
    "topic": "a topic's slug (the builder lists the topics)",
    "segment": "a segment's slug (the builder lists the segments)",
    "group": "a user group's name (the builder lists the groups)",
    "language": "a language code of the site (the builder lists them)",
    "trait": "a trait's name (the builder lists the traits the site has set, with their kinds)",
    "country": "an ISO 3166 country code such as `FR` (the builder lists the countries by name)",
}
# Example values by parameter name, for the generated examples; a rule's own ``clean`` has the last word.
SAMPLES: dict[str, Any] = {
    "topic": "sports",
    "slug": "subscribers",
    "group": "Members",
    "name": "signup",
    "min": 3,
    "max": 10,
    "days": 30,
    "from": 9,
    "to": 17,
    "tz": "Europe/Paris",
    "source": "newsletter",
    "medium": "email",
    "campaign": "spring-sale",
}


def accepts(param: Param) -> str:
    """What a parameter takes, in words."""
    if param.choices is not None:
        labels = param.choice_labels or {}
        words = "one of " + ", ".join(
            f"`{json.dumps(choice)}`" + (f" ({labels[choice]})" if choice in labels else "") for choice in param.choices
        )
        if param.refers_to == "continent":
            words += (
                " (Africa, Antarctica, Asia, Europe, North America, Oceania, South America; the builder names them)"
            )
    elif param.refers_to:
        words = REFERS_TO.get(param.refers_to, f"a {param.refers_to}")
    elif param.type is bool:
        words = "`true` or `false`"
    elif param.type is object:
        words = "a value, as `op` needs" + (f" — {param.help}" if param.help else "")
        return words
    elif param.type is int:
        low, high = param.min_value, param.max_value
        bounds = f" from {low:,} to {high:,}" if low is not None and high is not None else ""
        bounds = bounds or (f", at least {low:,}" if low is not None else "")
        bounds = bounds or (f", at most {high:,}" if high is not None else "")
        words = "a whole number" + bounds
    else:
        words = f"text (at most {param.max_length} characters)"
    if param.many:
        words += "; or a list of several"
    return words + (f" — {param.help}" if param.help and not param.refers_to else "")


def sample(name: str, param: Param) -> Any:
    if param.choices is not None:
        return list(param.choices[:2]) if param.many else param.choices[0]
    if param.type is bool:
        return True
    if param.refers_to == "language":
        value: Any = "en"
    elif name == "is" and param.max_length == 2:
        value = "FR"
    elif name == "is":
        value = "example.com"
    else:
        value = SAMPLES.get(name, 1 if param.type is int else "value")
    return [value] if param.many else value


def example(rule: Rule) -> dict[str, Any] | None:
    """A leaf of a rule tree using ``rule``: its required parameters, and the optional ones with a sample value.

    ``None`` if the rule refuses it (a site's rule whose parameters the samples don't fit).
    """
    own = getattr(rule, "example", None)  # a rule type may give its own (parameters that depend on each other)
    if isinstance(own, dict):
        try:
            rule.clean(own)
        except ValidationError:
            pass
        else:
            return dict(own)
    leaf: dict[str, Any] = {"rule": rule.name}
    for name, param in rule.params.items():
        if param.required or name in SAMPLES:
            leaf[name] = sample(name, param)
    try:
        rule.clean(leaf)
    except ValidationError:
        return None
    return leaf


def rule_markdown(rule: Rule) -> str:
    """One rule type as a section (labelled ``rule-<name>`` for links), in plain words first, then its parameters
    and an example."""
    lines = [
        f"(rule-{rule.name})=",
        f"### {rule.display_label()}",
        "",
        f"**`{rule.name}`** · {KINDS[rule.behavioural]}",
        "",
    ]
    if rule.description:
        lines += [str(rule.description), ""]
    docstring = type(rule).__doc__  # the class's own, not inherited: the base classes' contract is for developers
    if docstring:
        lines += [inspect.cleandoc(docstring).replace("``", "`"), ""]
    if rule.params:
        lines += ["| parameter | in the builder | takes | |", "|---|---|---|---|"]
        for name, param in rule.params.items():
            label = param.describe(name)["label"]
            required = "required" if param.required else "optional"
            lines.append(f"| `{name}` | {label} | {accepts(param)} | {required} |")
        lines.append("")
    leaf = example(rule)
    if leaf is not None:
        cleaned = rule.clean(leaf)
        lines += [
            f"For a visitor who {rule.describe(cleaned)}:",
            "",
            "```json",
            json.dumps(leaf, ensure_ascii=False),
            "```",
            "",
        ]
    return "\n".join(lines)


def rules_markdown() -> str:
    rules = sorted(registered_rules().values(), key=lambda rule: str(rule.display_label()).lower())
    sections = []
    for behavioural, title in ((True, "What visitors did"), (False, "The page view")):
        sections.append(f"## {title}\n")
        sections += [rule_markdown(rule) for rule in rules if rule.behavioural is behavioural]
    return "\n".join(sections)


class TailoredRules(MarkdownDirective):
    def markdown(self) -> str:
        return rules_markdown()


class TailoredRuleLimits(MarkdownDirective):
    def markdown(self) -> str:
        return f"A tree may nest groups up to {MAX_DEPTH} levels deep and hold at most {MAX_RULES} rules."


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("tailored-rules", TailoredRules)
    app.add_directive("tailored-rule-limits", TailoredRuleLimits)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
