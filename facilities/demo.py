"""Demo facilities: a revolving line product (授信额度) with its servicing terms and, for two
demo companies with a disbursed loan, an active facility approved and contracted (scored and
priced as the real path prices it: a build-up and a range from its target rate), one with a
drawdown approved within its rules. Idempotent (one facility per company)."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

LINE = {
    "code": "SME-LINE",
    "name": "SME revolving credit line",
    "name_zh": "小微企业循环授信额度",
    "description": "A limit approved once; the company draws loans under it and redraws what "
    "it repays.",
    "description_zh": "一次核定额度，企业在额度内随借随还、循环使用。",
    "min_amount": Decimal("500000"),
    "max_amount": Decimal("10000000"),
    "min_term_months": 12,
    "max_term_months": 36,
    "min_rate": Decimal("3.450"),
    "max_rate": Decimal("8.000"),
    "repayment_methods": ["interest_only_bullet", "equal_instalments"],
    "guarantee_types": ["credit", "guarantee", "mortgage"],
    "fast_track_eligible": False,
}


def seed() -> None:
    from applications.models import Product
    from facilities.models import DrawdownApproval, FacilityTerms

    spec = dict(LINE)
    product, _ = Product.objects.get_or_create(code=spec.pop("code"), defaults=spec)
    FacilityTerms.objects.get_or_create(
        product=product,
        defaults={
            "revolving": True,
            "max_drawdown_term_months": 12,
            "drawdown_approval": DrawdownApproval.AUTOMATIC,
            "auto_approval_limit": Decimal("1000000"),
        },
    )
    # Its drawdowns' loans are serviced on the line's terms (overdue interest, prepayment):
    # postloan's demo seeded the products that existed before this one.
    from postloan.demo import seed_servicing_terms

    seed_servicing_terms()


def _priced(application, *, grade: str) -> None:
    """Scored as the investigation scores a facility application, and proposed at the target
    rate of its price build-up (never below the floor, within the product's rates): its
    facility keeps that build-up and the range from that rate (facility_open), and its
    drawdowns are priced on the same PD (drawdown_price_buildup)."""
    from facilities.selectors import facility_price_buildup
    from investigation.demo import score_for_demo

    score_for_demo(application, grade=grade)
    buildup = facility_price_buildup(application=application)
    if buildup is None:  # no active pricing version: the range from the proposed rate
        return
    product = application.product
    rate = min(max(buildup.target_rate_pct, product.min_rate), product.max_rate)
    application.interest_rate = rate.quantize(Decimal("0.001"))
    application.save(update_fields=["interest_rate"])


def seed_history(applications) -> None:
    from applications.models import LoanApplication, Product
    from audit.services import audit_record
    from facilities.models import Facility
    from facilities.services import (
        drawdown_request,
        facility_activate_on_contract,
        facility_open,
    )
    from postloan.models import NON_PERFORMING, ExposureSnapshot, Loan
    from postloan.snapshot import exposure_snapshot_take

    product = Product.objects.get(code=LINE["code"])
    performing = set(
        Loan.objects.filter(
            application__in=[a for a in applications if a.status == "disbursed"],
            classification="normal",
        ).values_list("application_id", flat=True)
    )
    # A company with any loan classified substandard or worse can draw nothing
    # (facilities.services.drawdown_request): the demo's facilities go to companies without.
    troubled = set(
        Loan.objects.filter(classification__in=NON_PERFORMING).values_list(
            "application__company_id", flat=True
        )
    )
    disbursed = [a for a in applications if a.pk in performing and a.company_id not in troubled]
    companies = []
    for application in disbursed:
        if application.company_id not in {c.company_id for c in companies}:
            companies.append(application)
        if len(companies) == 2:
            break
    for n, loan in enumerate(companies):
        if Facility.objects.filter(company_id=loan.company_id).exists():
            continue
        with transaction.atomic():
            # The facility application as the demo's other records are made: in its state,
            # with its audit row; its facility through the services the approval and the
            # contract call.
            application = LoanApplication.objects.create(
                company_id=loan.company_id,
                branch_id=loan.branch_id,
                product=product,
                product_snapshot=product.snapshot(),
                amount=Decimal("3000000") if n == 0 else Decimal("2000000"),
                currency="CNY",
                term_months=24,
                interest_rate=Decimal("4.350"),
                repayment_method="interest_only_bullet",
                guarantee_type="credit",
                purpose="Revolving working capital line",
                filed_by=loan.relationship_manager,
                relationship_manager=loan.relationship_manager,
                status="contract_signed",
                submitted_at=timezone.now() - timedelta(days=30),
                decided_at=timezone.now() - timedelta(days=5),
            )
            audit_record(
                action="create",
                actor=loan.relationship_manager,
                application=application,
                to_state=application.status,
                kind="action",
                data={"channel": "branch", "demo": True},
            )
            _priced(application, grade="B" if n == 0 else "C")
            facility_open(application=application)
            facility_activate_on_contract(application=application, actor=loan.relationship_manager)
        if n == 0:
            drawdown_request(
                facility_id=application.facility.pk,
                actor=loan.relationship_manager,
                amount=Decimal("800000"),
                term_months=6,
                repayment_method="interest_only_bullet",
                purpose="Raw materials for the spring orders",
            )
    # The risk officer's exposure view reads a snapshot (postloan.snapshot): take the one the
    # nightly job would, now that the demo's loans, facilities and applications are in.
    exposure_snapshot_take(trigger=ExposureSnapshot.Trigger.NIGHTLY)
