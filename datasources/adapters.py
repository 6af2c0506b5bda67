"""External data sources behind one interface: `fetch(subject, timeout)` returns the answer as
received (a JSON-able dict) or raises SourceUnavailable. One adapter per source, chosen by
LOANFLOW_DATASOURCE_ADAPTERS (a class path per source).

The simulated adapters ship with the product: the answer is a function of the unified social
credit code (and the day asked, which the dates count from), so demo data, tests and `make run`
exercise the real code path. About one company in five has bad news at each source. The fault
setting (LOANFLOW_DATASOURCE_SIMULATED_FAULT) makes them fail or time out for fault drills.
The HTTP adapter is the production one: its endpoint, token and client certificate come from
the environment (LOANFLOW_DATASOURCE_ENDPOINTS); tests never call it."""

import datetime
import hashlib
import json
import random
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SourceUnavailable(Exception):
    """The source did not answer usefully: an error, a refusal or a malformed answer."""


class SourceTimeout(SourceUnavailable):
    """The source did not answer within the timeout."""


@dataclass(frozen=True)
class Subject:
    """Who is asked about: the company, and its legal representative for the personal report."""

    credit_code: str
    company_name: str
    legal_representative: str
    legal_representative_id: str
    as_of: datetime.date


class DataSource(Protocol):
    source: str

    def fetch(self, subject: Subject, *, timeout: float) -> dict: ...


def adapter_for(source: str) -> DataSource:
    return import_string(settings.LOANFLOW_DATASOURCE_ADAPTERS[source])()


# --- Production -------------------------------------------------------------------------------


class HttpSource:
    """A source's HTTPS API: POST the subject as JSON with a bearer token, optionally with a
    client certificate (a PEM holding the certificate and its key); the JSON answer is kept as
    received. Not called in tests."""

    source = ""

    def fetch(self, subject: Subject, *, timeout: float) -> dict:
        config = settings.LOANFLOW_DATASOURCE_ENDPOINTS[self.source]
        if not config["url"]:
            raise SourceUnavailable(f"LOANFLOW_DATASOURCE_{self.source.upper()}_URL is not set.")
        if not config["url"].startswith("https://"):
            raise SourceUnavailable(f"LOANFLOW_DATASOURCE_{self.source.upper()}_URL is not https.")
        context = ssl.create_default_context()
        if config["cert"]:
            context.load_cert_chain(config["cert"])
        body = json.dumps(
            {
                "credit_code": subject.credit_code,
                "company_name": subject.company_name,
                "legal_representative": subject.legal_representative,
                "legal_representative_id": subject.legal_representative_id,
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - https only, checked above
            config["url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {config['token']}",
            },
        )
        try:
            # https only (checked above), bounded by the timeout.
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=timeout, context=context
            ) as response:
                return json.loads(response.read().decode())
        except TimeoutError as exc:
            raise SourceTimeout(str(exc)) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceUnavailable(str(exc)) from exc


class HttpBureau(HttpSource):
    source = "bureau"


class HttpTax(HttpSource):
    source = "tax"


class HttpRegistry(HttpSource):
    source = "registry"


class HttpCourts(HttpSource):
    source = "courts"


# --- Simulated --------------------------------------------------------------------------------

BANKS = ["中国工商银行", "中国建设银行", "招商银行", "兴业银行", "江苏银行", "宁波银行"]
COURTS = ["北京市朝阳区人民法院", "上海市浦东新区人民法院", "深圳市南山区人民法院"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def _money(value: float) -> str:
    return str(Decimal(value).quantize(Decimal("1000")).quantize(Decimal("0.01")))


def _day(as_of: datetime.date, days_ago: int) -> str:
    return (as_of - datetime.timedelta(days=days_ago)).isoformat()


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


class Simulated:
    source = ""
    # The share of companies with bad news at this source.
    BAD_NEWS_SHARE = 0.2

    def rng(self, subject: Subject) -> random.Random:
        digest = hashlib.sha256(f"{self.source}:{subject.credit_code}".encode()).hexdigest()
        return random.Random(int(digest[:16], 16))

    def has_bad_news(self, subject: Subject) -> bool:
        return self.rng(subject).random() < self.BAD_NEWS_SHARE

    def fetch(self, subject: Subject, *, timeout: float) -> dict:
        fault = settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT
        sources = settings.LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES
        if fault and (not sources or self.source in sources):
            if fault == "timeout":
                raise SourceTimeout(f"simulated {self.source}: no answer within {timeout}s")
            raise SourceUnavailable(f"simulated {self.source}: service unavailable (503)")
        rng = self.rng(subject)
        bad = rng.random() < self.BAD_NEWS_SHARE
        answer = self.answer(subject, rng, bad)
        answer["simulated"] = True
        answer["as_of"] = subject.as_of.isoformat()
        return answer

    def answer(self, subject: Subject, rng: random.Random, bad: bool) -> dict:
        raise NotImplementedError


class SimulatedBureau(Simulated):
    """企业征信 and the legal representative's 个人征信."""

    source = "bureau"

    def _loans(self, rng, as_of, bad: bool, count: int) -> list[dict]:
        loans = []
        for i in range(count):
            amount = rng.randrange(200, 5000) * 1000
            overdue_days = rng.choice([31, 62, 95, 180]) if bad and i == 0 else 0
            loans.append(
                {
                    "lender": rng.choice(BANKS),
                    "amount": _money(amount),
                    "balance": _money(amount * rng.uniform(0.1, 0.9)),
                    "opened_on": _day(as_of, rng.randint(60, 900)),
                    "status": "overdue" if overdue_days else "normal",
                    "overdue_days": overdue_days,
                }
            )
        return loans

    def answer(self, subject: Subject, rng: random.Random, bad: bool) -> dict:
        as_of = subject.as_of
        loans = self._loans(rng, as_of, bad, rng.randint(0, 3) + (1 if bad else 0))
        guarantees = [
            {
                "beneficiary": f"{_person(rng)}贸易有限公司",
                # Clean: at most 2 x 1.2M, under the default guarantee limit of 3M.
                "amount": _money(rng.randrange(300, 1200) * 1000 * (3 if bad else 1)),
                "status": "normal",
            }
            for _ in range(rng.randint(0, 2) + (2 if bad else 0))
        ]
        inquiries = [
            {
                "on": _day(as_of, rng.randint(1, 180)),
                "institution": rng.choice(BANKS),
                "reason": rng.choice(["loan_approval", "post_loan", "guarantee"]),
            }
            for _ in range(rng.randint(0, 4) + (4 if bad else 0))
        ]
        personal_overdue = rng.randint(1, 4) if bad else 0
        return {
            "report_no": f"CR{rng.randrange(10**11, 10**12)}",
            "company": {
                "loans": loans,
                "guarantees": guarantees,
                "inquiries": inquiries,
                "overdue_count_24m": sum(1 for loan in loans if loan["overdue_days"]),
                "max_overdue_days": max([loan["overdue_days"] for loan in loans] + [0]),
            },
            "legal_representative": {
                "name": subject.legal_representative,
                "loans": self._loans(rng, as_of, False, rng.randint(0, 2)),
                "credit_cards": rng.randint(0, 4),
                "overdue_count_24m": personal_overdue,
                "max_overdue_days": rng.choice([31, 62]) if personal_overdue else 0,
                "inquiries_3m": rng.randint(0, 3),
            },
        }


class SimulatedTax(Simulated):
    """银税互动: declared revenue, tax paid and the tax credit grade, by year."""

    source = "tax"

    def answer(self, subject: Subject, rng: random.Random, bad: bool) -> dict:
        revenue = rng.randrange(2000, 40000) * 1000
        rate = rng.uniform(0.02, 0.05)
        periods = []
        for back in (3, 2, 1):
            year_revenue = revenue * rng.uniform(0.8, 1.15) ** (3 - back)
            if back == 1:
                grade = "D" if bad else rng.choice(["A", "A", "B", "B", "M"])
            else:
                grade = rng.choice(["A", "B", "B", "M", "C"] if bad else ["A", "B", "M"])
            periods.append(
                {
                    "period": str(subject.as_of.year - back),
                    "declared_revenue": _money(year_revenue),
                    "tax_paid": _money(year_revenue * rate * (0.4 if bad else 1)),
                    "grade": grade,
                }
            )
        return {
            "taxpayer_no": subject.credit_code,
            "periods": periods,
            "grade": periods[-1]["grade"],
        }


class SimulatedRegistry(Simulated):
    """工商: status, registered capital, shareholders, legal representative, changes, and the
    list of abnormal operation (经营异常名录)."""

    source = "registry"

    def answer(self, subject: Subject, rng: random.Random, bad: bool) -> dict:
        as_of = subject.as_of
        founder = subject.legal_representative or _person(rng)
        partner = _person(rng)
        share = rng.choice([51, 60, 70, 80, 100])
        shareholders = [{"name": founder, "share_pct": str(share)}]
        if share < 100:
            shareholders.append({"name": partner, "share_pct": str(100 - share)})
        changes = [
            {
                "on": _day(as_of, rng.randint(800, 2500)),
                "item": "address",
                "before": "旧址",
                "after": "现址",
            }
        ]
        abnormal = []
        status = "active"
        if bad:
            kind = rng.choice(["legal_representative", "abnormal", "status"])
            if kind == "legal_representative":
                changes.append(
                    {
                        "on": _day(as_of, rng.randint(20, 200)),
                        "item": "legal_representative",
                        "before": _person(rng),
                        "after": founder,
                    }
                )
            elif kind == "abnormal":
                abnormal.append(
                    {
                        "listed_on": _day(as_of, rng.randint(30, 300)),
                        "reason": "未按规定公示年度报告",
                        "authority": "市场监督管理局",
                    }
                )
            else:
                status = "revoked"
        return {
            "name": subject.company_name,
            "credit_code": subject.credit_code,
            "status": status,
            "registered_capital": _money(rng.choice([1, 2, 5, 10, 20, 50]) * 1_000_000),
            "currency": "CNY",
            "established_on": _day(as_of, rng.randint(1200, 6000)),
            "legal_representative": founder,
            "shareholders": shareholders,
            "changes": changes,
            "abnormal_operations": abnormal,
        }


class SimulatedCourts(Simulated):
    """司法: enforcement (被执行人) and dishonest-debtor (失信被执行人) lists, lawsuits."""

    source = "courts"

    def answer(self, subject: Subject, rng: random.Random, bad: bool) -> dict:
        as_of = subject.as_of
        lawsuits = [
            {
                "case_no": f"({as_of.year - 1})民初{rng.randint(100, 9999)}号",
                "court": rng.choice(COURTS),
                "role": "plaintiff",
                "cause": "买卖合同纠纷",
                "amount": _money(rng.randrange(50, 500) * 1000),
                "filed_on": _day(as_of, rng.randint(100, 700)),
            }
            for _ in range(rng.randint(0, 1))
        ]
        enforcements, dishonest = [], []
        if bad:
            amount = _money(rng.randrange(100, 3000) * 1000)
            case_no = f"({as_of.year - 1})执{rng.randint(100, 9999)}号"
            court = rng.choice(COURTS)
            enforcements.append(
                {
                    "case_no": case_no,
                    "court": court,
                    "amount": amount,
                    "filed_on": _day(as_of, rng.randint(60, 400)),
                    "status": "open",
                }
            )
            dishonest.append(
                {"case_no": case_no, "court": court, "listed_on": _day(as_of, rng.randint(10, 50))}
            )
            lawsuits.append(
                {
                    "case_no": f"({as_of.year})民初{rng.randint(100, 9999)}号",
                    "court": court,
                    "role": "defendant",
                    "cause": "借款合同纠纷",
                    "amount": amount,
                    "filed_on": _day(as_of, rng.randint(100, 400)),
                }
            )
        return {
            "search_no": f"SF{rng.randrange(10**9, 10**10)}",
            "enforcements": enforcements,
            "dishonest_debtor": dishonest,
            "lawsuits": lawsuits,
        }


def subject_of(application, *, as_of: datetime.date | None = None) -> Subject:
    company = application.company
    return Subject(
        credit_code=company.credit_code,
        company_name=company.name,
        legal_representative=company.legal_representative,
        legal_representative_id=company.legal_representative_id,
        as_of=as_of or timezone.localdate(),
    )
