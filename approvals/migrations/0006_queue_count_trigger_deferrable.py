"""The queue count trigger becomes a deferrable constraint trigger, so that a decision can take
its count rows last.

Migration 0005 chose a count's slot by the writing transaction's id, on the ground that
concurrent transactions hold consecutive ids. They do not when they write inside savepoints:
each savepoint that writes takes an id of its own. A decision took four (its transaction, the
transition's savepoint, two around the SLA clocks), so four concurrent decisions fell on two of
the eight slots, and each held its count row from its task's update to its commit, through the
whole transition: under load, a quarter of the database's active time was spent waiting on
those rows (pg_stat_activity, Lock/transactionid on the task's UPDATE).

Now a decision defers the trigger while it works and fires it at the end
(approvals.services.queue_counts_last: SET CONSTRAINTS ... DEFERRED, then IMMEDIATE), so it
holds its count rows only from its last statement to its commit. Everywhere else the trigger
fires as before, at the end of each statement (INITIALLY IMMEDIATE); the function is 0005's.
"""

from django.db import migrations

CONSTRAINT_TRIGGER = """
DROP TRIGGER IF EXISTS approvals_queue_count ON approvals_approvaltask;
CREATE CONSTRAINT TRIGGER approvals_queue_count
    AFTER INSERT OR DELETE OR UPDATE OF status, role, branch_id ON approvals_approvaltask
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION approvals_queue_count();
"""
PLAIN_TRIGGER = """
DROP TRIGGER IF EXISTS approvals_queue_count ON approvals_approvaltask;
CREATE TRIGGER approvals_queue_count
    AFTER INSERT OR DELETE OR UPDATE OF status, role, branch_id ON approvals_approvaltask
    FOR EACH ROW EXECUTE FUNCTION approvals_queue_count();
"""


def _replace(sql: str):
    def run(apps, schema_editor):
        schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("approvals", "0005_queue_count_slot_by_transaction")]
    operations = [migrations.RunPython(_replace(CONSTRAINT_TRIGGER), _replace(PLAIN_TRIGGER))]
