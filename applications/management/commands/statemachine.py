"""Print a model's django-fsm state machine as a Mermaid stateDiagram-v2.

    manage.py statemachine                                  # the loan application
    manage.py statemachine approvals.ApprovalTask.status    # any other FSMField

docs/architecture.md holds the loan application's diagram as this command prints it; a test
(tests/core/test_statemachine_doc.py) fails when the two differ, so the drawing follows the model.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django_fsm import ANY_OTHER_STATE, ANY_STATE, GET_STATE, RETURN_VALUE, FSMFieldMixin

DEFAULT_FIELD = "applications.LoanApplication.status"


def state_diagram(model, field_name: str) -> str:
    """The Mermaid diagram of `model.<field_name>`: each state with its label, the initial
    state, every transition labelled with its method's name (one arrow per source and target,
    in the order the states are declared), and an end marker on each state nothing leaves."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, FSMFieldMixin):
        raise CommandError(f"{model._meta.label}.{field_name} is not a django-fsm field")
    states = [value for value, _label in field.choices]
    order = {state: index for index, state in enumerate(states)}
    labels = {value: str(label) for value, label in field.choices}

    edges: set[tuple[str, str, str]] = set()
    for t in field.get_all_transitions(model):
        if isinstance(t.target, RETURN_VALUE | GET_STATE):
            targets = list(t.target.allowed_states or [])
        else:
            targets = [t.target]
        for target in targets:
            if t.source == ANY_STATE:
                sources = states
            elif t.source == ANY_OTHER_STATE:
                sources = [state for state in states if state != target]
            else:
                sources = [t.source]
            edges.update(
                (str(source), str(target), t.name) for source in sources if target is not None
            )

    lines = ["stateDiagram-v2"]
    lines += [f"    {state}: {labels[state]}" for state in states]
    default = field.get_default()
    lines.append(f"    [*] --> {default}")
    for source, target, name in sorted(edges, key=lambda e: (order[e[0]], order[e[1]], e[2])):
        lines.append(f"    {source} --> {target}: {name}")
    left = {source for source, _target, _name in edges}
    lines += [f"    {state} --> [*]" for state in states if state not in left]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print a django-fsm state machine as a Mermaid stateDiagram-v2."

    def add_arguments(self, parser):
        parser.add_argument(
            "field",
            nargs="?",
            default=DEFAULT_FIELD,
            help=f"app_label.Model.field (default {DEFAULT_FIELD})",
        )

    def handle(self, *args, field: str, **options):
        try:
            app_label, model_name, field_name = field.split(".")
            model = apps.get_model(app_label, model_name)
        except (ValueError, LookupError) as exc:
            raise CommandError(f"{field!r}: expected app_label.Model.field ({exc})") from None
        # The diagram is documentation in English, whatever the server's default language.
        with translation.override("en"):
            self.stdout.write(state_diagram(model, field_name), ending="")
