"""A refusal on the timeline reads in its reader's language: as the refused person read it, or,
for a reader of the other language, in the words of its code."""

import pytest
from django.utils import translation

from applications.labels import event_comment
from audit.services import audit_refusal
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _refused_in(language, staff, code="segregation_of_duties"):
    application = ApplicationFactory(filed_by=staff["rm"])
    with translation.override(language):
        reason = str(translation.gettext("Choose a decision."))  # any text in that language
        return audit_refusal(
            action="decide",
            actor=staff["rm"],
            actor_role="relationship_manager",
            application=application,
            reason=reason,
            code=code,
        ), reason


def test_a_reader_of_the_refused_persons_language_reads_the_reason_as_it_was_given(staff):
    event, reason = _refused_in("zh-hans", staff)
    assert event.data["language"] == "zh-hans"
    with translation.override("zh-hans"):
        assert event_comment(event) == reason


def test_a_reader_of_the_other_language_reads_the_refusals_code_in_words(staff):
    event, reason = _refused_in("zh-hans", staff)
    with translation.override("en"):
        text = event_comment(event)
    assert text != reason and "segregation of duties" in text
    event, reason = _refused_in("en", staff, code="authority_limit")
    with translation.override("zh-hans"):
        text = event_comment(event)
    assert text != reason and "审批权限" in text


def test_a_refusal_recorded_before_the_language_was_kept_reads_as_stored(staff):
    event, reason = _refused_in("zh-hans", staff)
    event.data = {"code": "segregation_of_duties"}
    with translation.override("en"):
        assert event_comment(event) == reason
