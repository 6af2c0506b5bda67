"""Each stage's volume for the synthetic bank, loaded with the stage's own models."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from bench.bulk import copy_rows, reset_sequence
from org.roles import Role


def _branch_of(bank, app_pk: int):
    working = bank.branches[1:]
    return working[(app_pk - 1) % len(working)]


def load_approval_tasks(bank) -> None:
    """One approval record and one open task per application in approval (100k at scale 1)."""
    from approvals.models import ApprovalRecord, ApprovalTask

    rng = random.Random(11)
    now = timezone.now()
    ids = bank.app_ids_by_state.get("in_approval", [])
    route = [
        {
            "code": "tier1",
            "name": "Tier-1 approval",
            "role": Role.APPROVER,
            "checks_limit": True,
            "is_committee": False,
            "sla_hours": 16,
        }
    ]
    copy_rows(
        ApprovalRecord,
        (
            {
                "id": pk,
                "application_id": pk,
                "route": route,
                "reason": "bench: tier-1 route",
                "status": "in_progress",
                "created_at": now,
            }
            for pk in ids
        ),
        now=now,
    )
    reset_sequence(ApprovalRecord)
    copy_rows(
        ApprovalTask,
        (
            {
                "id": pk,
                "application_id": pk,
                "record_id": pk,
                "kind": "step",
                "step_index": 0,
                "step": "tier1",
                "step_name": "Tier-1 approval",
                "role": Role.APPROVER,
                "branch_id": _branch_of(bank, pk).pk,
                "status": "open",
                "due_at": now + timedelta(hours=rng.uniform(-48, 120)),
                "created_at": now,
            }
            for pk in ids
        ),
        now=now,
    )
    reset_sequence(ApprovalTask)
    bank.timings["open_approval_tasks"] = len(ids)
    bank.task_ids = ids


def load_deadlines(bank) -> None:
    """Open SLA deadlines (1M at scale 1), of which 1% are past due."""
    from sla.models import Deadline

    now = timezone.now()
    total = bank.n(1_000_000, 100)
    due = bank.n(10_000, 10)
    task_ids = getattr(bank, "task_ids", [])

    def rows():
        for k in range(total):
            if k < len(task_ids):
                subject_type, subject_id, step = "approvals.task", task_ids[k], "tier1"
            else:
                subject_type, subject_id, step = "bench.synthetic", k, "investigation"
            past = k % (total // due) == 0 and k // (total // due) < due
            started = now - timedelta(days=6 if past else 1)
            due_at = now - timedelta(hours=2) if past else now + timedelta(days=2 + k % 5)
            yield {
                "subject_type": subject_type,
                "subject_id": subject_id,
                "step": step,
                "role": Role.APPROVER,
                "branch_id": bank.branches[1 + k % 20].pk,
                "region": "CN",
                "target_business_seconds": 16 * 3600,
                "started_at": started,
                "due_at": due_at,
                "reminder_at": due_at - timedelta(hours=4),
                "next_fire_at": due_at if past else due_at - timedelta(hours=4),
                "status": "pending",
                "escalation_level": 0,
                "reminder_fired_at": now - timedelta(hours=3) if past else None,
            }

    copy_rows(Deadline, rows(), now=now)
    with connection.cursor() as cursor:
        # A task is due when its SLA deadline is: 1% of the open tasks are overdue, as 1% of
        # the deadlines are.
        cursor.execute(
            "UPDATE approvals_approvaltask t SET due_at = d.due_at "
            "FROM sla_deadline d WHERE d.subject_type = 'approvals.task' "
            "AND d.subject_id = t.id"
        )
        cursor.execute("ANALYZE sla_deadline; ANALYZE approvals_approvaltask")
    bank.timings["open_deadlines"] = total
    bank.timings["deadlines_due"] = due


# A share of the loans was restructured (重组, postloan.changes.change_apply) after falling
# behind: from 3 days to 18 months ago, so some are still in their monitoring period (their
# product's classification floor holds) and some are past it.
RESTRUCTURED_SHARE = 0.02


def _month_add(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _change_terms(bank) -> dict:
    """The loan products' rules for a restructured loan: the equal-instalment product is held
    at substandard (次级) for a year, the others at the defaults (special mention, six months);
    read back as postloan.changes reads them. With the bank's days-past-due floors (the
    demo's: special mention from 1 day, substandard from 91, doubtful from 271, loss from
    361), so a restructured floor is measured against the class the days alone give."""
    from applications.models import Product
    from postloan.changes import change_terms_for
    from postloan.demo import FLOORS
    from postloan.models import ChangeTerms, Classification, ClassificationFloor

    for days, classification in FLOORS:
        ClassificationFloor.objects.get_or_create(
            min_days_past_due=days, defaults={"classification": classification}
        )

    ChangeTerms.objects.get_or_create(
        product_id=bank.product_ids[1],
        defaults={"restructured_floor": Classification.SUBSTANDARD, "monitoring_months": 12},
    )
    return {
        product.pk: change_terms_for(product)
        for product in Product.objects.filter(pk__in=bank.product_ids)
    }


def _restructuring(rng, *, today, due_dates):
    """When the loan was restructured (from 3 days to 18 months ago, after its first
    instalment fell due and before its last) and how many of its instalments were due by
    then, or None when it was not."""
    if rng.random() >= RESTRUCTURED_SHARE or len(due_dates) < 2:
        return None
    earliest = max(due_dates[0], today - timedelta(days=540))
    latest = min(today - timedelta(days=3), due_dates[-2])
    if earliest > latest:
        return None
    on = earliest + timedelta(days=rng.randint(0, (latest - earliest).days))
    return on, sum(1 for d in due_dates if d <= on)


def load_loans(bank) -> None:
    """Active loans (200k at scale 1) with monthly schedules and the repayments made so far;
    about one in eight is behind. Two of the three products charge overdue interest (load_core's
    servicing terms), so the loans behind on them accrue it each night. 2% of those that
    had an instalment due in the last 18 months (1.5 to 2% of all) were restructured after
    falling behind, written as postloan.changes.change_apply leaves them:
    the change application (applied) with its LoanChange, the schedule replaced (the old one
    kept as a ScheduleRevision, the instalments due by then kept with their unpaid principal
    capitalised, their interest paid on the day, the rest drawn again over a new term), the
    loan's term, and the loan's floor and monitoring period from its product's change terms.
    Like every loan here, they are loaded unclassified: the nightly job's first run sets the
    class, from the days past due and, through the monitoring period, the floor."""
    from applications.models import ChangeKind, LoanApplication
    from disbursement.models import Instalment
    from disbursement.schedule import add_months
    from postloan.models import Loan, LoanChange, Repayment, ScheduleRevision

    rng = random.Random(13)
    # Its own draws: the loans that are not restructured are the bank's as before.
    rng_change = random.Random(29)
    today = timezone.localdate()
    now = timezone.now()
    ids = bank.app_ids_by_state.get("disbursed", [])
    terms_of = _change_terms(bank)
    rm_of = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, relationship_manager_id, amount, term_months, product_id, company_id, "
            "branch_id, interest_rate FROM applications_loanapplication "
            "WHERE status = 'disbursed'"
        )
        for pk, rm, amount, term, product, company, branch, annual in cursor.fetchall():
            rm_of[pk] = (rm, amount, term, product, company, branch, annual)
    next_id = LoanApplication.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    instalments, loans, repayments = [], [], []
    changes, loan_changes, revisions, new_terms = [], [], [], {}
    n_instalments = 0
    rate = Decimal("0.0435")

    def instalment(pk, n, d, principal, interest):
        return {
            "application_id": pk,
            "number": n,
            "due_date": d,
            "principal": principal,
            "interest": interest,
            "total": principal + interest,
            "currency": "CNY",
        }

    def repaid(pk, rm, n, amount, on):
        repayments.append(
            {
                "loan_id": pk,
                "amount": amount,
                "currency": "CNY",
                "value_date": on,
                "source": "import",
                "external_id": f"B{pk}-{n}",
                "recorded_by_id": rm,
            }
        )

    for pk in ids:
        rm, amount, term, product, company, branch, annual = rm_of[pk]
        start = today - timedelta(days=rng.randint(20, 30 * term - 10))
        per = (amount / term).quantize(Decimal("0.01"))
        interest = (amount * rate / 12).quantize(Decimal("0.01"))
        due_dates = [_month_add(start, n) for n in range(1, term + 1)]
        past = [d for d in due_dates if d < today]
        behind = rng.randint(1, 4) if rng.random() < 0.125 else 0
        schedule = [
            instalment(pk, n, d, per if n < term else amount - per * (term - 1), interest)
            for n, d in enumerate(due_dates, 1)
        ]
        restructured = _restructuring(rng_change, today=today, due_dates=due_dates)
        loan = {
            "id": pk,
            "application_id": pk,
            "branch_id": _branch_of(bank, pk).pk,
            "relationship_manager_id": rm,
            "company_id": company,
            "interest_rate": annual,
            "term_months": term,
            "status": "active",
            "currency": "CNY",
            "principal": amount,
            "disbursed_on": start,
            "classification": "normal",
            "created_at": now,
            "next_inspection_due": start + timedelta(days=90),
        }
        if restructured is None:
            paid = max(0, len(past) - behind)
            for n in range(paid):
                repaid(pk, rm, n, per + interest, due_dates[n])
            paid_total = (per + interest) * paid
            outstanding_principal = amount - per * paid
        else:
            on, kept = restructured
            # Behind when restructured: the principal of the instalments it had not paid is
            # capitalised (their interest stays due, and is paid on the day).
            unpaid = min(kept, rng_change.randint(1, 3))
            paid = kept - unpaid
            for n in range(paid):
                repaid(pk, rm, n, per + interest, due_dates[n])
            repaid(pk, rm, "R", interest * unpaid, on)
            revisions.append(
                {
                    "loan_id": pk,
                    "number": 1,
                    "change_id": next_id + 1,
                    "instalments": [
                        {
                            "number": i["number"],
                            "due_date": i["due_date"].isoformat(),
                            "principal": str(i["principal"]),
                            "interest": str(i["interest"]),
                            "total": str(i["total"]),
                        }
                        for i in schedule
                    ],
                    "created_at": now,
                }
            )
            for i in schedule[paid:kept]:
                i.update(principal=Decimal("0.00"), total=i["interest"])
            left = amount - per * paid
            # The new term runs past today (a loan repaid in full is closed, not active).
            months = max(
                rng_change.choice([12, 24, 36]), _month_index(today) - _month_index(on) + 2
            )
            per2 = (left / months).quantize(Decimal("0.01"))
            interest2 = (left * rate / 12).quantize(Decimal("0.01"))
            new_dates = [_month_add(on, n) for n in range(1, months + 1)]
            schedule = schedule[:kept] + [
                instalment(
                    pk, kept + n, d, per2 if n < months else left - per2 * (months - 1), interest2
                )
                for n, d in enumerate(new_dates, 1)
            ]
            # One in four of them is behind again.
            again = rng_change.randint(1, 3) if rng_change.random() < 0.25 else 0
            paid2 = max(0, sum(1 for d in new_dates if d < today) - again)
            for n in range(paid2):
                repaid(pk, rm, kept + n, per2 + interest2, new_dates[n])
            paid = kept + paid2
            paid_total = (per + interest) * (kept - unpaid) + interest * unpaid
            paid_total += (per2 + interest2) * paid2
            outstanding_principal = left - per2 * paid2
            terms = terms_of[product]
            next_id += 1
            at = timezone.make_aware(datetime.combine(on, time(10)))
            changes.append(
                {
                    "id": next_id,
                    "reference": f"LC{next_id:010d}",
                    "company_id": company,
                    "branch_id": branch,
                    "product_id": product,
                    "product_snapshot": {},
                    "amount": left,
                    "currency": "CNY",
                    "term_months": months,
                    "interest_rate": Decimal("4.350"),
                    "repayment_method": "equal_instalments",
                    "guarantee_type": "credit",
                    "purpose": "Restructuring",
                    "channel": "branch",
                    "language": "zh-hans",
                    "change_of_id": pk,
                    "change_kind": ChangeKind.RESTRUCTURING,
                    "status": "change_applied",
                    "status_changed_at": at,
                    "filed_by_id": rm,
                    "relationship_manager_id": rm,
                    "investigator_id": rm,
                    "created_at": at - timedelta(days=14),
                    "updated_at": at,
                    "submitted_at": at - timedelta(days=14),
                }
            )
            loan_changes.append(
                {
                    "application_id": next_id,
                    "loan_id": pk,
                    "reason": "bench: behind, restructured",
                    "agreement_reference": f"SA-{pk}",
                    "agreement_signed_on": on,
                    "applied_on": on,
                    "created_at": at - timedelta(days=14),
                }
            )
            new_term = _month_index(new_dates[-1]) - _month_index(start)
            new_terms.setdefault(new_term, []).append(pk)
            loan.update(
                term_months=new_term,
                restructured_on=on,
                restructured_floor=terms.restructured_floor,
                monitoring_until=add_months(on, terms.monitoring_months),
            )
        scheduled = sum((i["total"] for i in schedule), Decimal(0))
        instalments.extend(schedule)
        n_instalments += len(schedule)
        loans.append(
            {
                **loan,
                "scheduled_total": scheduled,
                "paid_total": paid_total,
                "outstanding_total": scheduled - paid_total,
                "outstanding_principal": outstanding_principal,
                "paid_instalments": paid,
            }
        )
        if len(instalments) > 200_000:
            copy_rows(Instalment, instalments)
            instalments.clear()
    copy_rows(Instalment, instalments)
    copy_rows(Loan, loans)
    reset_sequence(Loan)
    copy_rows(Repayment, repayments)
    # The restructurings: the change applications (a product snapshot of their loan's), what
    # each applied, the schedules they replaced, the loans' terms from then on.
    for row in changes:
        row["product_snapshot"] = bank.product_snapshots[row["product_id"]]
    copy_rows(LoanApplication, changes, now=now)
    reset_sequence(LoanApplication)
    copy_rows(LoanChange, loan_changes, now=now)
    copy_rows(ScheduleRevision, revisions, now=now)
    for months, pks in new_terms.items():
        LoanApplication.objects.filter(pk__in=pks).update(term_months=months)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE disbursement_instalment; ANALYZE postloan_loan; ANALYZE postloan_repayment"
        )
    bank.timings["active_loans"] = len(ids)
    bank.timings["instalments"] = n_instalments
    bank.timings["restructured_loans"] = len(changes)


def load_stage_visits(bank) -> None:
    """Stage durations as the analytics app records them when each stage ends, derived once
    from the synthetic audit trail: each visit with when the application last left the same
    stage and any measured stage (no synthetic visit is rework), written in the order the
    visits ended, as a live table holds them."""
    from analytics.models import MEASURED_STAGES

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO analytics_stagevisit
                (application_id, stage, entered_at, left_at, calendar_seconds,
                 business_seconds, business_time_exact, actor_id, actor_role, branch_id,
                 product_id, route, relationship_manager_id, transition, outcome, is_rework,
                 previous_left_at, application_previous_left_at)
            SELECT e.application_id, e.to_state, e.at, e.next_at,
                   EXTRACT(EPOCH FROM e.next_at - e.at)::bigint,
                   (EXTRACT(EPOCH FROM e.next_at - e.at) / 3)::bigint, false,
                   e.actor_id, e.actor_role, a.branch_id, a.product_id,
                   a.route_recommendation, a.relationship_manager_id,
                   COALESCE(e.next_action, ''),
                   COALESCE(e.next_state, ''), false,
                   lag(e.next_at) OVER (PARTITION BY e.application_id, e.to_state
                                        ORDER BY e.at, e.id),
                   max(CASE WHEN e.to_state = ANY(%s) THEN e.next_at END)
                       OVER (PARTITION BY e.application_id ORDER BY e.at, e.id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
            FROM (
                SELECT id, application_id, to_state, at, actor_id, actor_role,
                       lead(at) OVER w AS next_at, lead(action) OVER w AS next_action,
                       lead(to_state) OVER w AS next_state
                FROM audit_auditevent
                WHERE kind = 'transition' OR action = 'create'
                WINDOW w AS (PARTITION BY application_id ORDER BY at, id)
            ) e JOIN applications_loanapplication a ON a.id = e.application_id
            ORDER BY e.next_at NULLS LAST
        """,
            [[str(stage) for stage in MEASURED_STAGES]],
        )
        bank.timings["stage_visits"] = cursor.rowcount
        # Autovacuum keeps a live table's visibility map set; the figures' index-only scans
        # depend on it.
        cursor.execute("VACUUM ANALYZE analytics_stagevisit")


def load_facilities(bank) -> None:
    """A credit facility for every tenth company (20k at scale 1): the revolving line product
    with its facility terms (drawdowns decided by a drawdown approver), the facility's
    application (contract signed) and the facility (active, 1M to 5M, two years). Half have
    drawn: a disbursed drawdown whose loan (one instalment due in six months) owes 30% of the
    limit. Each has one drawdown of 10% of its limit waiting for an approver (the figures
    decide them). Loaded after the loans, so the daily job and the analytics see the drawdown
    loans as any other."""
    from applications.models import LoanApplication, Product
    from customers.models import Company
    from disbursement.models import Instalment
    from facilities.models import Drawdown, DrawdownApproval, Facility, FacilityTerms
    from postloan.models import Loan

    now = timezone.now()
    today = timezone.localdate()
    product = Product.objects.create(
        code="SME-LINE",
        name="SME revolving line",
        min_amount=Decimal("100000"),
        max_amount=Decimal("5000000"),
        min_term_months=12,
        max_term_months=36,
        min_rate=Decimal("3"),
        max_rate=Decimal("15"),
        repayment_methods=["equal_instalments", "interest_only_bullet"],
        guarantee_types=["credit", "guarantee"],
    )
    FacilityTerms.objects.create(
        product=product,
        revolving=True,
        max_drawdown_term_months=12,
        drawdown_approval=DrawdownApproval.APPROVER,
    )
    snapshot = product.snapshot()
    companies = list(
        Company.objects.annotate(tenth=F("id") % 10)
        .filter(tenth=0)
        .values_list("pk", "home_branch_id")
        .order_by("pk")
    )
    next_id = (LoanApplication.objects.order_by("-pk").values_list("pk", flat=True).first()) or 0
    applications, facilities, drawdowns, loans, instalments = [], [], [], [], []
    waiting = []
    for k, (company_id, branch_id) in enumerate(companies):
        rm = bank.staff[(branch_id, Role.RELATIONSHIP_MANAGER)][k % 6]
        limit = Decimal(1_000_000 * (1 + k % 5))

        def application(
            pk, amount, status, term, company_id=company_id, branch_id=branch_id, rm=rm
        ):
            return {
                "id": pk,
                "reference": f"LF{pk:010d}",
                "company_id": company_id,
                "branch_id": branch_id,
                "product_id": product.pk,
                "product_snapshot": snapshot,
                "amount": amount,
                "currency": "CNY",
                "term_months": term,
                "interest_rate": Decimal("4.350"),
                "repayment_method": "equal_instalments",
                "guarantee_type": "credit",
                "purpose": "Revolving line",
                "channel": "branch",
                "language": "zh-hans",
                "status": status,
                "status_changed_at": now,
                "filed_by_id": rm,
                "relationship_manager_id": rm,
                "investigator_id": rm,
                "risk_grade": "B",
                "route_recommendation": "standard",
                "created_at": now,
                "updated_at": now,
            }

        next_id += 1
        facility_app = next_id
        applications.append(application(facility_app, limit, "contract_signed", 24))
        facilities.append(
            {
                "id": k + 1,
                "application_id": facility_app,
                "company_id": company_id,
                "branch_id": branch_id,
                "amount": limit,
                "currency": "CNY",
                "term_months": 24,
                "revolving": True,
                "max_drawdown_term_months": 12,
                "min_rate": Decimal("4.350"),
                "max_rate": Decimal("15.000"),
                "conditions": [],
                "drawdown_approval": DrawdownApproval.APPROVER,
                "approved_on": today - timedelta(days=30),
                "expires_on": today + timedelta(days=700),
                "status": Facility.Status.ACTIVE,
                "status_changed_at": now,
                "created_at": now,
            }
        )
        drawdown = {
            "facility_id": k + 1,
            "currency": "CNY",
            "term_months": 6,
            "interest_rate": Decimal("4.350"),
            "repayment_method": "equal_instalments",
            "purpose": "Working capital",
            "approval_reasons": ["facility_rule"],
            "requested_by_id": rm,
            "requested_at": now,
        }
        if k % 2 == 0:
            next_id += 1
            drawn = (limit * Decimal("0.3")).quantize(Decimal("0.01"))
            interest = (drawn * Decimal("0.0435") / 2).quantize(Decimal("0.01"))
            applications.append(application(next_id, drawn, "disbursed", 6))
            drawdowns.append(
                {
                    **drawdown,
                    "application_id": next_id,
                    "amount": drawn,
                    "status": Drawdown.Status.APPROVED,
                    "decided_at": now,
                }
            )
            loans.append(
                {
                    "id": next_id,
                    "application_id": next_id,
                    "branch_id": branch_id,
                    "relationship_manager_id": rm,
                    "company_id": company_id,
                    "interest_rate": Decimal("4.350"),
                    "term_months": 6,
                    "status": "active",
                    "currency": "CNY",
                    "principal": drawn,
                    "disbursed_on": today - timedelta(days=20),
                    "scheduled_total": drawn + interest,
                    "paid_total": Decimal("0"),
                    "outstanding_total": drawn + interest,
                    "outstanding_principal": drawn,
                    "paid_instalments": 0,
                    "classification": "normal",
                    "created_at": now,
                    "next_inspection_due": today + timedelta(days=70),
                }
            )
            instalments.append(
                {
                    "application_id": next_id,
                    "number": 1,
                    "due_date": today + timedelta(days=160),
                    "principal": drawn,
                    "interest": interest,
                    "total": drawn + interest,
                    "currency": "CNY",
                }
            )
        waiting.append({**drawdown, "amount": limit / 10, "status": Drawdown.Status.REQUESTED})
    copy_rows(LoanApplication, applications, now=now)
    reset_sequence(LoanApplication)
    copy_rows(Facility, facilities, now=now)
    reset_sequence(Facility)
    copy_rows(Loan, loans, now=now)
    copy_rows(Instalment, instalments, now=now)
    copy_rows(Drawdown, drawdowns + waiting, now=now)
    reset_sequence(Drawdown)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE applications_loanapplication; ANALYZE facilities_facility; "
            "ANALYZE facilities_drawdown; ANALYZE postloan_loan"
        )
    bank.facility_company_ids = [pk for pk, _branch in companies]
    bank.drawdowns_waiting = list(
        Drawdown.objects.filter(status=Drawdown.Status.REQUESTED)
        .order_by("pk")
        .values_list("pk", "facility__branch_id")
    )
    bank.timings["facilities"] = len(facilities)
    bank.timings["drawdown_loans"] = len(loans)


LOADERS = [load_approval_tasks, load_deadlines, load_loans, load_stage_visits, load_facilities]
