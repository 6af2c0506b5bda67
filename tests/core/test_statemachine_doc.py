"""The state diagrams in docs/architecture.md are what `manage.py statemachine` prints from the
models, so a drawing cannot drift from the transitions it documents. To update one, paste the
command's output between its markers."""

import re
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from applications.models import LoanApplication, Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BLOCK = re.compile(
    r"<!-- statemachine (?P<field>\S+) -->\n```mermaid\n(?P<diagram>.*?)```\n<!-- /statemachine -->",
    re.DOTALL,
)


def printed(field: str) -> str:
    out = StringIO()
    call_command("statemachine", field, stdout=out)
    return out.getvalue()


def test_the_architecture_doc_draws_the_loan_application_from_the_model():
    blocks = {m["field"]: m["diagram"] for m in BLOCK.finditer(DOC.read_text())}
    assert "applications.LoanApplication.status" in blocks
    for field, diagram in blocks.items():
        assert diagram == printed(field), (
            f"docs/architecture.md: the diagram of {field} differs from the model; paste the "
            f"output of `manage.py statemachine {field}` between its markers"
        )


def test_the_diagram_has_every_state_and_every_transition_of_the_model():
    diagram = printed("applications.LoanApplication.status")
    for state in Status.values:
        assert f"    {state}: " in diagram
    field = LoanApplication._meta.get_field("status")
    for transition in field.get_all_transitions(LoanApplication):
        assert f": {transition.name}\n" in diagram
    assert "    [*] --> draft\n" in diagram
    assert "    info_requested --> investigation: resume\n" in diagram
    assert "    withdrawn --> [*]\n" in diagram
