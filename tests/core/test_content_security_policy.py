"""Every page answers with an enforced Content-Security-Policy that allows no inline script, and
no template carries inline script, event handlers, inline styles or javascript: URLs."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from tests.lifecycle import file_draft

ROOT = Path(__file__).resolve().parents[2]
# Rendered to PDF by WeasyPrint, never shown by a browser: their <style> is not under the policy.
PDF_ONLY = {ROOT / "disbursement/templates/disbursement/pdf/_style.html"}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_strict_policy(response) -> dict[str, list[str]]:
    assert "Content-Security-Policy-Report-Only" not in response, "the policy is enforced"
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    return policy


@pytest.mark.django_db
def test_staff_portal_admin_login_and_api_docs_pages_answer_with_a_strict_policy(
    client, staff, company, product, owner, api
):
    pk = file_draft(api, staff, company, product)
    assert_strict_policy(client.get(reverse("login")))
    client.force_login(staff["approver"])
    for name, args in [
        ("home", []),
        ("approvals-queue", []),
        ("application-detail", [pk]),
        ("application-list", []),
        ("api-docs", []),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        assert_strict_policy(response)
    client.force_login(staff["admin"])
    admin_index = client.get(reverse("admin:index"))
    assert admin_index.status_code == 200
    assert_strict_policy(admin_index)
    client.force_login(owner)
    portal = client.get(reverse("portal-home"))
    assert portal.status_code == 200
    assert_strict_policy(portal)


@pytest.mark.django_db
def test_the_api_docs_load_their_init_script_from_a_url_not_inline(client, staff):
    client.force_login(staff["rm"])
    page = client.get(reverse("api-docs")).content.decode()
    assert "<style" not in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    init = re.search(r'<script src="([^"]*\?script=[^"]*)"', page).group(1)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_a_report_uri_from_the_environment_is_added_to_the_policy():
    from tests.core.test_file_stores import _in_fresh_process

    built = "from csp.utils import build_policy\nprint(build_policy())"
    policy = directives(
        _in_fresh_process(built, LOANFLOW_CSP_REPORT_URI="https://csp.bank.example/report")
    )
    assert policy["report-uri"] == ["https://csp.bank.example/report"]
    assert policy["script-src"] == ["'self'"]
    assert "report-uri" not in directives(_in_fresh_process(built))


class InlineCodeFinder(HTMLParser):
    """Collects what a strict policy would block in a template: <script> without src (JSON data
    blocks excepted), on* attributes, style attributes and elements, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        values = dict(attrs)
        data_block = values.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and not values.get("src") and not data_block:
            self.found.append(f"line {line}: inline <script>")
        if tag == "style":
            self.found.append(f"line {line}: <style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"line {line}: {name}= handler")
            if name == "style":
                self.found.append(f"line {line}: style= attribute")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"line {line}: javascript: URL")


def project_templates() -> list[Path]:
    dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(
        path
        for folder in dirs
        if ".venv" not in folder.parts
        for path in folder.rglob("*.html")
        if path not in PDF_ONLY
    )


def test_no_template_has_inline_script_event_handlers_inline_styles_or_javascript_urls():
    templates = project_templates()
    assert len(templates) > 50
    problems = []
    for path in templates:
        finder = InlineCodeFinder()
        finder.feed(path.read_text(encoding="utf-8"))
        problems += [f"{path.relative_to(ROOT)} {problem}" for problem in finder.found]
    assert problems == []


def test_the_scan_finds_each_kind_of_inline_code():
    finder = InlineCodeFinder()
    finder.feed(
        '<script>alert(1)</script><script type="application/json">{}</script>'
        '<script src="/static/a.js"></script><button onclick="go()">x</button>'
        '<div style="color:red"></div><style>p{}</style><a href="javascript:go()">y</a>'
    )
    assert [problem.split(": ", 1)[1] for problem in finder.found] == [
        "inline <script>",
        "onclick= handler",
        "style= attribute",
        "<style> element",
        "javascript: URL",
    ]
