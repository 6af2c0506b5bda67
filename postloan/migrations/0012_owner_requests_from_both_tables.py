"""Copies every PrepaymentRequest and ChangeRequest into OwnerRequest, oldest first, the
statuses as they were (open, filed, declined, withdrawn; a change request was never
withdrawn). Only one request a loan may now be open: where a loan had an open request of
each kind, the later one is closed as declined, with an answer that says why, so the owner
asks again once the other is answered. New ids: the old ones named two tables."""

from django.db import migrations

ONE_OPEN = (
    "Closed when the bank merged its request lists: one request may be open at a time. "
    "Ask again once the other is answered. / 银行合并申请列表时关闭：同一时间只能有一个待处理的"
    "申请，请在另一申请答复后重新提交。"
)


def forwards(apps, schema_editor):
    PrepaymentRequest = apps.get_model("postloan", "PrepaymentRequest")
    ChangeRequest = apps.get_model("postloan", "ChangeRequest")
    OwnerRequest = apps.get_model("postloan", "OwnerRequest")
    rows = [
        {
            "loan_id": r.loan_id,
            "kind": r.kind,
            "status": r.status,
            "value_date": r.value_date,
            "principal": r.principal,
            "note": r.note,
            "asked_by_id": r.asked_by_id,
            "created_at": r.created_at,
            "prepayment_id": r.prepayment_id,
            "handled_by_id": r.decided_by_id,
            "handled_at": r.decided_at,
            "answer": r.decision_comment,
        }
        for r in PrepaymentRequest.objects.order_by("created_at", "id")
    ] + [
        {
            "loan_id": r.loan_id,
            "kind": r.kind,
            "status": r.status,
            "note": r.note,
            "asked_by_id": r.requested_by_id,
            "created_at": r.created_at,
            "change_id": r.change_id,
            "handled_by_id": r.handled_by_id,
            "handled_at": r.handled_at,
            "answer": r.comment,
        }
        for r in ChangeRequest.objects.order_by("created_at", "id")
    ]
    rows.sort(key=lambda row: row["created_at"])
    open_loans = set()
    for row in rows:
        if row["status"] == "open":
            if row["loan_id"] in open_loans:
                row.update(status="declined", handled_at=row["created_at"], answer=ONE_OPEN)
            open_loans.add(row["loan_id"])
    # The status is decided before the rows are made: a protected FSM field is set once.
    OwnerRequest.objects.bulk_create([OwnerRequest(**row) for row in rows], batch_size=1000)


def backwards(apps, schema_editor):
    PrepaymentRequest = apps.get_model("postloan", "PrepaymentRequest")
    ChangeRequest = apps.get_model("postloan", "ChangeRequest")
    OwnerRequest = apps.get_model("postloan", "OwnerRequest")
    prepayment_kinds = {"full", "shorten_term", "lower_instalment"}
    for r in OwnerRequest.objects.order_by("created_at", "id"):
        if r.kind in prepayment_kinds:
            PrepaymentRequest.objects.create(
                loan_id=r.loan_id,
                kind=r.kind,
                status=r.status,
                value_date=r.value_date,
                principal=r.principal,
                note=r.note,
                asked_by_id=r.asked_by_id,
                created_at=r.created_at,
                prepayment_id=r.prepayment_id,
                decided_by_id=r.handled_by_id,
                decided_at=r.handled_at,
                decision_comment=r.answer,
            )
        else:
            ChangeRequest.objects.create(
                loan_id=r.loan_id,
                kind=r.kind,
                # A change request had no withdrawn state.
                status="declined" if r.status == "withdrawn" else r.status,
                note=r.note,
                requested_by_id=r.asked_by_id,
                created_at=r.created_at,
                change_id=r.change_id,
                handled_by_id=r.handled_by_id,
                handled_at=r.handled_at,
                comment=r.answer,
            )
    OwnerRequest.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("postloan", "0011_owner_request_and_restructuring_arrears"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
