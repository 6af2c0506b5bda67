"""The synthetic bank: branches, staff, companies, products, applications in every state with
realistic audit trails, then each stage's own volume (approval tasks, SLA deadlines, loans with
schedules and repayments, stage durations) where that stage's app provides the models."""

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from applications.models import LoanApplication, Product
from audit.models import AuditEvent
from audit.services import audit_history_import
from bench.bulk import copy_rows, reset_sequence
from customers.models import Company
from customers.uscc import with_check_character
from org.models import Branch, StaffProfile, TokenSecondFactor
from org.roles import SECOND_FACTOR_ROLES, Role, sync_role_groups
from postloan.models import ServicingTerms

# Share of applications per state, and the path of transitions that leads there.
STATE_MIX = [
    ("closed", 0.26),
    ("disbursed", 0.20),
    ("declined", 0.10),
    ("withdrawn", 0.05),
    ("draft", 0.05),
    ("submitted", 0.05),
    ("investigation", 0.08),
    ("in_approval", 0.10),
    ("info_requested", 0.02),
    ("approved", 0.04),
    ("contract_signed", 0.03),
    ("written_off", 0.02),
]
MAIN = [
    "draft",
    "submitted",
    "investigation",
    "in_approval",
    "approved",
    "contract_signed",
    "disbursed",
]
PATHS = {state: MAIN[: MAIN.index(state) + 1] for state in MAIN}
PATHS["closed"] = [*MAIN, "closed"]
PATHS["written_off"] = [*MAIN, "written_off"]
PATHS["declined"] = [*MAIN[:4], "declined"]
PATHS["withdrawn"] = [*MAIN[:3], "withdrawn"]
PATHS["info_requested"] = [*MAIN[:3], "info_requested"]
ACTIONS = {
    "submitted": "submit",
    "investigation": "start_investigation",
    "in_approval": "send_to_approval",
    "approved": "approve",
    "contract_signed": "sign_contract",
    "disbursed": "disburse",
    "closed": "close",
    "written_off": "write_off",
    "declined": "decline",
    "withdrawn": "withdraw",
    "info_requested": "request_information",
}
# Mean hours spent in each state before the next transition (exponential-ish spread).
MEAN_HOURS = {
    "draft": 20,
    "submitted": 10,
    "investigation": 60,
    "in_approval": 40,
    "approved": 30,
    "contract_signed": 20,
    "disbursed": 24 * 200,
}
INDUSTRIES = [
    "A01",
    "C13",
    "C17",
    "C26",
    "C34",
    "E47",
    "F51",
    "F52",
    "G54",
    "H61",
    "I65",
    "L72",
    "M74",
]
PASSWORD = "bench-Loanflow-2026"


@dataclass
class Bank:
    scale: float
    branches: list = field(default_factory=list)
    staff: dict = field(default_factory=dict)  # (branch_id, role) -> [user ids]
    tokens: dict = field(default_factory=dict)  # username -> token key
    head_office_user: str = ""
    product_ids: list = field(default_factory=list)
    app_ids_by_state: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    def n(self, full: int, minimum: int = 1) -> int:
        return max(minimum, int(full * self.scale))


def _past_second_factor(bank: Bank) -> None:
    """The roles that sign in with a second factor get an authenticator, and their tokens
    count as having just given a code, as a client that asked for its token with one (the run
    sets LOANFLOW_STEP_UP_MINUTES past its own length, bench/run.py): the API calls measured
    are those of a signed-in approver, not the step-up's refusals."""
    users = list(
        User.objects.filter(groups__name__in=SECOND_FACTOR_ROLES)
        .distinct()
        .values_list("pk", "username")
    )
    TOTPDevice.objects.bulk_create(
        [TOTPDevice(user_id=pk, name="bench", confirmed=True) for pk, _name in users]
    )
    now = timezone.now()
    TokenSecondFactor.objects.bulk_create(
        [
            TokenSecondFactor(token_id=bank.tokens[name], verified_at=now)
            for _pk, name in users
            if name in bank.tokens
        ]
    )


def load_core(bank: Bank, *, seed: int = 7) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    sync_role_groups()
    # The scorecard's metric definitions, as a bank configures them (the demo's), so that the
    # scorecard figure computes every metric.
    from analytics import demo as analytics_demo

    analytics_demo.seed()
    groups = {g.name: g for g in Group.objects.all()}
    head = Branch.objects.create(code="HO", name="Head office", level=Branch.Level.HEAD_OFFICE)
    bank.branches = [head]
    for i in range(20):
        bank.branches.append(
            Branch.objects.create(
                code=f"B{i:02d}", name=f"Branch {i:02d}", level=Branch.Level.BRANCH, parent=head
            )
        )
    working = bank.branches[1:]
    password = make_password(PASSWORD)
    per_branch = {
        Role.RELATIONSHIP_MANAGER: 6,
        Role.CREDIT_REVIEWER: 2,
        Role.APPROVER: 4,
        Role.COMMITTEE_MEMBER: 3,
        Role.DISBURSEMENT_OFFICER: 1,
        Role.DISBURSEMENT_CHECKER: 1,
        Role.RISK_OFFICER: 1,
        Role.BRANCH_HEAD: 1,
    }
    for branch in working:
        for role, count in per_branch.items():
            for k in range(count):
                user = User.objects.create(
                    username=f"{role}_{branch.code}_{k}",
                    password=password,
                    first_name=role,
                    last_name=str(k),
                )
                user.groups.add(groups[role])
                StaffProfile.objects.create(
                    user=user, branch=branch, authority_limit=Decimal("50000000")
                )
                bank.staff.setdefault((branch.pk, role), []).append(user.pk)
                bank.tokens[user.username] = Token.objects.create(user=user).key
    # Head office: a risk officer and a branch head who see the whole bank (analytics), and an
    # approver whose queue is the whole bank's.
    for role in (Role.RISK_OFFICER, Role.BRANCH_HEAD, Role.APPROVER):
        user = User.objects.create(username=f"{role}_HO", password=password)
        user.groups.add(groups[role])
        StaffProfile.objects.create(user=user, branch=head, authority_limit=Decimal("50000000"))
        bank.staff.setdefault((head.pk, role), []).append(user.pk)
        bank.tokens[user.username] = Token.objects.create(user=user).key
    bank.head_office_user = f"{Role.BRANCH_HEAD}_HO"
    _past_second_factor(bank)
    products = []
    for code, low, high, fast in [
        ("SME-WC", "50000", "5000000", False),
        ("SME-EQ", "100000", "20000000", False),
        ("SME-FT", "10000", "300000", True),
    ]:
        products.append(
            Product.objects.create(
                code=code,
                name=code,
                min_amount=Decimal(low),
                max_amount=Decimal(high),
                min_term_months=3,
                max_term_months=60,
                min_rate=Decimal("3"),
                max_rate=Decimal("15"),
                repayment_methods=["equal_instalments", "equal_principal", "interest_only_bullet"],
                guarantee_types=["credit", "guarantee", "mortgage", "pledge"],
                fast_track_eligible=fast,
            )
        )
    # Overdue interest (罚息) in the nightly job: the loans behind on two of the products accrue
    # it (one compounding on overdue contract interest); the third charges none.
    ServicingTerms.objects.bulk_create(
        [
            ServicingTerms(
                product=products[0],
                overdue_surcharge_rate=Decimal("50"),
                compound_overdue_interest=True,
            ),
            ServicingTerms(product=products[1], overdue_surcharge_rate=Decimal("50")),
        ]
    )
    bank.product_ids = [p.pk for p in products]
    snapshots = {p.pk: p.snapshot() for p in products}

    n_companies = bank.n(200_000, 20)
    now = timezone.now()
    copy_rows(
        Company,
        (
            {
                "id": i + 1,
                "name": f"Company {i + 1}",
                "credit_code": with_check_character(f"9111{i + 1:013d}"),
                "industry_code": INDUSTRIES[i % len(INDUSTRIES)],
                "registration_date": (now - timedelta(days=365 * (2 + i % 15))).date(),
                "employees": 5 + i % 200,
                "legal_representative": f"Rep {i % (n_companies // 2 + 1)}",
                "legal_representative_id": f"1101011980{i % (n_companies // 2 + 1):08d}",
                "home_branch_id": working[i % len(working)].pk,
                "created_at": now,
            }
            for i in range(n_companies)
        ),
        now=now,
    )
    reset_sequence(Company)
    bank.timings["companies"] = n_companies

    n_apps = bank.n(1_000_000, 200)
    n_audit_target = bank.n(5_000_000, 1000)
    states = []
    for state, share in STATE_MIX:
        states += [state] * int(round(share * n_apps))
    states = (states + ["draft"] * n_apps)[:n_apps]
    rng.shuffle(states)
    apps_by_state: dict[str, list[int]] = {}
    events: list[dict] = []
    rm_cycle = {}

    def app_rows(indexes):
        for i in indexes:
            state = states[i]
            pk = i + 1
            branch = working[i % len(working)]
            rms = bank.staff[(branch.pk, Role.RELATIONSHIP_MANAGER)]
            rm = rms[rm_cycle.setdefault(branch.pk, i) % len(rms)]
            product_id = bank.product_ids[i % 3]
            created = now - timedelta(hours=rng.uniform(1, 24 * 720))
            t = created
            history = []
            for prev, nxt in zip(PATHS[state], PATHS[state][1:], strict=False):
                t = t + timedelta(hours=rng.expovariate(1 / MEAN_HOURS.get(prev, 24)))
                history.append((prev, nxt, t))
            if t > now:  # keep histories in the past
                shift = t - now + timedelta(minutes=5)
                created -= shift
                history = [(a, b, at - shift) for a, b, at in history]
            apps_by_state.setdefault(state, []).append(pk)
            amount = Decimal(rng.choice([50, 80, 120, 200, 300, 500, 800, 1500, 3200, 6000]) * 1000)
            events.append(
                {
                    "at": created,
                    "kind": "action",
                    "application_id": pk,
                    "actor_id": rm,
                    "actor_role": "relationship_manager",
                    "action": "create",
                    "to_state": "draft",
                }
            )
            for prev, nxt, at in history:
                events.append(
                    {
                        "at": at,
                        "kind": "transition",
                        "application_id": pk,
                        "actor_id": rm,
                        "actor_role": "relationship_manager",
                        "action": ACTIONS[nxt],
                        "from_state": prev,
                        "to_state": nxt,
                    }
                )
            last = history[-1][2] if history else created
            yield {
                "id": pk,
                "reference": f"LB{pk:010d}",
                "company_id": i % n_companies + 1,
                "branch_id": branch.pk,
                "product_id": product_id,
                "product_snapshot": snapshots[product_id],
                "amount": amount,
                "currency": "CNY",
                "term_months": rng.choice([6, 12, 24, 36]),
                "interest_rate": Decimal("4.350"),
                "repayment_method": "equal_instalments",
                "guarantee_type": "credit",
                "purpose": "Working capital",
                "channel": "branch",
                "language": "zh-hans",
                "status": state,
                "resume_status": "investigation" if state == "info_requested" else "",
                "status_changed_at": last,
                "filed_by_id": rm,
                "relationship_manager_id": rm,
                "investigator_id": rm if len(PATHS[state]) > 2 else None,
                "risk_grade": "ABCDE"[pk % 5] if len(PATHS[state]) > 3 else "",
                "risk_score": 700 - (pk % 5) * 60 if len(PATHS[state]) > 3 else None,
                "route_recommendation": "standard" if len(PATHS[state]) > 3 else "",
                "created_at": created,
                "updated_at": last,
                "submitted_at": history[0][2] if history else None,
            }

    # One COPY at a time on the connection: each chunk's applications, then their trail.
    for chunk_start in range(0, n_apps, 20_000):
        copy_rows(
            LoanApplication,
            app_rows(range(chunk_start, min(n_apps, chunk_start + 20_000))),
            now=now,
        )
        # The bench loads as the database's owner, so the trail keeps its past dates; the
        # insert trigger links every row into its chain as it would in production.
        with audit_history_import():
            copy_rows(AuditEvent, events)
        events.clear()
    reset_sequence(LoanApplication)
    # Pad the trail to its target with follow-up actions on open work (notes, reviews).
    have = AuditEvent.objects.count()
    missing = max(0, n_audit_target - have)
    open_ids = [
        pk for s in ("investigation", "in_approval", "disbursed") for pk in apps_by_state.get(s, [])
    ]
    if missing and open_ids:

        def extra():
            for k in range(missing):
                yield {
                    "at": now - timedelta(hours=rng.uniform(1, 24 * 700)),
                    "kind": "action",
                    "application_id": open_ids[k % len(open_ids)],
                    "actor_role": "system",
                    "action": "note",
                }

        with audit_history_import():
            copy_rows(AuditEvent, extra())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bank.app_ids_by_state = apps_by_state
    bank.timings["applications"] = n_apps
    bank.timings["audit_rows"] = AuditEvent.objects.count()
    bank.timings["core_load_seconds"] = round(time.perf_counter() - started, 1)


def bank_from_database(*, scale: float) -> Bank:
    """The Bank of a database loaded by an earlier run with --keep (bench/run.py --reuse), read
    back from its rows: branches, staff by branch and role, their tokens (counted as having
    just given a second factor again), the products and the applications by state now."""
    bank = Bank(scale=scale)
    head = Branch.objects.get(code="HO")
    bank.branches = [head, *Branch.objects.filter(parent=head).order_by("code")]
    for user_pk, username, key, branch_id, role in (
        StaffProfile.objects.filter(branch__in=bank.branches)
        .values_list(
            "user_id", "user__username", "user__auth_token__key", "branch_id", "user__groups__name"
        )
        .order_by("user_id")
    ):
        if key is None or role is None:
            continue
        bank.tokens[username] = key
        bank.staff.setdefault((branch_id, role), []).append(user_pk)
    bank.head_office_user = f"{Role.BRANCH_HEAD}_HO"
    now = timezone.now()
    TokenSecondFactor.objects.filter(token_id__in=list(bank.tokens.values())).update(
        verified_at=now
    )
    by_code = dict(Product.objects.values_list("code", "pk"))
    bank.product_ids = [by_code["SME-WC"], by_code["SME-EQ"], by_code["SME-FT"]]
    for pk, status in LoanApplication.objects.values_list("pk", "status").order_by("pk"):
        bank.app_ids_by_state.setdefault(status, []).append(pk)
    from analytics.models import StageVisit
    from approvals.models import ApprovalTask
    from facilities.models import Drawdown, Facility
    from postloan.models import Loan

    bank.timings["applications"] = sum(len(ids) for ids in bank.app_ids_by_state.values())
    bank.timings["active_loans"] = Loan.objects.filter(status=Loan.Status.ACTIVE).count()
    bank.timings["stage_visits"] = StageVisit.objects.count()
    # The tier-1 tasks still open and unclaimed (the earlier runs' claims stay).
    bank.task_ids = list(
        ApprovalTask.objects.filter(step="tier1", status="open", claimed_by__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # The companies with a facility, those that have drawn under it first (the exposure read).
    drawn = set(
        Drawdown.objects.filter(
            status=Drawdown.Status.APPROVED, application__status="disbursed"
        ).values_list("facility__company_id", flat=True)
    )
    companies = list(Facility.objects.order_by("pk").values_list("company_id", flat=True))
    bank.facility_company_ids = [pk for pk in companies if pk in drawn] + [
        pk for pk in companies if pk not in drawn
    ]
    bank.drawdowns_waiting = list(
        Drawdown.objects.filter(status=Drawdown.Status.REQUESTED)
        .order_by("pk")
        .values_list("pk", "facility__branch_id")
    )
    return bank
