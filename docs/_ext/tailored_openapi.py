"""``{tailored-openapi}``: the REST API's endpoints and schemas, from its OpenAPI 3 schema (drf-spectacular).

The schema is generated as ``schema/`` serves it (``tailored_cms.rest.schema.SchemaView``'s settings); the page
renders each endpoint (method, path, summary, description, parameters, request body, responses by status) and
each schema its bodies refer to, as a table of its fields.
"""

from __future__ import annotations

import functools
import json
from http import HTTPStatus
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from generated_markdown import MarkdownDirective
from sphinx.application import Sphinx

from tailored_cms.rest.schema import SchemaView

METHODS = ("get", "post", "put", "patch", "delete")


@functools.cache
def openapi() -> dict[str, Any]:
    """The schema ``schema/`` serves."""
    with patched_settings(SchemaView.custom_settings):
        return SchemaGenerator().get_schema(request=None, public=True)


def component(schema: dict[str, Any], ref: str) -> tuple[str, dict[str, Any]]:
    name = ref.rsplit("/", 1)[1]
    return name, schema["components"]["schemas"][name]


def cell(text: str) -> str:
    """A description on one line of a table: the enum bullets drf-spectacular appends go (the type lists them)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("* `")]
    return " ".join(lines).replace("|", "\\|")


def type_of(schema: dict[str, Any], field: dict[str, Any]) -> str:
    """A field's type in words: links to the schemas it names, enums by their values."""
    if "$ref" in field:
        name, target = component(schema, field["$ref"])
        return type_of(schema, target) if "enum" in target else f"{{ref}}`{name} <schema-{name.lower()}>`"
    if "enum" in field:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in field["enum"])
    for key in ("oneOf", "anyOf", "allOf"):
        if key in field:
            words = " or ".join(dict.fromkeys(type_of(schema, part) for part in field[key]))
            return words + (" or `null`" if field.get("nullable") and "`null`" not in words else "")
    kind = field.get("type", "any")
    if kind == "array":
        words = f"list of {type_of(schema, field.get('items', {}))}"
    elif kind == "object" and field.get("properties"):
        words = "object: " + ", ".join(f"`{name}`" for name in field["properties"])
    else:
        words = kind + (f" ({field['format']})" if "format" in field else "")
    return words + (" or `null`" if field.get("nullable") else "")


def limits(field: dict[str, Any]) -> str:
    words = []
    if "maxLength" in field:
        words.append(f"at most {field['maxLength']} characters")
    if "minItems" in field:
        words.append(f"at least {field['minItems']} item")
    if "pattern" in field:
        words.append(f"matches `{field['pattern']}`")
    if "default" in field:
        words.append(f"default `{json.dumps(field['default'])}`")
    return f" ({'; '.join(words)})".replace("|", "\\|") if words else ""


def body(schema: dict[str, Any], content: dict[str, Any]) -> str:
    """A request or response body: its type, and the media types it comes as."""
    types = {media: type_of(schema, entry.get("schema", {})) for media, entry in content.items()}
    described = dict.fromkeys(types.values())
    media = ", ".join(f"`{name}`" for name in content)
    return f"{' or '.join(described)} as {media}"


def operation_markdown(schema: dict[str, Any], method: str, path: str, operation: dict[str, Any], shared: str) -> str:
    """One method of a path: ``shared`` is the description all the path's methods have (said once, above them).

    Its label is the method and path, ``get-tailored-api-v1-topics``, for links from other pages.
    """
    label = "-".join([method, *filter(None, path.split("/"))])
    lines = [f"({label})=", f"#### {method.upper()}", "", f"**{operation.get('summary', '')}**", ""]
    if operation.get("description") and operation["description"] != shared:
        lines += [operation["description"].replace("``", "`"), ""]
    if operation.get("parameters"):
        lines += ["| parameter | in | type | required | |", "|---|---|---|---|---|"]
        for param in operation["parameters"]:
            field = param.get("schema", {})
            required = "yes" if param.get("required") else "no"
            description = cell(param.get("description", "")) + limits(field)
            lines.append(
                f"| `{param['name']}` | {param['in']} | {type_of(schema, field)} | {required} | {description} |"
            )
        lines.append("")
    if "requestBody" in operation:
        lines += [f"Request body: {body(schema, operation['requestBody']['content'])}.", ""]
    lines += ["| status | | body |", "|---|---|---|"]
    for status, response in operation["responses"].items():
        meaning = cell(response.get("description", "")) or HTTPStatus(int(status)).phrase
        for header, about in response.get("headers", {}).items():
            meaning += f" Header `{header}`: {cell(about.get('description', ''))}"
        returned = body(schema, response["content"]) if response.get("content") else ""
        lines.append(f"| **{status}** | {meaning} | {returned} |")
    return "\n".join([*lines, ""])


def path_markdown(schema: dict[str, Any], path: str, operations: dict[str, Any]) -> str:
    """A path and its methods, in the order GET, POST, PUT, PATCH, DELETE."""
    methods = [method for method in METHODS if method in operations]
    descriptions = {operations[method].get("description", "") for method in methods}
    shared = descriptions.pop() if len(descriptions) == 1 else ""
    lines = [f"### `{path}`", ""] + ([shared.replace("``", "`"), ""] if shared else [])
    lines += [operation_markdown(schema, method, path, operations[method], shared) for method in methods]
    return "\n".join(lines)


def schema_markdown(schema: dict[str, Any], name: str, component: dict[str, Any]) -> str:
    lines = [f"(schema-{name.lower()})=", f"### {name}", ""]
    if component.get("description"):
        lines += [component["description"].replace("``", "`"), ""]
    required = set(component.get("required", []))
    lines += ["| field | type | | |", "|---|---|---|---|"]
    for field_name, field in component.get("properties", {}).items():
        presence = "read-only" if field.get("readOnly") else ("required" if field_name in required else "optional")
        description = cell(field.get("description", "")) + limits(field)
        lines.append(f"| `{field_name}` | {type_of(schema, field)} | {presence} | {description} |")
    return "\n".join([*lines, ""])


def api_markdown(schema: dict[str, Any]) -> str:
    sections = ["## Endpoints", ""]
    sections += [path_markdown(schema, path, operations) for path, operations in schema["paths"].items()]
    sections += ["## Schemas", "", "The bodies the endpoints take and return, by the name the schema gives them.", ""]
    for name, component in sorted(schema["components"]["schemas"].items()):
        if "enum" not in component:  # enums are listed where they are used
            sections.append(schema_markdown(schema, name, component))
    return "\n".join(sections)


class TailoredOpenAPI(MarkdownDirective):
    def markdown(self) -> str:
        return api_markdown(openapi())


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("tailored-openapi", TailoredOpenAPI)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
