"""A queue count's slot is chosen by the writing transaction, not by the task's id.

The queue count trigger (0003) holds the count row it updates until its transaction commits:
a decision updates its task early and commits some fifteen statements later. With the slot
taken from the task's id, concurrent decisions on tasks whose ids share a residue (one branch's
tasks numbered in a regular stride, as a round-robin assignment gives) all waited on one row,
and decisions ran one after another. Concurrent transactions hold consecutive transaction ids,
so a slot taken from the transaction id puts them on different rows. Only the sum over a
count's slots means anything (approvals.selectors.task_queue_counts), so a task may leave a
count through a different slot than the one it entered by; a slot may go below zero.

"""

from django.db import migrations

OPEN = "('open', 'claimed')"
SLOTS = 8


def _function(slot: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION approvals_queue_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.role = NEW.role
            AND OLD.branch_id = NEW.branch_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {OPEN} THEN
        INSERT INTO approvals_queuecount (role, branch_id, status, slot, n)
        VALUES (OLD.role, OLD.branch_id, OLD.status, {slot.format(row="OLD")}, -1)
        ON CONFLICT (role, branch_id, status, slot)
        DO UPDATE SET n = approvals_queuecount.n - 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {OPEN} THEN
        INSERT INTO approvals_queuecount (role, branch_id, status, slot, n)
        VALUES (NEW.role, NEW.branch_id, NEW.status, {slot.format(row="NEW")}, 1)
        ON CONFLICT (role, branch_id, status, slot)
        DO UPDATE SET n = approvals_queuecount.n + 1;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


BY_TRANSACTION = _function(f"txid_current() %% {SLOTS}")
BY_TASK = _function(f"{{row}}.id %% {SLOTS}")


def _replace(function: str):
    def run(apps, schema_editor):
        schema_editor.execute(function)

    return run


class Migration(migrations.Migration):
    dependencies = [("approvals", "0004_queue_indexes")]
    operations = [migrations.RunPython(_replace(BY_TRANSACTION), _replace(BY_TASK))]
