"""Reads of the contracts: which contracts an application needs, which are still unsigned
(the disbursement waits for them), and who signs each."""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from common.errors import NotFound
from contracts.models import ContractDocument, ContractKind, ContractTemplate, Party, Signature

# An application's contracts are prepared and signed while it is approved (the offer made)
# or contract_signed (the offer accepted), before the payout.
SIGNING_STATES = ("approved", "contract_signed")


@dataclass(frozen=True)
class Required:
    kind: str
    guarantor: object = None
    collateral: object = None

    @property
    def key(self) -> tuple:
        return (
            self.kind,
            self.guarantor.pk if self.guarantor else None,
            self.collateral.pk if self.collateral else None,
        )

    def label(self) -> str:
        name = str(ContractKind(self.kind).label)
        if self.guarantor is not None:
            return f"{name}: {self.guarantor.name}"
        if self.collateral is not None:
            return f"{name}: {self.collateral.description}"
        return name


def contracts_required(application) -> list[Required]:
    """The loan contract, a guarantee contract per guarantor and a pledge contract per item
    of collateral."""
    return [
        Required(ContractKind.LOAN),
        *(Required(ContractKind.GUARANTEE, guarantor=g) for g in application.guarantors.all()),
        *(Required(ContractKind.PLEDGE, collateral=c) for c in application.collateral.all()),
    ]


def contracts_for(application):
    return (
        ContractDocument.objects.filter(application=application)
        .select_related("template", "guarantor", "collateral", "prepared_by")
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=Signature.objects.select_related("user", "witness").order_by(
                    "signed_at", "id"
                ),
            )
        )
        .order_by("kind", "id")
    )


def _key(contract: ContractDocument) -> tuple:
    return (contract.kind, contract.guarantor_id, contract.collateral_id)


def contracts_unsigned(application) -> list[str]:
    """What the disbursement still waits for: each required contract not prepared or not
    signed by every party and the bank, by name."""
    signed = {
        (kind, guarantor_id, collateral_id)
        for kind, guarantor_id, collateral_id in ContractDocument.objects.filter(
            application=application, status=ContractDocument.Status.SIGNED
        ).values_list("kind", "guarantor_id", "collateral_id")
    }
    return [
        _("%(contract)s (not signed)") % {"contract": required.label()}
        for required in contracts_required(application)
        if required.key not in signed
    ]


def contract_get(*, application, pk) -> ContractDocument:
    """One contract of an application the caller may see (application_get checked it)."""
    try:
        return contracts_for(application).get(pk=pk)
    except (ContractDocument.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def template_for(*, kind: str, product, language: str) -> ContractTemplate | None:
    """The active template version for the product (its own, else every product's)."""
    active = ContractTemplate.objects.filter(kind=kind, language=language, is_active=True)
    return active.filter(product=product).first() or active.filter(product=None).first()


def party_identity(contract: ContractDocument, party: str) -> tuple[str, str]:
    """(name, ID number) of who signs `contract` as `party`, as the bank has them on record:
    the company's legal representative, or the guarantor."""
    company = contract.application.company
    if party == Party.GUARANTOR:
        return contract.guarantor.name, contract.guarantor.id_number
    return company.legal_representative, company.legal_representative_id


def parties_remaining(contract: ContractDocument, signed_parties) -> list[str]:
    return [party for party in contract.required_parties() if party not in set(signed_parties)]


def owner_may_sign(contract: ContractDocument) -> bool:
    """The owner signs, on the portal, as the borrower's legal representative: a contract the
    borrower signs, ready, awaiting the parties, not yet signed by the borrower."""
    return (
        contract.application.status in SIGNING_STATES
        and contract.pdf_status == ContractDocument.PdfStatus.READY
        and contract.status == ContractDocument.Status.AWAITING_PARTIES
        and Party.BORROWER in contract.required_parties()
        and not any(s.party == Party.BORROWER for s in contract.signatures.all())
    )
