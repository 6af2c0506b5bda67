"""Default approval configuration: authority matrix v1, decline reasons, approver limits."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from approvals.models import ApproverLimit, DeclineReason, MatrixRule, MatrixStep, MatrixVersion

M = Decimal(1_000_000)

STEPS = [
    ("credit_review", "Credit review", "授信审查", "credit_reviewer", False, False, 16),
    ("tier1", "Tier-1 approval", "一级审批", "approver", True, False, 16),
    ("tier2", "Tier-2 approval", "二级审批", "approver", True, False, 24),
    ("committee", "Credit committee", "贷审会", "committee_member", False, True, 40),
]

# (priority, (name, Chinese name), amount_above, amount_up_to, grades, routes, steps, fast_track)
RULES = [
    (
        10,
        ("Fast track: small, good, data-rich loans", "快速通道：小额、优质、数据完整的贷款"),
        None,
        Decimal("300000"),
        ["A", "B"],
        ["fast_track"],
        [],
        True,
    ),
    (
        20,
        ("Committee: grade D or E", "贷审会：D级或E级"),
        None,
        None,
        ["D", "E"],
        [],
        ["credit_review", "tier1", "tier2", "committee"],
        False,
    ),
    (
        30,
        ("Committee: amount above 10M", "贷审会：金额超过1000万"),
        10 * M,
        None,
        [],
        [],
        ["credit_review", "tier1", "tier2", "committee"],
        False,
    ),
    (
        40,
        ("Tier 2: amount above the tier-1 limit of 3M", "二级审批：金额超过一级权限300万"),
        3 * M,
        10 * M,
        [],
        [],
        ["credit_review", "tier1", "tier2"],
        False,
    ),
    (
        50,
        ("Tier 1: up to 3M", "一级审批：300万及以下"),
        None,
        3 * M,
        [],
        [],
        ["credit_review", "tier1"],
        False,
    ),
]

DECLINE_REASONS = [
    (
        "insufficient_cash_flow",
        ("Insufficient cash flow", "现金流不足"),
        "Your business's cash flow is not yet enough to repay a loan of this size.",
        "贵企业目前的现金流尚不足以偿还该金额的贷款。",
    ),
    (
        "high_leverage",
        ("Debt too high", "负债过高"),
        "Your business already carries a high level of debt compared with its income.",
        "与收入相比，贵企业现有负债水平较高。",
    ),
    (
        "unverified_information",
        ("Information could not be verified", "信息无法核实"),
        "We could not confirm some of the information in your application.",
        "我们无法核实您申请中的部分信息。",
    ),
    (
        "insufficient_collateral",
        ("Insufficient guarantee or collateral", "担保或抵押不足"),
        "The guarantee or collateral offered does not cover the loan.",
        "所提供的担保或抵押不足以覆盖该笔贷款。",
    ),
    (
        "policy_excluded",
        ("Outside lending policy", "不符合授信政策"),
        "Your business's industry or situation is outside what we can currently lend to.",
        "贵企业所属行业或经营情况目前不在我行的授信范围内。",
    ),
    (
        "committee_decline",
        ("Declined by the credit committee", "贷审会否决"),
        "The credit committee reviewed your application and decided not to lend at this time.",
        "信贷审批委员会审议了您的申请，决定暂不发放贷款。",
    ),
]

# Personal limits by grade for approvers and committee members. Senior staff (a profile limit
# of 10M or more: the head office's tier-2 approvers and the committee) hold the tier-2
# authority of the matrix above, up to 10M at grades A to C; grades D and E go to the
# committee, whose vote no personal limit binds.
LIMITS = {"A": 5 * M, "B": 4 * M, "C": 3 * M, "D": 1 * M, "E": Decimal("500000")}
SENIOR_LIMITS = {"A": 10 * M, "B": 10 * M, "C": 10 * M, "D": 2 * M, "E": 1 * M}
SENIOR_FROM = 10 * M


@transaction.atomic
def seed() -> None:
    version, created = MatrixVersion.objects.get_or_create(
        number=1,
        defaults={
            "name": "Default authority matrix",
            "fast_track_review_percent": 10,
            "committee_quorum": 3,
            "committee_majority_percent": 50,
            # A small bank's concentration limits: 10% and 15% of its 80M net capital.
            "net_capital": 80 * M,
            "single_customer_limit_percent": 10,
            "group_limit_percent": 15,
        },
    )
    if created:
        for code, name, name_zh, role, checks_limit, is_committee, hours in STEPS:
            MatrixStep.objects.create(
                version=version,
                code=code,
                name=name,
                name_zh=name_zh,
                role=role,
                checks_limit=checks_limit,
                is_committee=is_committee,
                sla_hours=hours,
            )
        for priority, (name, name_zh), above, up_to, grades, routes, steps, fast in RULES:
            MatrixRule.objects.create(
                version=version,
                priority=priority,
                name=name,
                name_zh=name_zh,
                amount_above=above,
                amount_up_to=up_to,
                grades=grades,
                routes=routes,
                steps=steps,
                fast_track=fast,
            )
    if not MatrixVersion.objects.filter(is_active=True).exists():
        MatrixVersion.objects.filter(pk=version.pk).update(is_active=True)
    for code, (label, label_zh), text, text_zh in DECLINE_REASONS:
        DeclineReason.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "label_zh": label_zh,
                "applicant_text": text,
                "applicant_text_zh": text_zh,
            },
        )
    users = (
        get_user_model()
        .objects.filter(groups__name__in=["approver", "committee_member"])
        .distinct()
    )
    for user in users:
        profile = getattr(user, "staff_profile", None)
        senior = profile is not None and profile.authority_limit >= SENIOR_FROM
        for grade, amount in (SENIOR_LIMITS if senior else LIMITS).items():
            ApproverLimit.objects.get_or_create(
                user=user, grade=grade, currency="CNY", defaults={"max_amount": amount}
            )


def seed_history(applications) -> None:
    """Open the approval route and first task of every demo application in approval, as
    entering approval would have (skips those that already have a route)."""
    from approvals.models import ApprovalRecord
    from approvals.services import record_open

    with_route = set(
        ApprovalRecord.objects.filter(application__in=[a.pk for a in applications]).values_list(
            "application_id", flat=True
        )
    )
    opened = []
    for application in applications:
        if application.status == "in_approval" and application.pk not in with_route:
            with transaction.atomic():
                opened.append(record_open(application=application))
    _review_some(opened)


def _review_some(records) -> None:
    """Take every other new route past its credit-review step, and each route that ends at the
    committee up to the committee's vote, through the real decision service (by someone the
    step's rules let act), so the demo approvers' and the committee's queues have work too."""
    from approvals.models import ApprovalTask
    from approvals.services import step_refusal, task_decide
    from investigation.selectors import flags_high
    from org.selectors import user_sees_branch

    people = list(
        get_user_model()
        .objects.filter(groups__name__in=["credit_reviewer", "approver"])
        .distinct()
        .order_by("username")
    )
    for n, record in enumerate(records):
        to_committee = bool(record.route) and record.route[-1].get("is_committee")
        if not to_committee and n % 2:
            continue
        while task := ApprovalTask.objects.filter(record=record, status="open").first():
            if task.is_committee or (not to_committee and task.step != "credit_review"):
                break
            able = [
                p
                for p in people
                if user_sees_branch(p, task.branch) and step_refusal(task=task, actor=p) is None
            ]
            if not able:
                break
            task_decide(
                task_id=task.pk,
                actor=able[0],
                decision="approve",
                comment="Demo: reviewed, figures consistent."
                if task.step == "credit_review"
                else "Demo: recommended to the committee.",
                mitigations={
                    flag.pk: "Demo: covered by the guarantees and the collateral."
                    for flag in flags_high(application_id=record.application_id)
                },
            )
