"""The dashboard's labels mean what they say in Chinese too."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_the_analytics_end_date_is_labelled_as_an_end_date_in_chinese(staff):
    client = Client()
    client.force_login(staff["head"])
    with translation.override(None):
        page = client.get(reverse("analytics-dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<label>至 <input type="date" name="before_to"' in html
    assert "新状态" not in html
