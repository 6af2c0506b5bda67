"""Reading the sources' answers: the facts the investigation is pre-filled with, and the flags
the new checks raise (bureau overdue and guarantee exposure, tax grade, registry status and
recent changes, court records). Pure functions of the answers, no database."""

import datetime
from decimal import Decimal

from datasources.texts import SOURCE_FLAG_MESSAGES

ZERO = Decimal("0")
# A change of legal representative or shareholders this recent is a flag.
RECENT_CHANGE_DAYS = 365
CHANGE_ITEMS = ("legal_representative", "shareholders")
# The registry's words for a flag's parameters, in both languages (common.i18n.coded_text
# gives the reader's).
REGISTRY_STATUS_WORDS = {
    "active": ("in business", "存续"),
    "revoked": ("revoked", "吊销"),
    "cancelled": ("cancelled", "注销"),
}
CHANGE_ITEM_WORDS = {
    "legal_representative": ("legal representative", "法定代表人"),
    "shareholders": ("shareholders", "股东"),
}


def _money(value) -> Decimal:
    return Decimal(str(value or "0"))


def bureau_repayment_record(answer: dict) -> str:
    """The investigation's repayment record (investigation.models.RepaymentRecord)."""
    company = answer.get("company") or {}
    if not company.get("loans"):
        return "none"
    days = int(company.get("max_overdue_days") or 0)
    if days >= 90:
        return "serious_late"
    if days > 0:
        return "minor_late"
    return "good"


def guarantee_exposure(answer: dict) -> Decimal:
    company = answer.get("company") or {}
    return sum((_money(g.get("amount")) for g in company.get("guarantees") or []), ZERO)


def facts_from(source: str, answer: dict) -> list[tuple[str, str]]:
    """(fact key, value) pairs read from one answer (SourceFact.Key)."""
    if source == "bureau":
        company = answer.get("company") or {}
        return [
            ("repayment_record", bureau_repayment_record(answer)),
            ("overdue_count", str(company.get("overdue_count_24m", 0))),
            ("guarantee_exposure", f"{guarantee_exposure(answer):.2f}"),
        ]
    if source == "tax":
        periods = answer.get("periods") or []
        if not periods:
            return []
        last = periods[-1]
        return [
            ("tax_grade", str(last.get("grade", ""))),
            ("declared_revenue", str(last.get("declared_revenue", ""))),
            ("tax_paid", str(last.get("tax_paid", ""))),
        ]
    if source == "registry":
        return [
            ("registry_status", str(answer.get("status", ""))),
            ("legal_representative", str(answer.get("legal_representative", ""))),
            ("registered_capital", str(answer.get("registered_capital", ""))),
        ]
    if source == "courts":
        return [
            (
                "court_records",
                "enforcements={}, dishonest={}, lawsuits={}".format(
                    len(answer.get("enforcements") or []),
                    len(answer.get("dishonest_debtor") or []),
                    len(answer.get("lawsuits") or []),
                ),
            )
        ]
    return []


def _flag(code: str, severity: str, params: dict, evidence: dict) -> dict:
    """The shape investigation.services keeps flags in: code, severity, message parameters,
    the words of the moment, and the evidence (here: the source's record and its time)."""
    from investigation.models import flag_text

    params = {k: str(v) if isinstance(v, Decimal) else v for k, v in params.items()}
    assert code in SOURCE_FLAG_MESSAGES
    return {
        "code": code,
        "severity": severity,
        "message": flag_text(code, params),
        "params": params,
        "evidence": evidence,
    }


def flags_from(
    answers: list[dict], *, guarantee_limit: Decimal, today: datetime.date
) -> list[dict]:
    """Flags from the latest answer of each source. Each answer is
    {"source", "query_id", "answered_at", "answer"}; every flag's evidence names the source,
    the query and the time the answer arrived, with the records that raised it."""
    flags: list[dict] = []
    for row in answers:
        source, answer = row["source"], row["answer"] or {}
        base = {
            "source": source,
            "query_id": row["query_id"],
            "answered_at": row["answered_at"],
        }

        def add(code, severity, params, records, base=base):
            flags.append(_flag(code, severity, params, {**base, "records": records}))

        if source == "bureau":
            company = answer.get("company") or {}
            overdue = [loan for loan in company.get("loans") or [] if loan.get("overdue_days")]
            if overdue:
                days = max(int(loan["overdue_days"]) for loan in overdue)
                add(
                    "bureau_overdue",
                    "high" if days >= 90 else "medium",
                    {"count": len(overdue), "days": days},
                    overdue,
                )
            person = answer.get("legal_representative") or {}
            if int(person.get("overdue_count_24m") or 0):
                add(
                    "bureau_personal_overdue",
                    "medium",
                    {"count": person["overdue_count_24m"]},
                    [
                        {
                            "name": person.get("name", ""),
                            "overdue_count_24m": person["overdue_count_24m"],
                            "max_overdue_days": person.get("max_overdue_days", 0),
                        }
                    ],
                )
            exposure = guarantee_exposure(answer)
            if exposure > guarantee_limit:
                add(
                    "bureau_guarantee_exposure",
                    "medium",
                    {"total": f"{exposure:,.2f}", "limit": f"{guarantee_limit:,.2f}"},
                    company.get("guarantees") or [],
                )
        elif source == "tax":
            periods = answer.get("periods") or []
            if periods and periods[-1].get("grade") in ("C", "D"):
                last = periods[-1]
                add(
                    "tax_grade",
                    "high" if last["grade"] == "D" else "medium",
                    {"period": last.get("period", ""), "grade": last["grade"]},
                    [last],
                )
        elif source == "registry":
            status = answer.get("status", "")
            if status and status != "active":
                words = REGISTRY_STATUS_WORDS.get(status, (status, status))
                add(
                    "registry_status",
                    "high",
                    {"status": words[0], "status_zh": words[1]},
                    [{"status": status}],
                )
            abnormal = answer.get("abnormal_operations") or []
            if abnormal:
                add(
                    "registry_abnormal",
                    "high",
                    {"since": min(a.get("listed_on", "") for a in abnormal)},
                    abnormal,
                )
            horizon = today - datetime.timedelta(days=RECENT_CHANGE_DAYS)
            for change in answer.get("changes") or []:
                if change.get("item") not in CHANGE_ITEMS:
                    continue
                try:
                    on = datetime.date.fromisoformat(change.get("on", ""))
                except ValueError:
                    continue
                if on >= horizon:
                    add(
                        "registry_recent_change",
                        "medium",
                        {
                            "item": CHANGE_ITEM_WORDS[change["item"]][0],
                            "item_zh": CHANGE_ITEM_WORDS[change["item"]][1],
                            "on": change["on"],
                        },
                        [change],
                    )
        elif source == "courts":
            dishonest = answer.get("dishonest_debtor") or []
            if dishonest:
                add("court_dishonest", "high", {"case": dishonest[0].get("case_no", "")}, dishonest)
            open_cases = [
                e for e in answer.get("enforcements") or [] if e.get("status", "open") == "open"
            ]
            if open_cases:
                add("court_enforcement", "high", {"count": len(open_cases)}, open_cases)
            defendant = [s for s in answer.get("lawsuits") or [] if s.get("role") == "defendant"]
            if defendant:
                add("court_lawsuit", "medium", {"count": len(defendant)}, defendant)
    return flags


def answer_field(answer: dict | None, path: str, *, today: datetime.date):
    """The value at a dotted `path` in an answer (a scorecard's source field), or None when the
    answer has no such field. Segments are keys, list indexes (-1 is the last) or, last, a
    derived figure: `count` (the length of a list) or `years_since` (the years from an ISO date
    to `today`, two decimals)."""
    value = answer
    for segment in path.split("."):
        if value is None:
            return None
        if segment == "count" and isinstance(value, list):
            value = len(value)
        elif segment == "years_since" and isinstance(value, str):
            try:
                since = datetime.date.fromisoformat(value)
            except ValueError:
                return None
            days = Decimal((today - since).days)
            value = (days / Decimal("365.25")).quantize(Decimal("0.01"))
        elif isinstance(value, list):
            try:
                value = value[int(segment)]
            except (ValueError, IndexError):
                return None
        elif isinstance(value, dict):
            value = value.get(segment)
        else:
            return None
    if isinstance(value, (dict, list)):
        return None
    return value


# --- Post-loan: what a new answer brings that the previous one did not ------------------------

# The early-warning rule kinds (postloan.models.WarningRule.Kind) of each finding.
NEWS_BUREAU_OVERDUE = "source_bureau_overdue"
NEWS_TAX_GRADE_D = "source_tax_grade_d"
NEWS_COURT_RECORD = "source_court_record"
NEWS_ABNORMAL_OPERATION = "source_abnormal_operation"
NEWS_LEGAL_REP_CHANGE = "source_legal_rep_change"


def _overdue_loans(answer: dict) -> list[dict]:
    company = answer.get("company") or {}
    return [loan for loan in company.get("loans") or [] if int(loan.get("overdue_days") or 0)]


def _last_grade(answer: dict) -> str:
    periods = answer.get("periods") or []
    return str(periods[-1].get("grade", "")) if periods else ""


def _court_records(answer: dict) -> dict[tuple[str, str], dict]:
    """Dishonest-debtor listings and open enforcements, by (list, case number)."""
    records = {
        ("dishonest_debtor", r.get("case_no", "")): r for r in answer.get("dishonest_debtor") or []
    }
    for record in answer.get("enforcements") or []:
        if record.get("status", "open") == "open":
            records[("enforcement", record.get("case_no", ""))] = record
    return records


def _abnormal(answer: dict) -> dict[tuple[str, str], dict]:
    return {
        (a.get("listed_on", ""), a.get("reason", "")): a
        for a in answer.get("abnormal_operations") or []
    }


def news(source: str, before: dict | None, after: dict) -> list[dict]:
    """The bad news in `after` (a new answer about a loan's company) that `before` (the
    previous answer from the source for that loan; None when there was none) did not have:
    each {"kind", "before", "after", "records"}, at most one per kind. New overdue at the
    bureau (more loans overdue than before), the tax grade dropped to D, a new dishonest-debtor
    or open enforcement record, a new abnormal-operation listing (or the registration no longer
    in business), a change of legal representative."""
    before = before or {}
    found: list[dict] = []
    if source == "bureau":
        old, new = _overdue_loans(before), _overdue_loans(after)
        if len(new) > len(old):
            found.append(
                {
                    "kind": NEWS_BUREAU_OVERDUE,
                    "before": {"overdue_loans": len(old)},
                    "after": {"overdue_loans": len(new)},
                    "records": new,
                }
            )
    elif source == "tax":
        old, new = _last_grade(before), _last_grade(after)
        if new == "D" and old != "D":
            periods = after.get("periods") or []
            found.append(
                {
                    "kind": NEWS_TAX_GRADE_D,
                    "before": {"grade": old},
                    "after": {"grade": new},
                    "records": periods[-1:],
                }
            )
    elif source == "courts":
        old, new = _court_records(before), _court_records(after)
        added = [record for key, record in new.items() if key not in old]
        if added:
            found.append(
                {
                    "kind": NEWS_COURT_RECORD,
                    "before": {"records": len(old)},
                    "after": {"records": len(new)},
                    "records": added,
                }
            )
    elif source == "registry":
        old, new = _abnormal(before), _abnormal(after)
        added = [record for key, record in new.items() if key not in old]
        status_before, status_after = before.get("status", ""), after.get("status", "")
        left_business = status_after not in ("", "active") and status_before != status_after
        if added or left_business:
            found.append(
                {
                    "kind": NEWS_ABNORMAL_OPERATION,
                    "before": {"status": status_before, "abnormal_operations": len(old)},
                    "after": {"status": status_after, "abnormal_operations": len(new)},
                    "records": added,
                }
            )
        rep_before = before.get("legal_representative", "")
        rep_after = after.get("legal_representative", "")
        if rep_before and rep_after and rep_before != rep_after:
            found.append(
                {
                    "kind": NEWS_LEGAL_REP_CHANGE,
                    "before": {"legal_representative": rep_before},
                    "after": {"legal_representative": rep_after},
                    "records": [
                        change
                        for change in after.get("changes") or []
                        if change.get("item") == "legal_representative"
                    ],
                }
            )
    return found
