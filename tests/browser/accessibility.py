"""axe-core (from npm, ``make test`` installs it into node_modules/) checks a page against WCAG 2.2 A and AA.

``assert_accessible(page)`` runs it on what the page shows now and fails with each violation: the rule, what a
person meets (axe's help text), and the elements. ``exclude`` names selectors whose markup isn't ours (django
CMS's toolbar, say): docs/accessibility.md lists what they hold.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The admin's header, breadcrumbs, list of models and save buttons, and django-parler's language tabs: Django's,
# djangocms-admin-style's and parler's markup and colours, with violations of their own (docs/accessibility.md lists
# them). tailored_cms's admin pages are checked without them.
ADMIN_CHROME = ("#header", ".breadcrumbs", "#nav-sidebar", ".submit-row", ".parler-language-tabs")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def violations(page: Page, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's WCAG A and AA violations on the page as it is now."""
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (scripts/ensure-node-modules.sh)"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([exclude, tags]) => {
            const context = {include: [document], exclude: exclude.map((selector) => [selector])};
            const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
            const result = await window.axe.run(context, options);
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }""",
        [list(exclude), WCAG_AA],
    )


def assert_accessible(page: Page, exclude: tuple[str, ...] = ()) -> None:
    found = violations(page, exclude)
    assert not found, f"axe-core: {len(found)} WCAG 2.2 AA violation(s) on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node['summary']}" for node in v["nodes"][:5])
        for v in found
    )
