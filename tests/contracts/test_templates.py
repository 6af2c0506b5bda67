"""Template versions: the active one fills new contracts; a version in use is copied, never
edited, and a contract keeps the text it was filled with."""

import pytest
from django.urls import reverse

from contracts.models import ContractDocument, ContractTemplate
from contracts.services import contract_template_activate, contract_template_copy

pytestmark = pytest.mark.django_db


def test_a_new_version_fills_new_contracts_and_the_old_text_is_kept(approved, staff, api):
    old = ContractTemplate.objects.get(kind="loan", language="en", product=None, is_active=True)
    assert old.is_frozen
    prepared = api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    assert prepared.status_code == 201
    contract = ContractDocument.objects.get(application=approved, kind="loan")
    assert contract.template == old and "<h1>Loan contract</h1>" in contract.text

    new = contract_template_copy(template=old)
    assert (new.version, new.is_active, new.body) == (old.version + 1, False, old.body)
    new.body = "<h1>Loan contract, 2027 edition</h1><p>{{ company.name }}</p>"
    new.save()
    contract_template_activate(template=new)
    old.refresh_from_db()
    assert not old.is_active and old.is_frozen and "<h1>Loan contract</h1>" in old.body

    # A product of its own gets its own version; the contract already made is unchanged.
    product_version = ContractTemplate.objects.create(
        kind="loan",
        product=approved.product,
        language="en",
        version=1,
        name="Product loan contract",
        body="<h1>Product contract</h1>",
    )
    contract_template_activate(template=product_version)
    contract.refresh_from_db()
    assert contract.template == old and "<h1>Loan contract</h1>" in contract.text
    assert ContractTemplate.objects.filter(kind="loan", language="en").count() >= 3


def test_the_admin_refuses_to_edit_a_version_in_use(staff, rf):
    from django.contrib import admin

    old = ContractTemplate.objects.get(kind="loan", language="zh-hans", product=None)
    model_admin = admin.site._registry[ContractTemplate]
    request = rf.get("/")
    request.user = staff["admin"]
    assert model_admin.has_change_permission(request, old) is False
    assert model_admin.has_delete_permission(request, old) is False
    draft = contract_template_copy(template=old)
    assert model_admin.has_change_permission(request, draft) is True


def test_a_chinese_contract_is_filled_in_chinese(approved, staff, api):
    type(approved).objects.filter(pk=approved.pk).update(language="zh-hans")
    api(staff["rm"]).post(reverse("api-contracts-prepare", args=[approved.pk]))
    loan = ContractDocument.objects.get(application=approved, kind="loan")
    guarantee = ContractDocument.objects.get(application=approved, kind="guarantee")
    assert loan.language == "zh-hans" and "借款合同" in loan.text
    assert "保证合同" in guarantee.text and "Zhang Wei" in guarantee.text
