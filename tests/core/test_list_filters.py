"""The list filters (django-filter FilterSets): a bad value is a field error, 400 in the API
and a message on the page, never a 500; good values filter as before."""

import pytest
from django.urls import reverse

from applications.models import Status
from notifications.models import Notification
from notifications.services import notify
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha_and_beta(staff, branch, product):
    def make(name, status):
        return ApplicationFactory(
            company=CompanyFactory(home_branch=branch, name=name),
            product=product,
            status=status,
            filed_by=staff["rm"],
            relationship_manager=staff["rm"],
        )

    return make("Alpha Mill", Status.DRAFT), make("Beta Foods", Status.SUBMITTED)


def test_the_application_api_filters_by_several_statuses_and_mine(api, staff, alpha_and_beta):
    alpha, beta = alpha_and_beta
    url = reverse("api-applications")
    rows = api(staff["rm"]).get(url, {"status": "draft,submitted", "mine": "true"}).data
    assert {row["id"] for row in rows["results"]} == {alpha.pk, beta.pk}
    rows = api(staff["rm"]).get(url, {"status": "submitted"}).data
    assert [row["id"] for row in rows["results"]] == [beta.pk]
    rows = api(staff["rm2"]).get(url, {"mine": "1"}).data
    assert rows["results"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "submitted,nonsense"}, "status"),
        ({"product": "abc"}, "product"),
        ({"branch": "1.5"}, "branch"),
    ],
)
def test_a_bad_application_filter_is_a_400_on_its_field(api, staff, alpha_and_beta, params, field):
    response = api(staff["rm"]).get(reverse("api-applications"), params)
    assert response.status_code == 400
    assert list(response.data) == [field]


def test_a_bad_filter_on_the_list_page_is_shown_and_the_good_ones_kept(
    client, staff, alpha_and_beta
):
    alpha, beta = alpha_and_beta
    client.force_login(staff["rm"])
    response = client.get(reverse("application-list"), {"q": "alpha", "product": "abc"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist"' in body and "Enter a whole number" in body
    assert alpha.reference in body and beta.reference not in body


@pytest.fixture
def two_notifications(staff):
    for title in ("First", "Second"):
        notify(user=staff["rm"], kind="assignment", title=title)
    first = Notification.objects.get(title="First")
    first.read_at = first.created_at
    first.save(update_fields=["read_at"])


def test_the_notification_api_filters_unread_and_refuses_a_bad_value(api, staff, two_notifications):
    url = reverse("api-notification-list")
    client = api(staff["rm"])
    assert [n["title"] for n in client.get(url, {"unread": "1"}).data["results"]] == ["Second"]
    assert len(client.get(url).data["results"]) == 2
    response = client.get(url, {"unread": "yes please"})
    assert response.status_code == 400 and "unread" in response.data


def test_the_notification_page_shows_a_bad_filter_value(client, staff, two_notifications):
    client.force_login(staff["rm"])
    url = reverse("notification-list")
    assert "First" not in client.get(url, {"unread": "1"}).content.decode()
    response = client.get(url, {"unread": "x"})
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
