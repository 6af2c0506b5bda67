"""A change applied and a repayment recorded at once on the same loan leave one consistent
state (issue 29), against PostgreSQL: round after round, an approved extension or
restructuring is applied on one thread while a repayment is recorded on another, each thread
with its own connection, both released together by a barrier.

Both services lock the loan's row before they read its position (`change_apply` and
`repayment_record`); the nightly statement only writes the figures that changed, so without
that lock the one that commits last writes figures read before the other committed: a
repayment missing from the loan's paid total, or the old schedule's totals. After every
round the schedule version and the repayments' allocation agree, no repayment is lost, and
the loan's stored figures are the position `postloan.daily.loan_positions` reads, which the
nightly job then leaves as they are."""

import os
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from applications.models import LoanApplication
from audit.models import AuditEvent
from disbursement.models import Instalment
from postloan import services
from postloan.changes import change_apply
from postloan.daily import daily_run, loan_positions
from postloan.models import ChangeTerms, Loan, ScheduleRevision
from tests.changes.conftest import TODAY, approved_change
from tests.racers import Racers

D = Decimal
# RACE_ROUNDS=n runs fewer while working on this test.
ROUNDS = int(os.environ.get("RACE_ROUNDS", 12))
FIGURES = (
    "scheduled_total",
    "paid_total",
    "outstanding_total",
    "outstanding_principal",
    "paid_instalments",
    "oldest_unpaid_due",
    "days_past_due",
    "overdue_interest_unpaid",
)


def _until_both_wait_on_a_lock(timeout: float = 10.0) -> bool:
    """Until both racers' connections wait on a lock (the loan's row, held by the test);
    False if they did not within `timeout` (the round still runs to its end)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= 2:
                return True
            time.sleep(0.01)
    return False


def _approved(staff, loan: Loan, n: int) -> tuple[int, str]:
    """The round's change, approved: an extension by a month, or a restructuring over a year
    (with interest-only months every other time)."""
    if n % 2 == 0:
        return approved_change(
            staff, loan, kind="extension", extension_months=1, reason=f"Round {n}"
        ), "extension"
    return approved_change(
        staff,
        loan,
        kind="restructuring",
        interest_rate="5.000",
        term_months=12,
        grace_months=n % 4 // 2 * 2,
        repayment_method="equal_principal" if n % 3 else "equal_instalments",
        reason=f"Round {n}",
    ), "restructuring"


def _assert_one_consistent_state(loan: Loan, *, change_id: int, version: int, repaid: list):
    stored = Loan.objects.get(pk=loan.pk)
    schedule = list(Instalment.objects.filter(application_id=loan.application_id))
    position = loan_positions(loan_ids=[loan.pk], as_of=TODAY)[loan.pk]

    # The change is applied once, as the schedule's latest version.
    change = LoanApplication.objects.select_related("loan_change").get(pk=change_id)
    assert change.status == "change_applied"
    assert change.loan_change.applied_on == TODAY
    revisions = list(ScheduleRevision.objects.filter(loan=loan).order_by("number"))
    assert [r.number for r in revisions] == list(range(1, version + 1))
    assert revisions[-1].change_id == change_id
    applied = AuditEvent.objects.get(action="apply_change", application_id=change_id)
    assert applied.data["schedule_version"] == version

    # The schedule and the allocation agree: its principal is the loan's, what was paid of
    # it is every repayment, and what is outstanding is the rest.
    assert sum((i.principal for i in schedule), D("0")) == stored.principal
    assert sorted(i.number for i in schedule) == list(range(1, len(schedule) + 1))
    amounts = sorted(stored.repayments.values_list("amount", flat=True))
    assert amounts == sorted(repaid), "a repayment was lost"
    assert sum((i.paid for i in position.instalments), D("0")) == sum(repaid, D("0"))
    paid_principal = sum(
        (min(i.principal, max(D("0"), i.paid - i.interest)) for i in position.instalments),
        D("0"),
    )
    assert position.outstanding_principal == stored.principal - paid_principal
    assert position.outstanding_total == position.scheduled_total - position.paid_total

    # What the loan stores is that position, and the nightly job leaves it as it is.
    assert {f: getattr(stored, f) for f in FIGURES} == {f: getattr(position, f) for f in FIGURES}, (
        "the loan stores figures read before the other side committed"
    )
    daily_run(as_of=TODAY, loan_ids=[loan.pk])
    again = Loan.objects.get(pk=loan.pk)
    assert {f: getattr(again, f) for f in FIGURES} == {f: getattr(stored, f) for f in FIGURES}


@pytest.mark.django_db(transaction=True)
def test_changes_and_repayments_racing_on_one_loan_leave_one_consistent_state(staff, loan):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    ChangeTerms.objects.update_or_create(
        product=loan.application.product,
        defaults={"max_extensions": ROUNDS, "max_extension_months": ROUNDS},
    )
    repaid = list(loan.repayments.values_list("amount", flat=True))
    rm_id = staff["rm"].pk
    racers = Racers()
    overlapped = 0
    try:
        for n in range(ROUNDS):
            change_id, kind = _approved(staff, loan, n)
            amount = D("300.00") + n

            def apply(change_id=change_id):
                return change_apply(
                    actor=racers.actor(rm_id),
                    application_id=change_id,
                    agreement_reference=f"SA-{change_id}",
                )

            def repay(amount=amount):
                return services.repayment_record(
                    application_id=loan.application_id,
                    actor=racers.actor(rm_id),
                    amount=amount,
                    value_date=TODAY,
                )

            # Each side goes first on the barrier's release every other round; and every
            # other pair of rounds, the loan's row is held until both wait on it, so that
            # they meet inside their transactions whatever the timing.
            jobs = (apply, repay) if n % 2 else (repay, apply)
            met = True
            if n % 4 < 2:
                racers.start(*jobs)
            else:
                with transaction.atomic():
                    Loan.objects.select_for_update().get(pk=loan.pk)
                    racers.start(*jobs)
                    met = _until_both_wait_on_a_lock()
            results = racers.results()
            assert met, f"round {n}: the racers did not both wait on the loan's row"
            outcomes = {job.__name__: result for job, result in zip(jobs, results, strict=True)}
            assert all(r[0] == "ok" for r in results), (n, kind, outcomes)
            (_, _, start_a, end_a), (_, _, start_b, end_b) = results
            overlapped += start_a < end_b and start_b < end_a
            repaid.append(amount)
            _assert_one_consistent_state(loan, change_id=change_id, version=n + 1, repaid=repaid)
    finally:
        racers.stop()
    # The barrier did its work: the two calls ran at the same time in most rounds.
    assert overlapped >= ROUNDS // 2, f"only {overlapped} of {ROUNDS} rounds overlapped"
