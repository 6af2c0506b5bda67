"""Inspection attachments are checked like every upload and stored under generated names."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from postloan.models import InspectionTask, TaskAttachment

pytestmark = pytest.mark.django_db


def _upload(api, user, task, name, content):
    return api(user).post(
        reverse("api-postloan-task-attachments", args=[task.pk]),
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_an_html_file_renamed_pdf_is_refused_and_nothing_is_stored(api, staff, make_loan):
    task = InspectionTask.objects.get(loan=make_loan())
    response = _upload(
        api, staff["rm"], task, "findings.pdf", b"<html><script>alert(1)</script></html>"
    )
    assert response.status_code == 400
    assert "file" in response.data
    assert not TaskAttachment.objects.exists()


def test_a_pdf_is_stored_under_a_generated_name_keeping_its_display_name(api, staff, make_loan):
    task = InspectionTask.objects.get(loan=make_loan())
    response = _upload(api, staff["rm"], task, "site visit.pdf", b"%PDF-1.4\n%test\n")
    assert response.status_code in (200, 201), response.data
    attachment = TaskAttachment.objects.get(task=task)
    assert attachment.name == "site visit.pdf"
    stored = attachment.file.name.rsplit("/", 1)[-1]
    assert stored != "site visit.pdf" and stored.endswith(".pdf") and len(stored) == 36


def test_an_attachment_is_downloaded_through_the_task_by_staff_who_may_see_it(
    api, staff, make_loan, owner, branch
):
    from django.test import Client

    from tests.factories import BranchFactory, make_staff

    task = InspectionTask.objects.get(loan=make_loan())
    _upload(api, staff["rm"], task, "site visit.pdf", b"%PDF-1.4\n%findings\n")
    attachment = TaskAttachment.objects.get(task=task)
    url = reverse("postloan-task-attachment", args=[task.pk, attachment.pk])
    client = Client()
    client.force_login(staff["rm"])
    page = client.get(reverse("postloan-task", args=[task.pk])).content.decode()
    assert f'href="{url}"' in page
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n%findings\n"
    assert 'filename="site visit.pdf"' in response["Content-Disposition"]
    # Staff of another branch, the owner and anonymous visitors get nothing.
    other = make_staff(
        "relationship_manager", BranchFactory(code="SZ", name="Shenzhen"), username="zoe_rm"
    )
    client.force_login(other)
    assert client.get(url).status_code in (403, 404)
    client.force_login(owner)
    assert client.get(url)["Location"] == reverse("portal-home")
    client.logout()
    assert client.get(url).status_code == 302
