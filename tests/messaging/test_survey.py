"""The satisfaction survey: offered after the decision and after the disbursement, answered
once per application and stage, with a score from 1 to 5."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from messaging.models import SurveyAnswer
from tests.factories import ApplicationFactory, CompanyFactory, make_applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(company, product, staff):
    return ApplicationFactory(
        company=company,
        product=product,
        status="approved",
        filed_by=staff["rm"],
        decided_at=timezone.now(),
    )


def survey_url(application) -> str:
    return reverse("api-portal-survey", args=[application.pk])


def test_the_survey_after_the_decision_is_answered_once_and_a_second_answer_is_409(
    api, approved, owner
):
    client = api(owner)
    assert client.get(survey_url(approved)).data["open_stages"] == ["decision"]

    first = client.post(
        survey_url(approved), {"stage": "decision", "score": 4, "comment": "Quick"}, format="json"
    )
    assert first.status_code == 201, first.data
    assert first.data["open_stages"] == []
    assert [(a["stage"], a["score"], a["comment"]) for a in first.data["answers"]] == [
        ("decision", 4, "Quick")
    ]

    second = client.post(survey_url(approved), {"stage": "decision", "score": 1}, format="json")
    assert second.status_code == 409
    assert second.data["code"] == "survey_already_answered"
    assert list(SurveyAnswer.objects.values_list("score", flat=True)) == [4]
    assert AuditEvent.objects.filter(action="survey_answer", actor=owner).count() == 1


def test_the_survey_after_the_disbursement_waits_for_the_money(api, approved, owner):
    client = api(owner)
    early = client.post(survey_url(approved), {"stage": "disbursement", "score": 5}, format="json")
    assert early.status_code == 409
    assert early.data["code"] == "survey_not_offered"

    type(approved).objects.filter(pk=approved.pk).update(
        status="disbursed", disbursed_at=timezone.now()
    )
    assert client.get(survey_url(approved)).data["open_stages"] == ["decision", "disbursement"]
    late = client.post(survey_url(approved), {"stage": "disbursement", "score": 5}, format="json")
    assert late.status_code == 201, late.data
    assert late.data["open_stages"] == ["decision"]


@pytest.mark.parametrize("score", [0, 6, "abc", "", None, 4.5])
def test_a_score_outside_1_to_5_is_refused_with_400_naming_the_score(api, approved, owner, score):
    response = api(owner).post(
        survey_url(approved), {"stage": "decision", "score": score}, format="json"
    )
    assert response.status_code == 400, response.data
    assert "score" in response.data
    assert not SurveyAnswer.objects.exists()


def test_an_undecided_application_has_no_survey(api, company, product, staff, owner):
    draft = ApplicationFactory(company=company, product=product, filed_by=staff["rm"])
    client = api(owner)
    assert client.get(survey_url(draft)).data["open_stages"] == []
    response = client.post(survey_url(draft), {"stage": "decision", "score": 3}, format="json")
    assert response.status_code == 409


def test_another_companys_owner_gets_404_on_the_survey(api, approved, branch):
    stranger = make_applicant(CompanyFactory(home_branch=branch), username="oscar_owner")
    client = api(stranger)
    assert client.get(survey_url(approved)).status_code == 404
    response = client.post(survey_url(approved), {"stage": "decision", "score": 5}, format="json")
    assert response.status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_staff_cannot_answer_for_the_owner(api, approved, staff):
    response = api(staff["rm"]).post(
        survey_url(approved), {"stage": "decision", "score": 5}, format="json"
    )
    assert response.status_code == 403


def test_the_portal_page_asks_until_answered(client, approved, owner):
    client.force_login(owner)
    page = client.get(reverse("portal-application", args=[approved.pk])).content.decode()
    assert 'id="survey"' in page

    bad = client.post(
        reverse("messaging-portal-survey", args=[approved.pk]),
        {"stage": "decision", "score": "9"},
        follow=True,
    )
    assert "Give a score from 1 to 5." in bad.content.decode()
    assert not SurveyAnswer.objects.exists()

    client.post(
        reverse("messaging-portal-survey", args=[approved.pk]),
        {"stage": "decision", "score": "5", "comment": "Clear"},
    )
    assert SurveyAnswer.objects.get().score == 5
    page = client.get(reverse("portal-application", args=[approved.pk])).content.decode()
    assert 'id="survey"' not in page
