"""Extension points the stage apps plug into (from their AppConfig.ready):

- gates: `@gate("send_to_approval")` registers a check returning what is still missing
  (a list of messages); any missing item refuses the transition with 409 and the list.
- segregation-of-duties rules: `@duty_rule("approve")` registers a check returning the reason
  the actor may not take this transition on this application, or None; refused with 403.

Checks must not have side effects: they run inside the transition's transaction and may run
again on retry.
"""

from collections import defaultdict
from collections.abc import Callable

from django.utils.translation import gettext as _

GateCheck = Callable[..., list[str]]
DutyRule = Callable[..., str | None]

_gates: dict[str, list[GateCheck]] = defaultdict(list)
_duty_rules: dict[str, list[DutyRule]] = defaultdict(list)


def gate(*transitions: str):
    def register(fn: GateCheck) -> GateCheck:
        for name in transitions:
            if fn not in _gates[name]:
                _gates[name].append(fn)
        return fn

    return register


def duty_rule(*transitions: str):
    def register(fn: DutyRule) -> DutyRule:
        for name in transitions:
            if fn not in _duty_rules[name]:
                _duty_rules[name].append(fn)
        return fn

    return register


def missing_for(application, transition: str, *, data: dict) -> list[str]:
    missing: list[str] = []
    for check in _gates.get(transition, []):
        missing.extend(check(application, data=data))
    return missing


def duty_violation(application, transition: str, *, actor, data: dict) -> str | None:
    for rule in _duty_rules.get(transition, []):
        reason = rule(application, actor=actor, data=data)
        if reason:
            return reason
    return None


# --- The core segregation rule (审贷分离) ---------------------------------------------------
DECISIONS = ("approve", "decline", "return_to_investigation")


@duty_rule(*DECISIONS)
def filer_and_investigator_never_decide(application, *, actor, data) -> str | None:
    if actor is None:
        return None
    if actor.pk in (application.filed_by_id, application.relationship_manager_id):
        return _("You filed or manage this application, so you may not take an approval "
                 "decision on it.")
    if application.investigator_id and actor.pk == application.investigator_id:
        return _("You investigated this application, so you may not take an approval "
                 "decision on it.")
    return None
