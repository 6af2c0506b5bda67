"""The investigation's gate on `send_to_approval` (registered in InvestigationConfig.ready).

A memo counts only if it was generated after the investigation last changed and after the
last return from approval: approvers always read a memo that matches the data they see."""

from applications.rules import gate
from investigation.selectors import investigation_missing


@gate("send_to_approval")
def investigation_complete(application, *, data) -> list[str]:
    return investigation_missing(application=application)
