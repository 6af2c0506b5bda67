import pytest
from django.core.management import call_command
from django.urls import reverse


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/applications/{id}/submit/" in text
    assert "operationId: applications_approve" in text


@pytest.mark.django_db
def test_the_interactive_docs_and_the_health_check_answer(client):
    assert client.get(reverse("api-health")).json() == {"status": "ok"}
    assert client.get(reverse("api-schema")).status_code in (200, 403)
