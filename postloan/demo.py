"""Demo configuration of post-loan monitoring: the five-category floors, inspection rules and
early-warning rules; optionally a history of repayments for disbursed demo loans."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction

QUESTIONS = [
    {
        "key": "use_of_funds",
        "label": "Were the funds used for the stated purpose?",
        "label_zh": "贷款资金是否按约定用途使用？",
        "required": True,
    },
    {
        "key": "operations",
        "label": "Are operations normal (site, staff, stock)?",
        "label_zh": "经营是否正常（场地、人员、库存）？",
    },
    {
        "key": "collateral",
        "label": "Is the collateral or guarantee still in place?",
        "label_zh": "抵押物或担保是否仍然有效？",
    },
]

FLOORS = [(1, "special_mention"), (91, "substandard"), (271, "doubtful"), (361, "loss")]

INSPECTIONS = [
    # ((name, Chinese name), kind, classification, days, method)
    (
        ("First check on the use of funds (15 days)", "首次检查资金用途（15天内）"),
        "first_use_of_funds",
        "",
        15,
        "site_visit",
    ),
    (
        ("Periodic inspection, normal: every 90 days", "定期检查，正常类：每90天"),
        "periodic",
        "normal",
        90,
        "remote",
    ),
    (
        ("Periodic inspection, special mention: every 30 days", "定期检查，关注类：每30天"),
        "periodic",
        "special_mention",
        30,
        "site_visit",
    ),
    (
        ("Periodic inspection, substandard: every 30 days", "定期检查，次级类：每30天"),
        "periodic",
        "substandard",
        30,
        "site_visit",
    ),
    (
        ("Periodic inspection, doubtful: every 15 days", "定期检查，可疑类：每15天"),
        "periodic",
        "doubtful",
        15,
        "site_visit",
    ),
    (
        ("Periodic inspection, loss: every 15 days", "定期检查，损失类：每15天"),
        "periodic",
        "loss",
        15,
        "site_visit",
    ),
]

# The Chinese names of the warning rules, by code.
WARNING_NAMES_ZH = {
    "overdue": "逾期还款",
    "dpd-30": "逾期30天",
    "dpd-90": "逾期90天",
    "negative-finding": "检查发现负面情况",
    "revenue-drop-30": "收入下降30%及以上",
    "guarantor": "保证人出现问题",
    "litigation": "涉诉或被强制执行",
    "inspection-overdue": "检查逾期7天",
    "exposure-above-limit": "授信集中度超限",
    "post-review-concern": "自动审批复核提出疑虑",
    "source-bureau-overdue": "征信新增逾期",
    "source-tax-grade-d": "纳税信用等级降为D",
    "source-court-record": "新增失信或被执行记录",
    "source-abnormal-operation": "工商经营异常",
    "source-legal-rep-change": "法定代表人变更",
}

WARNINGS = [
    # (code, name, kind, threshold, severity, creates_inspection)
    (
        "exposure-above-limit",
        "Exposure above a concentration limit",
        "exposure_above_limit",
        "0",
        "high",
        False,
    ),
    (
        "post-review-concern",
        "Concern raised on an automatic approval",
        "post_review_concern",
        "0",
        "high",
        False,
    ),
    # New bad news at a post-loan re-query of the sources (datasources.checks.news).
    (
        "source-bureau-overdue",
        "New overdue at the credit bureau",
        "source_bureau_overdue",
        "0",
        "high",
        False,
    ),
    (
        "source-tax-grade-d",
        "Tax credit grade dropped to D",
        "source_tax_grade_d",
        "0",
        "high",
        False,
    ),
    (
        "source-court-record",
        "New dishonest-debtor or enforcement record",
        "source_court_record",
        "0",
        "critical",
        False,
    ),
    (
        "source-abnormal-operation",
        "Abnormal operation at the business registry",
        "source_abnormal_operation",
        "0",
        "high",
        False,
    ),
    (
        "source-legal-rep-change",
        "Change of legal representative",
        "source_legal_rep_change",
        "0",
        "medium",
        False,
    ),
    ("overdue", "Overdue instalment", "overdue_instalment", "1", "medium", False),
    ("dpd-30", "30 days past due", "dpd_threshold", "30", "high", True),
    ("dpd-90", "90 days past due", "dpd_threshold", "90", "critical", True),
    ("negative-finding", "Negative inspection finding", "negative_finding", "0", "high", True),
    ("revenue-drop-30", "Revenue down 30% or more", "revenue_drop", "30", "high", True),
    ("guarantor", "Guarantor in trouble", "guarantor_trouble", "0", "high", True),
    ("litigation", "Litigation or enforcement", "litigation", "0", "critical", True),
    (
        "inspection-overdue",
        "Inspection overdue by 7 days",
        "inspection_overdue",
        "7",
        "medium",
        False,
    ),
]


# The demo products' servicing terms (postloan.ServicingTerms), by product code: which
# prepayments, the fee on the principal prepaid, and overdue interest (罚息) as a surcharge
# over the contract rate, compounding on overdue contract interest (复利) where the contract
# says so, as the PBoC's rules let a bank charge. A product missing here (another stage's
# demo did not make it) is skipped.
SERVICING_TERMS = {
    "SME-WC": {
        "prepayment_fee_rate": Decimal("0"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": True,
        "note": "Prepay on any working day, in full or in part, without a fee; tell your "
        "relationship manager three working days before.",
        "note_zh": "可在任一工作日全部或部分提前还款，不收取违约金；请提前三个工作日告知客户经理。",
    },
    "SME-TAX": {
        "allow_shorten_term": False,
        "prepayment_fee_rate": Decimal("0"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": True,
        "note": "Prepay in full, or in part with a lower instalment, without a fee.",
        "note_zh": "可全部提前还款，或部分提前还款并降低每期还款额，不收取违约金。",
    },
    "SME-EQP": {
        "prepayment_fee_rate": Decimal("1"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": True,
        "note": "A prepayment fee of 1% of the principal prepaid; choose a shorter term or a "
        "lower instalment for a partial prepayment.",
        "note_zh": "提前还款按提前归还本金的1%收取违约金；部分提前还款可选择缩短期限或降低每期还款额。",
    },
    "SME-SCF": {
        "allow_shorten_term": False,
        "prepayment_fee_rate": Decimal("0"),
        "overdue_surcharge_rate": Decimal("30"),
        "compound_overdue_interest": False,
        "note": "Repaid when the buyer pays: prepay as soon as the receivable is collected.",
        "note_zh": "买方付款即归还：应收账款回款后即可提前还款。",
    },
    "SME-EQ": {
        "prepayment_fee_rate": Decimal("2"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": True,
        "note": "A prepayment fee of 2% of the principal prepaid.",
        "note_zh": "提前还款按提前归还本金的2%收取违约金。",
    },
    "SME-FT": {
        "allow_shorten_term": False,
        "allow_lower_instalment": False,
        "prepayment_fee_rate": Decimal("0"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": False,
        "note": "Repay it all early at any time, without a fee.",
        "note_zh": "可随时全部提前还款，不收取违约金。",
    },
    # The revolving line (facilities.demo): the terms of its drawdowns' loans.
    "SME-LINE": {
        "prepayment_fee_rate": Decimal("0"),
        "overdue_surcharge_rate": Decimal("50"),
        "compound_overdue_interest": True,
        "note": "Repay a drawdown early at any time, in full or in part, without a fee: what "
        "you repay can be drawn again.",
        "note_zh": "每笔提款可随时全部或部分提前还款，不收取违约金；已归还的额度可循环使用。",
    },
}


def seed_servicing_terms() -> None:
    """The servicing terms of the demo products that exist (idempotent). The facility
    demo, whose line product is made after this stage's seed, calls it again."""
    from applications.models import Product
    from postloan.models import ServicingTerms

    for product in Product.objects.filter(code__in=SERVICING_TERMS):
        ServicingTerms.objects.get_or_create(
            product=product, defaults=SERVICING_TERMS[product.code]
        )


def seed() -> None:
    from postloan.models import ClassificationFloor, InspectionRule, WarningRule

    seed_servicing_terms()

    for days, classification in FLOORS:
        ClassificationFloor.objects.get_or_create(
            min_days_past_due=days, defaults={"classification": classification}
        )
    for (name, name_zh), kind, classification, days, method in INSPECTIONS:
        InspectionRule.objects.get_or_create(
            kind=kind,
            classification=classification,
            is_active=True,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "days": days,
                "method": method,
                "questions": QUESTIONS,
            },
        )
    for code, name, kind, threshold, severity, creates in WARNINGS:
        WarningRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": WARNING_NAMES_ZH.get(code, ""),
                "kind": kind,
                "threshold": Decimal(threshold),
                "severity": severity,
                "creates_inspection": creates,
                # The serious signals stop drawdowns under the customer's facilities.
                "freezes_facilities": severity == "high",
            },
        )


def seed_history(applications) -> None:
    """Disbursed demo loans get a back-dated schedule and repayments: most are current, every
    third is behind (one to four instalments), so the queue and the alerts have content."""
    from django.utils import timezone

    from disbursement.models import Instalment
    from disbursement.schedule import build_schedule
    from disbursement.selectors import schedule_conventions
    from postloan.daily import daily_run
    from postloan.models import Loan, Repayment
    from postloan.services import loan_open

    today = timezone.localdate()
    touched = []
    behind = {}  # loan id -> the due date of its oldest instalment missed
    for i, application in enumerate(applications):
        if application.status != "disbursed":
            continue
        with transaction.atomic():
            loan = Loan.objects.filter(application=application).first()
            if loan is None:
                loan = loan_open(application=application)
            if loan.repayments.exists():
                continue
            months_ago = 4 + i % 4
            start = today - timedelta(days=30 * months_ago)
            Loan.objects.filter(pk=loan.pk).update(disbursed_on=start)
            loan.tasks.filter(kind="first_use_of_funds", status="open").update(
                due_date=start + timedelta(days=15)
            )
            if not Instalment.objects.filter(application=application).exists():
                rows = build_schedule(
                    amount=application.amount,
                    annual_rate=application.interest_rate,
                    term_months=application.term_months,
                    method=application.repayment_method,
                    start=start,
                    conventions=schedule_conventions(application),
                )
                Instalment.objects.bulk_create(
                    [
                        Instalment(
                            application=application,
                            number=r.number,
                            due_date=r.due_date,
                            principal=r.principal,
                            interest=r.interest,
                            total=r.total,
                            currency=application.currency,
                        )
                        for r in rows
                    ]
                )
            due = list(
                Instalment.objects.filter(application=application, due_date__lt=today).order_by(
                    "number"
                )
            )
            missed = (1 + i % 4) if i % 3 == 0 else 0
            if missed and due:
                behind[loan.pk] = due[max(0, len(due) - missed)].due_date
            for instalment in due[: max(0, len(due) - missed)]:
                Repayment.objects.create(
                    loan=loan,
                    amount=instalment.total,
                    currency=instalment.currency,
                    value_date=instalment.due_date,
                    external_id=f"DEMO-{application.pk}-{instalment.number}",
                    source=Repayment.Source.IMPORT,
                    recorded_by=application.relationship_manager,
                )
            touched.append(loan.pk)
    if behind:
        # The nightly job accrues one day's overdue interest a night: run the nights since
        # the oldest instalment was missed (at most 120), so the demo shows what it charged.
        first = max(min(behind.values()), today - timedelta(days=120))
        for night in range((today - first).days):
            daily_run(as_of=first + timedelta(days=night + 1), loan_ids=list(behind))
    if touched:
        daily_run(loan_ids=touched)
    seed_changes(applications)


# --- Changes to live loans (issue 29) ----------------------------------------------------------

# The code the demo's signers "receive" on their phones: a demo has no phones, so the code's
# row is written as code_send would write it, and the real signing service checks it.
DEMO_SIGNING_CODE = "246810"


def seed_changes(applications) -> None:
    """Changes to some demo loans, through the same services the staff use: a renewal
    without repayment of principal (无还本续贷) paid out (the old loan repaid by the new one
    and closed), an extension and a restructuring applied with their supplementary
    agreements, and an extension waiting in approval. Skipped once any demo loan has a
    change."""
    from applications.models import ChangeKind, LoanApplication
    from org.selectors import user_sees_branch
    from postloan.models import Loan

    if LoanApplication.objects.filter(change_of_id__in=[a.pk for a in applications]).exists():
        return
    disbursed = [a.pk for a in applications if a.status == "disbursed"]
    loans = list(
        Loan.objects.filter(application_id__in=disbursed, status=Loan.Status.ACTIVE)
        .select_related("application__product", "branch", "relationship_manager")
        .order_by("application_id")
    )
    current = [loan for loan in loans if loan.days_past_due == 0]
    behind = [loan for loan in loans if loan.days_past_due > 0]
    used: set[int] = set()

    def first(candidates, build):
        """The change on the first candidate loan it fits (a loan's own refusals, e.g. a
        renewal's eligibility, move on to the next)."""
        from common.errors import Conflict, InvalidInput

        for loan in candidates:
            if loan.pk in used:
                continue
            try:
                with transaction.atomic():
                    pk = build(loan)
            except (Conflict, InvalidInput, LookupError):
                continue
            used.add(loan.pk)
            return pk
        return None

    def renewal(loan):
        from postloan.models import Alert, InspectionTask
        from postloan.services import alert_close, task_complete

        # The loan's overdue inspections are done and the risk officer closes the early
        # warnings they raised: a renewal needs none open.
        risk = _staff("risk_officer")[0]
        for task in InspectionTask.objects.filter(loan=loan, status="open"):
            task_complete(
                task_id=task.pk,
                actor=risk,
                findings="Demo: site visit; funds used as agreed, operations normal.",
                outcome="positive",
                answers={q["key"]: "Yes" for q in task.questions},
                method="site_visit",
            )
        for alert in Alert.objects.filter(loan=loan, status__in=("open", "acknowledged")):
            alert_close(
                alert_id=alert.pk,
                actor=risk,
                comment="Demo: visited the company; the signal is explained and resolved.",
            )
        pk = _change_filed(
            loan,
            kind=ChangeKind.RENEWAL_WITHOUT_REPAYMENT,
            reason="Demo: the working capital is still needed for the next season; "
            "repaid on time, renewed without repaying principal (无还本续贷).",
        )
        _through_approval(pk)
        return pk

    def extension(loan, months=3):
        return _change_filed(
            loan,
            kind=ChangeKind.EXTENSION,
            extension_months=months,
            reason="Demo: a buyer pays three months later than agreed (展期).",
        )

    def restructuring(loan):
        product = loan.application.product
        method = (
            "equal_principal"
            if "equal_principal" in product.repayment_methods
            else loan.application.repayment_method
        )
        return _change_filed(
            loan,
            kind=ChangeKind.RESTRUCTURING,
            term_months=12,
            grace_months=3,
            interest_rate=max(product.min_rate, loan.application.interest_rate - 1),
            repayment_method=method,
            reason="Demo: orders lost to a customer's bankruptcy; three months of interest "
            "only, then the principal over a year (重组).",
        )

    def applied(build):
        def walk(loan):
            pk = build(loan)
            _through_approval(pk)
            _apply(pk)
            return pk

        return walk

    # A renewal's contracts are signed for the bank by a branch head who sees the loan.
    heads = _staff("branch_head")
    signed_for = [loan for loan in current if any(user_sees_branch(h, loan.branch) for h in heads)]
    first(signed_for, lambda loan: _pay_out(renewal(loan)))
    first(current, applied(extension))
    first(behind or current, applied(restructuring))
    pending = first(current, extension)
    if pending is not None:
        _through_review(pending)
    # The stages seeded next read these applications: a renewed loan's is closed now, as a
    # second run reads it.
    changed = {loan.application_id for loan in loans if loan.pk in used}
    for application in applications:
        if application.pk in changed:
            application.refresh_from_db(fields=["status", "status_changed_at"])


def _change_filed(loan, **terms) -> int:
    from postloan.changes import change_file

    application = change_file(
        actor=loan.relationship_manager, application_id=loan.application_id, **terms
    )
    return application.pk


def _staff(*roles):
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(groups__name__in=roles, is_active=True)
        .distinct()
        .order_by("username")
    )


def _through_review(pk: int) -> None:
    """A colleague of the filer starts the light review, confirms the figures and sends the
    change to approval (the route opened on the exposure after the change)."""
    from applications.models import LoanApplication
    from applications.services import application_transition
    from common.errors import DomainError
    from postloan.changes import change_review_confirm

    filer = LoanApplication.objects.get(pk=pk).filed_by_id
    for colleague in _staff("relationship_manager"):
        if colleague.pk == filer:
            continue
        try:
            with transaction.atomic():
                application_transition(
                    application_id=pk, transition="start_investigation", actor=colleague
                )
        except DomainError:  # outside the colleague's branches
            continue
        break
    else:
        raise LookupError(f"No colleague may review change {pk}")
    change_review_confirm(
        actor=colleague,
        application_id=pk,
        opinion="Demo: turnover steady, the figures confirmed with the owner.",
        updated={"annual_revenue": "6200000", "employees": "38"},
    )
    application_transition(application_id=pk, transition="send_to_approval", actor=colleague)


def _through_approval(pk: int) -> None:
    """The review, then every step of the change's route decided by someone its rules let
    act (a committee by its members' votes), as the approval queue would."""
    from approvals.models import ApprovalRecord, ApprovalTask
    from approvals.services import (
        approval_fast_track_sweep,
        committee_close,
        committee_vote,
        step_refusal,
        task_claim,
        task_decide,
    )
    from investigation.selectors import flags_high
    from org.selectors import user_sees_branch

    _through_review(pk)
    if ApprovalRecord.objects.filter(application_id=pk, status="pending_auto").exists():
        approval_fast_track_sweep()
    people = _staff("credit_reviewer", "approver")
    members = _staff("committee_member")
    mitigations = {
        flag.pk: "Demo: covered by the loan's repayment record."
        for flag in flags_high(application_id=pk)
    }
    for _step in range(10):
        task = ApprovalTask.objects.filter(record__application_id=pk, status="open").first()
        if task is None:
            return
        if task.is_committee:
            chair, quorum = members[0], task.record.committee_quorum
            task_claim(task_id=task.pk, actor=chair)
            for member in members[:quorum]:
                committee_vote(
                    task_id=task.pk,
                    actor=member,
                    vote="approve",
                    comment="Demo: sound.",
                    mitigations=mitigations,
                )
            committee_close(task_id=task.pk, actor=chair, comment="Demo: approved.")
            continue
        able = [
            p
            for p in people
            if user_sees_branch(p, task.branch) and step_refusal(task=task, actor=p) is None
        ]
        task_decide(
            task_id=task.pk,
            actor=able[0],
            decision="approve",
            comment="Demo: the change keeps the loan serviceable.",
            mitigations=mitigations,
        )


def _apply(pk: int) -> None:
    """The RM applies the approved extension or restructuring on its signed supplementary
    agreement. A restructuring whose product has the interest past due paid first is
    refused until it is (409 interest_past_due with the amount): the borrower pays it, the
    RM records the repayment, and applies it again."""
    from decimal import Decimal

    from django.utils import timezone

    from applications.models import LoanApplication
    from common.errors import Conflict
    from postloan.changes import change_apply
    from postloan.services import repayment_record

    application = LoanApplication.objects.select_related("change_of").get(pk=pk)

    def apply() -> None:
        change_apply(
            actor=application.relationship_manager,
            application_id=pk,
            agreement_reference=f"BC-{application.reference}",
        )

    try:
        with transaction.atomic():
            apply()
    except Conflict as refused:
        if refused.code != "interest_past_due":
            raise
        repayment_record(
            application_id=application.change_of_id,
            actor=application.relationship_manager,
            amount=Decimal(refused.details["amount"]),
            value_date=timezone.localdate(),
            currency=refused.details["currency"],
        )
        apply()


def _pay_out(pk: int) -> int:
    """A renewal's contract and payout as any loan's: the RM records the signed loan
    contract and prepares the contracts, each party signs in the branch (witnessed by the
    RM) and the branch head for the bank, with the demo's code; a disbursement officer
    checks the conditions and records the payout, a checker confirms it, which repays the
    old loan."""
    from django.utils import timezone

    from applications.models import LoanApplication
    from approvals.models import ApprovalCondition
    from contracts.models import ContractDocument, Party, Signature
    from contracts.selectors import party_identity
    from contracts.services import (
        contract_render,
        contract_sign,
        contract_template_defaults_ensure,
        contracts_prepare,
    )
    from disbursement.services import (
        condition_satisfy,
        contract_record,
        disbursement_confirm,
        disbursement_record,
    )
    from org.selectors import user_sees_branch

    application = LoanApplication.objects.select_related("company", "branch").get(pk=pk)
    rm, today = application.relationship_manager, timezone.localdate()
    contract_record(
        application_id=pk, actor=rm, number=f"HT-{application.reference}", signed_on=today
    )
    contract_template_defaults_ensure()
    with transaction.atomic():
        contracts_prepare(application_id=pk, actor=rm)
    bank = next(
        (
            u
            for u in _staff("branch_head")
            if user_sees_branch(u, application.branch) and u.pk != rm.pk
        ),
        None,
    )
    if bank is None:
        raise LookupError(f"No branch head signs for the bank on {application.reference}")
    for contract in ContractDocument.objects.filter(application_id=pk).order_by("pk"):
        contract = contract_render(contract_id=contract.pk)
        for party in contract.required_parties():
            _name, id_number = party_identity(contract, party)
            address = "13800138000"
            _demo_code(purpose=f"contract_sign:{contract.pk}:{party}", address=address)
            contract_sign(
                application_id=pk,
                contract_id=contract.pk,
                actor=rm,
                party=party,
                method=Signature.Method.BRANCH,
                otp=DEMO_SIGNING_CODE,
                document_sha256=contract.sha256,
                id_number=id_number,
                address=address,
            )
        _demo_code(purpose=f"contract_sign:{contract.pk}:{Party.BANK}", actor=bank)
        contract_sign(
            application_id=pk,
            contract_id=contract.pk,
            actor=bank,
            party=Party.BANK,
            method=Signature.Method.BANK,
            otp=DEMO_SIGNING_CODE,
            document_sha256=contract.sha256,
        )
    disburser, checker = _staff("disbursement_officer")[0], _staff("disbursement_checker")[0]
    for condition in ApprovalCondition.objects.filter(application_id=pk, satisfied_at=None):
        condition_satisfy(
            application_id=pk, condition_id=condition.pk, actor=disburser, comment="Demo: seen."
        )
    disbursement_record(
        application_id=pk,
        actor=disburser,
        account_number="6222020200112233",
        amount=application.amount,
        value_date=today,
    )
    disbursement_confirm(application_id=pk, actor=checker, comment="Demo: renewal paid out.")
    return pk


def _demo_code(*, purpose: str, address: str = "", actor=None) -> None:
    """The one-time code a demo signer received, DEMO_SIGNING_CODE, as code_send stores it."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from portal.models import OneTimeCode
    from portal.verification import _digest, address_parse, owner_code_address

    channel, address = owner_code_address(actor) if actor is not None else address_parse(address)
    OneTimeCode.objects.filter(purpose=purpose, address=address, closed_at=None).update(
        closed_at=timezone.now()
    )
    OneTimeCode.objects.create(
        purpose=purpose,
        channel=channel,
        address=address,
        code_hash=_digest(purpose, address, DEMO_SIGNING_CODE),
        expires_at=timezone.now() + timedelta(minutes=settings.LOANFLOW_CODE_MINUTES),
    )
