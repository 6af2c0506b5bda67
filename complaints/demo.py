"""Demo complaints: the default categories, and a dozen complaints of the demo companies
over the last three months, in every state, so the scorecard's complaints figures, the
handlers' list and the owners' portal have content. Idempotent (by reference)."""

import random
from datetime import timedelta

# reference suffix, category, days ago received, channel, final state, text, response
DEMO_COMPLAINTS = [
    (
        "01",
        "delay",
        95,
        "portal",
        "resolved",
        "提交材料已经两周了，还没有人联系我们做实地调查。",
        "已安排客户经理于本周上门调查，并致歉。后续进度可在门户查看。",
    ),
    (
        "02",
        "fees",
        80,
        "phone",
        "rejected",
        "The valuation fee for the mortgage was not explained to us.",
        "The fee is set out in the offer letter you accepted (item 7); we sent you a copy again.",
    ),
    (
        "03",
        "service",
        66,
        "portal",
        "resolved",
        "客户经理多次爽约。",
        "已更换对接时间并由支行长跟进。",
    ),
    (
        "04",
        "rate-and-terms",
        52,
        "branch",
        "resolved",
        "Rate higher than the one discussed at the visit.",
        "The rate reflects the guarantee finally offered; we explained it at a meeting.",
    ),
    (
        "05",
        "repayment",
        41,
        "portal",
        "resolved",
        "扣款日期与合同不一致。",
        "已核实为系统日历调整，已更正并免除当期罚息。",
    ),
    (
        "06",
        "disclosure",
        33,
        "portal",
        "rejected",
        "不清楚为什么被拒绝。",
        "拒绝原因已在门户列明，如有补充材料可重新申请。",
    ),
    (
        "07",
        "delay",
        24,
        "phone",
        "resolved",
        "Disbursement later than promised.",
        "Paid out the next day; the delay was the collateral registration.",
    ),
    ("08", "service", 17, "portal", "acknowledged", "电话一直打不通。", ""),
    (
        "09",
        "privacy",
        12,
        "letter",
        "acknowledged",
        "Asked why our credit report was queried twice.",
        "",
    ),
    ("10", "other", 8, "portal", "received", "希望门户能提供英文版合同。", ""),
    ("11", "fees", 4, "portal", "received", "提前还款是否收取违约金？", ""),
    ("12", "delay", 2, "phone", "received", "Still waiting for the approval decision.", ""),
]


def seed() -> None:
    from complaints.defaults import DEFAULT_CATEGORIES
    from complaints.models import ComplaintCategory

    for order, (code, name, name_zh) in enumerate(DEFAULT_CATEGORIES):
        ComplaintCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )


def seed_history(applications) -> None:
    """The demo complaints, about demo applications past their draft (one in three about the
    company in general), received, acknowledged and answered at back-dated times, each with
    its audit trail."""
    from django.db import transaction
    from django.utils import timezone

    from audit.models import AuditEvent
    from audit.services import audit_history_import
    from complaints.models import Complaint, ComplaintCategory
    from complaints.selectors import SUBJECT_TYPE
    from notifications.services import applicant_users
    from org.roles import primary_role
    from org.selectors import branch_heads_over

    ACTION, MOVE = AuditEvent.Kind.ACTION, AuditEvent.Kind.TRANSITION

    candidates = sorted((a for a in applications if a.status != "draft"), key=lambda a: a.reference)
    if not candidates:
        return
    rng = random.Random(32)
    categories = {c.code: c for c in ComplaintCategory.objects.all()}
    now = timezone.now()
    with transaction.atomic():
        for suffix, code, days, channel, state, text, response in DEMO_COMPLAINTS:
            reference = f"DEMO-CP-{suffix}"
            if Complaint.objects.filter(reference=reference).exists():
                continue
            application = rng.choice(candidates)
            company = application.company
            owner = applicant_users(company_id=company.pk).first()
            if channel == "portal" and owner is None:
                channel = "phone"
            manager = application.relationship_manager
            heads = branch_heads_over(company.home_branch)
            handler = manager if rng.random() < 0.7 or not heads else heads[0]
            received = now - timedelta(days=days, hours=rng.randint(0, 8))
            acknowledged = received + timedelta(hours=rng.randint(2, 30))
            answered = acknowledged + timedelta(hours=rng.randint(20, 200))
            complaint = Complaint(
                reference=reference,
                company=company,
                branch=company.home_branch,
                application=None if int(suffix) % 3 == 0 else application,
                category=categories[code],
                channel=channel,
                text=text,
                filed_by=owner if channel == "portal" else manager,
                received_at=received,
                created_at=received,
                relationship_manager=manager,
                # The demo loads the state it shows, as the applications' demo does.
                status=state,
            )
            filed = "complaint_file" if channel == "portal" else "complaint_record"
            # (action, kind, at, from, to, actor, comment)
            trail = [(filed, ACTION, received, "", "received", complaint.filed_by, "")]
            if state != "received":
                complaint.acknowledged_at, complaint.acknowledged_by = acknowledged, handler
                trail.append(
                    ("complaint_acknowledge", MOVE, acknowledged, "received", "acknowledged")
                    + (handler, "")
                )
            if state in ("resolved", "rejected"):
                complaint.response = response
                complaint.answered_at, complaint.answered_by = answered, handler
                action = "complaint_resolve" if state == "resolved" else "complaint_reject"
                trail.append((action, MOVE, answered, "acknowledged", state, handler, response))
            Complaint.objects.bulk_create([complaint])
            # Past events keep their dates: the demo runs as the database's owner.
            with audit_history_import():
                AuditEvent.objects.bulk_create(
                    AuditEvent(
                        at=at,
                        kind=kind,
                        subject_type=SUBJECT_TYPE,
                        subject_id=complaint.pk,
                        actor=actor,
                        actor_role=primary_role(actor),
                        action=action,
                        from_state=from_state,
                        to_state=to_state,
                        comment=comment,
                        data={"demo": True},
                    )
                    for action, kind, at, from_state, to_state, actor, comment in trail
                )
