"""The queue counts are kept by the database: a trigger on approvals_approvaltask moves a task
from one (role, branch, status) count to another whenever it is inserted, changes status, role
or branch, or is deleted. Bulk updates and COPY are counted too, whoever writes them."""

from django.db import migrations

OPEN = "('open', 'claimed')"
SLOTS = 8

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION approvals_queue_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.role = NEW.role
            AND OLD.branch_id = NEW.branch_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {OPEN} THEN
        INSERT INTO approvals_queuecount (role, branch_id, status, slot, n)
        VALUES (OLD.role, OLD.branch_id, OLD.status, OLD.id %% {SLOTS}, -1)
        ON CONFLICT (role, branch_id, status, slot)
        DO UPDATE SET n = approvals_queuecount.n - 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {OPEN} THEN
        INSERT INTO approvals_queuecount (role, branch_id, status, slot, n)
        VALUES (NEW.role, NEW.branch_id, NEW.status, NEW.id %% {SLOTS}, 1)
        ON CONFLICT (role, branch_id, status, slot)
        DO UPDATE SET n = approvals_queuecount.n + 1;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER approvals_queue_count
    AFTER INSERT OR DELETE OR UPDATE OF status, role, branch_id ON approvals_approvaltask
    FOR EACH ROW EXECUTE FUNCTION approvals_queue_count();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS approvals_queue_count ON approvals_approvaltask;
DROP FUNCTION IF EXISTS approvals_queue_count();
"""


FILL = f"""
INSERT INTO approvals_queuecount (role, branch_id, status, slot, n)
SELECT role, branch_id, status, id %% {SLOTS}, COUNT(*) FROM approvals_approvaltask
WHERE status IN {OPEN} GROUP BY role, branch_id, status, id %% {SLOTS}
"""


def forward(apps, schema_editor):
    schema_editor.execute(PG_FORWARD)
    schema_editor.execute("DELETE FROM approvals_queuecount")
    schema_editor.execute(FILL)


def backward(apps, schema_editor):
    schema_editor.execute(PG_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0002_queue_counts")]
    operations = [migrations.RunPython(forward, backward)]
