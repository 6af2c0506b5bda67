"""A loan with a real schedule (disbursement.schedule.build_schedule) for the prepayment
tests, on a product whose dates do not move, and the quote's figures recomputed from the
parameters without the code under test."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from applications.models import Product
from disbursement.models import Instalment
from disbursement.schedule import Conventions, build_schedule
from postloan.daily import daily_run
from postloan.models import Loan, Repayment, ServicingTerms
from postloan.services import loan_open
from tests.factories import ApplicationFactory, ProductFactory

D = Decimal
CENT = D("0.01")


def cents(value) -> Decimal:
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def product_with(*, day_count="thirty_360", fee_rate=None, **allowed) -> Product:
    product = ProductFactory(
        business_day_convention="none",
        day_count=day_count,
        repayment_methods=["equal_instalments", "equal_principal", "interest_only_bullet"],
    )
    if fee_rate is not None or allowed:
        ServicingTerms.objects.create(
            product=product,
            prepayment_fee_rate=D(fee_rate or "0"),
            note="Prepay on any working day.",
            note_zh="任一工作日均可提前还款。",
            **allowed,
        )
    return product


def scheduled_loan(
    *,
    company,
    rm,
    checker,
    product: Product,
    amount: str = "120000.00",
    rate: str = "6.000",
    term: int = 12,
    method: str = "equal_instalments",
    start: date,
) -> Loan:
    application = ApplicationFactory(
        company=company,
        product=product,
        status="disbursed",
        amount=D(amount),
        interest_rate=D(rate),
        term_months=term,
        repayment_method=method,
        filed_by=rm,
        disbursed_at=timezone.now(),
    )
    loan = loan_open(
        application=application,
        actor=checker,
        data={"value_date": start.isoformat(), "amount": amount},
    )
    rows = build_schedule(
        amount=D(amount),
        annual_rate=D(rate),
        term_months=term,
        method=method,
        start=start,
        conventions=Conventions(day_count=product.day_count),
    )
    Instalment.objects.bulk_create(
        Instalment(
            application=application,
            number=row.number,
            due_date=row.due_date,
            principal=row.principal,
            interest=row.interest,
            total=row.total,
            currency="CNY",
        )
        for row in rows
    )
    daily_run(loan_ids=[loan.pk])
    return Loan.objects.select_related("application__product").get(pk=loan.pk)


def pay_instalments_due_by(loan: Loan, day: date, *, recorded_by) -> Decimal:
    """Pay every instalment due on or before `day` on its due date; returns the principal paid."""
    principal = D("0.00")
    for inst in Instalment.objects.filter(application=loan.application, due_date__lte=day):
        Repayment.objects.create(
            loan=loan,
            amount=inst.total,
            currency="CNY",
            value_date=inst.due_date,
            recorded_by=recorded_by,
        )
        principal += inst.principal
    daily_run(loan_ids=[loan.pk])
    return principal


def schedule_of(loan: Loan) -> list[Instalment]:
    return list(Instalment.objects.filter(application=loan.application).order_by("number"))
