"""The accessibility check of the browser tests: axe-core (axe-playwright-python) on the page
the browser is on, with the WCAG 2.1 A and AA rules. A serious or critical violation fails the
test, with what axe found, where, and how to fix it."""

from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

_axe = Axe()
# Pages that are the same for everyone (the sign-in pages), by path: checked once a run.
_checked_once: set[str] = set()


def assert_accessible(page, *, once: bool = False) -> None:
    """No serious or critical WCAG 2.1 AA violation on the current page. `once`: a page the
    same for everyone, checked at its first visit of the test run only."""
    if once:
        path = urlsplit(page.url).path
        if path in _checked_once:
            return
        _checked_once.add(path)
    page.wait_for_load_state()
    results = _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_21_AA},
            "resultTypes": ["violations"],
        },
    )
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"Accessibility violations on {page.url}:\n" + "\n".join(
        readable(violation) for violation in blocking
    )


def readable(violation: dict) -> str:
    """One violation as a person reads it: the rule, its impact, each element and its fix."""
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"][:10]:
        lines.append(f"  * {' '.join(map(str, node['target']))}: {node['html'][:200]}")
        summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
        if summary:
            lines.append(f"      {summary}")
    if len(violation["nodes"]) > 10:
        lines.append(f"  ... and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)
