"""Each home card counts what the page it links to lists: the checker's "N waiting for your
confirmation" and the branch head's escalations to act on."""

import re

import pytest
from django.urls import reverse

from disbursement.models import Disbursement
from notifications.models import Kind, Notification
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db


def _card(client, user, title) -> tuple[int, str, str]:
    client.force_login(user)
    page = client.get(reverse("home")).content.decode()
    found = re.search(
        rf'<a class="card stat" href="([^"]+)">\s*<strong>{title}</strong>\s*'
        r'<span class="num">(\d+)</span>\s*<span class="lbl">([^<]+)</span>',
        page,
    )
    assert found, page
    return int(found[2]), found[1].replace("&amp;", "&"), found[3]


def test_the_checkers_card_counts_the_payouts_its_page_lists_for_him(client, staff, company):
    for n in range(4):
        application = ApplicationFactory(
            company=CompanyFactory(home_branch=company.home_branch),
            status="contract_signed",
            filed_by=staff["rm"],
            reference=f"LF-HOME-{n}",
        )
        if n:
            Disbursement.objects.create(
                application=application,
                account_number="1",
                amount=application.amount,
                currency="CNY",
                value_date="2026-12-01",
                # Two by the officer; one by the checker himself, which he may not confirm.
                maker=staff["checker"] if n == 3 else staff["disburser"],
            )
    count, url, text = _card(client, staff["checker"], "To confirm")
    assert (count, text) == (2, "waiting for your confirmation")
    listed = re.findall(r"LF-HOME-\d", client.get(url).content.decode())
    assert sorted(listed) == ["LF-HOME-1", "LF-HOME-2"]
    # The officer's card and its page: the one contract with nothing recorded.
    count, url, _text = _card(client, staff["disburser"], "Ready to disburse")
    assert count == 1
    assert re.findall(r"LF-HOME-\d", client.get(url).content.decode()) == ["LF-HOME-0"]


def test_the_branch_heads_card_counts_the_escalations_its_page_lists(client, staff):
    head = staff["head"]
    for n in range(3):
        Notification.objects.create(user=head, kind=Kind.ESCALATION, title=f"Escalation {n}")
    Notification.objects.create(user=head, kind=Kind.REMINDER, title="Reminder 9")
    read = Notification.objects.create(user=head, kind=Kind.ESCALATION, title="Escalation 8")
    client.force_login(head)
    client.post(reverse("notification-read", args=[read.pk]))
    count, url, text = _card(client, head, "Escalations")
    assert (count, text) == (3, "escalations to act on")
    listed = re.findall(r"Escalation \d|Reminder \d", client.get(url).content.decode())
    assert sorted(listed) == ["Escalation 0", "Escalation 1", "Escalation 2"]
