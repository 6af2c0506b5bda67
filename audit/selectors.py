from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audit.models import AuditChainHead, AuditEvent


def application_timeline(*, application, include_refusals: bool = False) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(application=application).select_related("actor")
    if not include_refusals:
        events = events.exclude(kind=AuditEvent.Kind.REFUSAL)
    return events.order_by("at", "id")


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the audit trail no longer matches its hash chain."""

    chain: str
    seq: int
    event_id: int | None
    problem: str

    def describe(self) -> str:
        where = _("event %(id)s") % {"id": self.event_id} if self.event_id else _("its last link")
        return _("Audit chain %(chain)s breaks at position %(seq)s (%(where)s): %(problem)s") % {
            "chain": self.chain or "-",
            "seq": self.seq,
            "where": where,
            "problem": PROBLEMS[self.problem],
        }


PROBLEMS = {
    "altered": _("the row does not match its hash (changed, or written around the trigger)"),
    "gap": _("rows are missing before it (deleted)"),
    "link": _("it does not follow the row before it (inserted, or the chain rewritten)"),
    "tail": _("rows are missing at the end of the chain (deleted)"),
    "head": _("the chain's recorded head is missing (the chain was rewritten)"),
}

# Every row against its own digest and the row before it in its chain; the first problem by
# id (the oldest). audit_event_digest is the function the insert trigger hashes with.
_ROWS_SQL = """
    SELECT id, chain, seq, CASE
        WHEN hash <> digest THEN 'altered'
        WHEN seq <> coalesce(seq_before, 0) + 1 THEN 'gap'
        ELSE 'link' END
    FROM (
        SELECT e.id, e.chain, e.seq, e.prev_hash, e.hash, audit_event_digest(e) AS digest,
               lag(e.seq) OVER chain AS seq_before, lag(e.hash) OVER chain AS hash_before
        FROM {events} e
        WINDOW chain AS (PARTITION BY e.chain ORDER BY e.seq, e.id)
    ) linked
    WHERE hash <> digest
       OR seq <> coalesce(seq_before, 0) + 1
       OR prev_hash <> coalesce(hash_before, '')
    ORDER BY id
    LIMIT 1
"""

# Each chain's last row against the head the trigger kept: rows removed from the end, a
# chain removed whole, or rows whose head is gone.
_HEADS_SQL = """
    SELECT coalesce(h.chain, last.chain), coalesce(h.seq, last.seq),
           CASE WHEN h.chain IS NULL THEN 'head' ELSE 'tail' END
    FROM {heads} h
    FULL JOIN (
        SELECT DISTINCT ON (chain) chain, seq, hash FROM {events} ORDER BY chain, seq DESC
    ) last ON last.chain = h.chain
    WHERE last.seq IS DISTINCT FROM h.seq OR last.hash IS DISTINCT FROM h.hash
    ORDER BY 1
    LIMIT 1
"""


def audit_trail_first_break() -> ChainBreak | None:
    """Recompute every chain of the audit trail; None when all hold. One pass over the table
    (about three minutes for five million rows: a nightly job's work, docs/adr/0013)."""
    tables = {
        "events": connection.ops.quote_name(AuditEvent._meta.db_table),
        "heads": connection.ops.quote_name(AuditChainHead._meta.db_table),
    }
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            # One snapshot for both passes, so rows committed in between do not look missing.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute(_ROWS_SQL.format(**tables))
        row = cursor.fetchone()
        if row:
            return ChainBreak(event_id=row[0], chain=row[1], seq=row[2], problem=row[3])
        cursor.execute(_HEADS_SQL.format(**tables))
        row = cursor.fetchone()
        if row:
            return ChainBreak(event_id=None, chain=row[0], seq=row[1], problem=row[2])
    return None
