"""manage.py seed_demo: a demo bank with people, products, companies and ~200 applications in
every state with back-dated, legal histories. Idempotent: run it again and nothing doubles.

Applications are created at their state directly (factory-style) with AuditEvent rows that
follow the legal transitions with plausible durations; then each stage app's `demo.seed()`
adds its configuration and `demo.seed_history(applications)` its own records."""

import importlib
import os
import random
import sys
import traceback
from base64 import b32decode
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import LoanApplication, Product, Status
from audit.models import AuditEvent
from audit.services import audit_history_import
from customers.models import ApplicantProfile, Company, CompanyBinding
from customers.ric import with_check_digit
from customers.uscc import with_check_character
from org.models import Branch, StaffProfile
from org.roles import Role, sync_role_groups
from org.second_factor import has_second_factor, requires_second_factor
from sla.checks import calendar_missing_message
from sla.selectors import calendar_years_missing

DEMO_PASSWORD = "demo-Loanflow-2026"
# The demo users whose role signs in with a second factor share this authenticator secret
# (base32, as authenticator apps take it typed in), printed with the logins.
DEMO_TOTP_SECRET = "LOANFLOWDEMOSECRETKEYFORTOTPAAAA"
DEMO_APPS = [
    "intake",
    "investigation",
    "datasources",
    "pricing",
    "approvals",
    "disbursement",
    "contracts",
    "postloan",
    "sla",
    "notifications",
    "analytics",
    "complaints",
    "facilities",
]
HISTORY_DAYS = 120

# code, name, level, parent code
BRANCHES = [
    ("HO", "总行 Head office", Branch.Level.HEAD_OFFICE, None),
    ("BJ", "北京分行", Branch.Level.BRANCH, "HO"),
    ("BJ01", "北京海淀支行", Branch.Level.SUB_BRANCH, "BJ"),
    ("BJ02", "北京朝阳支行", Branch.Level.SUB_BRANCH, "BJ"),
    ("SH", "上海分行", Branch.Level.BRANCH, "HO"),
    ("SH01", "上海浦东支行", Branch.Level.SUB_BRANCH, "SH"),
    ("GZ", "广州分行", Branch.Level.BRANCH, "HO"),
    ("GZ01", "广州天河支行", Branch.Level.SUB_BRANCH, "GZ"),
]

# username, first name, last name, roles, branch, authority limit
STAFF = [
    ("rm", "Wang", "Lei 王磊", [Role.RELATIONSHIP_MANAGER], "BJ", "0"),
    ("rm2", "Li", "Na 李娜", [Role.RELATIONSHIP_MANAGER], "BJ01", "0"),
    ("rm_sh", "Zhang", "Wei 张伟", [Role.RELATIONSHIP_MANAGER], "SH", "0"),
    ("rm_gz", "Chen", "Jing 陈静", [Role.RELATIONSHIP_MANAGER], "GZ", "0"),
    # A colleague in each region's branch: a change to a loan is reviewed by another
    # relationship manager who sees the loan (postloan/demo.py, seed_changes).
    ("rm3", "Yang", "Fan 杨帆", [Role.RELATIONSHIP_MANAGER], "BJ", "0"),
    ("rm_sh2", "Qian", "Ying 钱莹", [Role.RELATIONSHIP_MANAGER], "SH", "0"),
    ("rm_gz2", "Huang", "Kai 黄凯", [Role.RELATIONSHIP_MANAGER], "GZ", "0"),
    ("reviewer", "Liu", "Yang 刘洋", [Role.CREDIT_REVIEWER], "HO", "0"),
    ("approver", "Zhao", "Min 赵敏", [Role.APPROVER], "BJ", "1000000"),
    # Two senior approvers at head office (their grade limits: approvals/demo.py): a route
    # with tier 1 and tier 2 needs two approvers, one a step, and Shanghai's and Guangzhou's
    # cases have no approver at their branch.
    ("approver2", "Sun", "Hao 孙浩", [Role.APPROVER], "HO", "10000000"),
    ("approver3", "Deng", "Chao 邓超", [Role.APPROVER], "HO", "10000000"),
    ("committee1", "Zhou", "Qiang 周强", [Role.COMMITTEE_MEMBER], "HO", "20000000"),
    ("committee2", "Wu", "Fang 吴芳", [Role.COMMITTEE_MEMBER], "HO", "20000000"),
    ("committee3", "Lin", "Hui 林慧", [Role.COMMITTEE_MEMBER], "HO", "20000000"),
    ("disburser", "Xu", "Jun 徐军", [Role.DISBURSEMENT_OFFICER], "HO", "0"),
    ("checker", "Ma", "Li 马丽", [Role.DISBURSEMENT_CHECKER], "HO", "0"),
    ("risk", "Hu", "Bin 胡斌", [Role.RISK_OFFICER], "HO", "0"),
    ("head", "Guo", "Tao 郭涛", [Role.BRANCH_HEAD], "BJ", "0"),
    ("admin", "He", "Yun 何云", [Role.ADMINISTRATOR], "HO", "0"),
]

PRODUCTS = [
    {
        "code": "SME-WC",
        "name": "SME working capital loan",
        "name_zh": "小微流动资金贷款",
        "description": "For day-to-day running costs: stock, wages, rent and suppliers' bills.",
        "description_zh": "用于日常经营周转：备货、工资、租金和支付供应商货款。",
        "min_amount": "100000",
        "max_amount": "3000000",
        "min_term_months": 6,
        "max_term_months": 24,
        "min_rate": "3.450",
        "max_rate": "8.000",
        "repayment_methods": ["equal_instalments", "equal_principal", "interest_only_bullet"],
        "guarantee_types": ["credit", "guarantee", "mortgage"],
        "day_count": "actual_360",
        "business_day_convention": "following",
        "fast_track_eligible": False,
    },
    {
        "code": "SME-TAX",
        "name": "Tax-record credit loan",
        "name_zh": "税易贷",
        "description": "An unsecured loan sized on the taxes the company has paid (bank-tax data sharing).",
        "description_zh": "依据企业纳税记录（银税互动）核定额度的信用贷款，无需抵押。",
        "min_amount": "50000",
        "max_amount": "1000000",
        "min_term_months": 3,
        "max_term_months": 12,
        "min_rate": "3.650",
        "max_rate": "6.500",
        "repayment_methods": ["equal_instalments", "interest_only_bullet"],
        "guarantee_types": ["credit"],
        "day_count": "actual_360",
        "business_day_convention": "following",
        "fast_track_eligible": True,
    },
    {
        "code": "SME-EQP",
        "name": "Equipment instalment loan",
        "name_zh": "设备按揭贷款",
        "description": "To buy production equipment, repaid in instalments and secured on the equipment or property.",
        "description_zh": "用于购置生产设备，分期还款，以设备或房产抵质押。",
        "min_amount": "200000",
        "max_amount": "5000000",
        "min_term_months": 12,
        "max_term_months": 60,
        "min_rate": "3.850",
        "max_rate": "7.500",
        "repayment_methods": ["equal_instalments", "equal_principal"],
        "guarantee_types": ["mortgage", "pledge"],
        "day_count": "thirty_360",
        "business_day_convention": "modified_following",
        "fast_track_eligible": False,
    },
    {
        "code": "SME-SCF",
        "name": "Supply-chain receivables loan",
        "name_zh": "供应链应收账款贷",
        "description": "Cash against receivables from a large buyer, repaid when the buyer pays.",
        "description_zh": "以核心企业的应收账款为依托融资，买方付款后归还。",
        "min_amount": "100000",
        "max_amount": "2000000",
        "min_term_months": 3,
        "max_term_months": 12,
        "min_rate": "3.550",
        "max_rate": "7.000",
        "repayment_methods": ["interest_only_bullet", "equal_instalments"],
        "guarantee_types": ["pledge", "guarantee"],
        "day_count": "actual_365",
        "business_day_convention": "following",
        "fast_track_eligible": True,
    },
]

# name, industry (GB/T 4754), home branch
COMPANIES = [
    ("北京华信商贸有限公司", "F51", "BJ"),
    ("北京中科智联科技有限公司", "I65", "BJ"),
    ("北京京味餐饮管理有限公司", "H62", "BJ01"),
    ("北京恒达建材有限公司", "F52", "BJ01"),
    ("北京绿源农业科技有限公司", "A01", "BJ02"),
    ("北京博雅教育咨询有限公司", "P83", "BJ02"),
    ("北京顺通物流有限公司", "G54", "BJ"),
    ("北京精工机械制造有限公司", "C34", "BJ01"),
    ("北京安康医疗器械有限公司", "C35", "BJ02"),
    ("北京新锐广告传媒有限公司", "L72", "BJ"),
    ("北京宏图印刷有限公司", "C23", "BJ01"),
    ("北京美佳服装有限公司", "C18", "BJ02"),
    ("上海浦江电子有限公司", "C39", "SH"),
    ("上海海润食品有限公司", "C14", "SH01"),
    ("上海东方纺织有限公司", "C17", "SH"),
    ("上海申通汽配有限公司", "C36", "SH01"),
    ("上海云帆软件有限公司", "I65", "SH"),
    ("上海丰收贸易有限公司", "F51", "SH01"),
    ("上海金桥包装材料有限公司", "C22", "SH"),
    ("上海明珠酒店管理有限公司", "H61", "SH01"),
    ("广州南方家具有限公司", "C21", "GZ"),
    ("广州珠江化工有限公司", "C26", "GZ01"),
    ("广州岭南茶业有限公司", "C15", "GZ"),
    ("广州天河电子商务有限公司", "F52", "GZ01"),
    ("广州粤海水产有限公司", "A04", "GZ"),
    ("广州白云五金制品有限公司", "C33", "GZ01"),
    ("广州花城园林工程有限公司", "E48", "GZ"),
    ("广州羊城塑料制品有限公司", "C29", "GZ01"),
    ("广州番禺珠宝首饰有限公司", "C24", "GZ"),
    ("广州越秀健康管理有限公司", "Q84", "GZ01"),
]
REGION_CODE = {"BJ": "110108", "SH": "310115", "GZ": "440106"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海涛", "晓明", "春梅", "国栋", "文静", "永康"]
PURPOSES = [
    "采购原材料 Raw materials for orders",
    "支付货款 Paying suppliers",
    "购置设备 New production equipment",
    "扩大门店 Opening a second shop",
    "补充流动资金 Working capital for the season",
    "应收账款融资 Receivables financing",
]
DECLINE_REASONS = [
    ["Debt ratio too high"],
    ["Declining revenue"],
    ["Negative list: overdue taxes"],
    ["Insufficient collateral"],
]

# How many applications end in each state (about 200 in all).
STATE_MIX = {
    Status.DRAFT: 15,
    Status.SUBMITTED: 14,
    Status.INVESTIGATION: 20,
    Status.IN_APPROVAL: 20,
    Status.INFO_REQUESTED: 10,
    Status.APPROVED: 12,
    Status.CONTRACT_SIGNED: 10,
    Status.DISBURSED: 45,
    Status.CLOSED: 14,
    Status.WRITTEN_OFF: 4,
    Status.DECLINED: 22,
    Status.WITHDRAWN: 14,
}

# Who takes each transition, and how long (days) the step before it usually takes.
ACTOR = {
    "submit": "rm",
    "start_investigation": "rm",
    "send_to_approval": "rm",
    "approve": "approver",
    "decline": "approver",
    "return_to_investigation": "approver",
    "request_information": "reviewer",
    "resume": "rm",
    "sign_contract": "rm",
    "disburse": "checker",
    "close": "risk",
    "write_off": "risk",
    "withdraw": "rm",
}
ROLE_OF = {
    "rm": Role.RELATIONSHIP_MANAGER,
    "approver": Role.APPROVER,
    "reviewer": Role.CREDIT_REVIEWER,
    "checker": Role.DISBURSEMENT_CHECKER,
    "risk": Role.RISK_OFFICER,
}
DURATION_DAYS = {
    "submit": (0.3, 4),
    "start_investigation": (0.1, 2),
    "send_to_approval": (2, 8),
    "approve": (1, 6),
    "decline": (1, 6),
    "return_to_investigation": (1, 4),
    "request_information": (0.5, 4),
    "resume": (1, 6),
    "sign_contract": (1, 5),
    "disburse": (0.5, 3),
    "close": (25, 60),
    "write_off": (40, 70),
    "withdraw": (1, 10),
}
TARGET = {
    "submit": Status.SUBMITTED,
    "start_investigation": Status.INVESTIGATION,
    "send_to_approval": Status.IN_APPROVAL,
    "approve": Status.APPROVED,
    "decline": Status.DECLINED,
    "return_to_investigation": Status.INVESTIGATION,
    "sign_contract": Status.CONTRACT_SIGNED,
    "disburse": Status.DISBURSED,
    "close": Status.CLOSED,
    "write_off": Status.WRITTEN_OFF,
    "withdraw": Status.WITHDRAWN,
}
MAIN_PATH = [
    "submit",
    "start_investigation",
    "send_to_approval",
    "approve",
    "sign_contract",
    "disburse",
]


def path_to(status: str, rng: random.Random) -> list[str]:
    """A legal sequence of transitions from draft to `status`, sometimes with a detour."""

    def upto(last: str) -> list[str]:
        steps = MAIN_PATH[: MAIN_PATH.index(last) + 1]
        if "send_to_approval" in steps and rng.random() < 0.15:
            # Approval sent it back once for more investigation.
            i = steps.index("send_to_approval") + 1
            steps[i:i] = ["return_to_investigation", "send_to_approval"]
        if "start_investigation" in steps and rng.random() < 0.15:
            i = steps.index("start_investigation") + 1
            steps[i:i] = ["request_information", "resume"]
        return steps

    if status == Status.DRAFT:
        return []
    if status in (
        Status.SUBMITTED,
        Status.INVESTIGATION,
        Status.IN_APPROVAL,
        Status.APPROVED,
        Status.CONTRACT_SIGNED,
        Status.DISBURSED,
    ):
        last = {
            Status.SUBMITTED: "submit",
            Status.INVESTIGATION: "start_investigation",
            Status.IN_APPROVAL: "send_to_approval",
            Status.APPROVED: "approve",
            Status.CONTRACT_SIGNED: "sign_contract",
            Status.DISBURSED: "disburse",
        }[status]
        steps = upto(last)
        if status in (Status.SUBMITTED, Status.INVESTIGATION):
            steps = (
                [s for s in steps if s not in ("request_information", "resume")]
                if status == Status.SUBMITTED
                else steps
            )
        return steps
    if status == Status.INFO_REQUESTED:
        base = rng.choice(
            ["submit", "start_investigation", "start_investigation", "send_to_approval"]
        )
        steps = MAIN_PATH[: MAIN_PATH.index(base) + 1]
        return [*steps, "request_information"]
    if status in (Status.CLOSED, Status.WRITTEN_OFF):
        return [*upto("disburse"), "close" if status == Status.CLOSED else "write_off"]
    if status == Status.DECLINED:
        if rng.random() < 0.2:
            return ["submit", "decline"]  # pre-screen decline straight after submission
        return [*upto("send_to_approval"), "decline"]
    if status == Status.WITHDRAWN:
        return [*MAIN_PATH[: rng.choice([0, 1, 2, 3])], "withdraw"]
    raise ValueError(status)


@dataclass
class Step:
    name: str
    at: datetime
    from_state: str
    to_state: str


class Command(BaseCommand):
    help = "Load the demo bank (idempotent) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Fail when a stage's demo data fails (default: warn).",
        )
        parser.add_argument(
            "--applications",
            type=int,
            default=sum(STATE_MIX.values()),
            help="Roughly how many applications to create (default 200).",
        )

    def handle(self, *args, strict: bool = False, applications: int = 200, **options):
        self.rng = random.Random(20261123)
        self.password_hash = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            sync_role_groups()
            branches = self.seed_branches()
            self.users = self.seed_staff(branches)
            self.seed_second_factors(self.users)
            products = self.seed_products()
            companies = self.seed_companies(branches)
            owners = self.seed_owners(companies)
        failures = []
        modules = []
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    if strict:
                        raise
                    failures.append(self._failed(app, "import"))
                continue
            modules.append((app, module))
            self._run(app, "seed", module.seed, failures, strict)
        with transaction.atomic():
            demo_apps = self.seed_applications(products, companies, applications)
        for app, module in modules:
            if hasattr(module, "seed_history"):
                self._run(
                    app,
                    "seed_history",
                    lambda m=module: m.seed_history(demo_apps),
                    failures,
                    strict,
                )
        self.print_logins(owners)
        for region, year in calendar_years_missing():
            self.stderr.write(self.style.WARNING(calendar_missing_message(region, year)))
        if failures:
            self.stderr.write(
                self.style.WARNING(
                    "Demo data of these stages failed (see above): " + ", ".join(failures)
                )
            )

    # --- organisation and people -----------------------------------------------------------
    def seed_branches(self) -> dict[str, Branch]:
        branches: dict[str, Branch] = {}
        for code, name, level, parent in BRANCHES:
            branch, _created = Branch.objects.get_or_create(
                code=code, defaults={"name": name, "level": level, "parent": branches.get(parent)}
            )
            branches[code] = branch
        return branches

    def _user(self, username: str, first: str, last: str, roles, *, email=None, **flags) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "password": self.password_hash,
                "email": email or f"{username}@demo.loanflow.example",
                **flags,
            },
        )
        user.groups.add(*[Group.objects.get(name=role) for role in roles])
        return user

    def seed_staff(self, branches) -> dict[str, User]:
        users = {}
        for username, first, last, roles, branch, limit in STAFF:
            admin = Role.ADMINISTRATOR in roles
            user = self._user(username, first, last, roles, is_staff=admin, is_superuser=admin)
            StaffProfile.objects.get_or_create(
                user=user, defaults={"branch": branches[branch], "authority_limit": Decimal(limit)}
            )
            users[username] = user
        return users

    def seed_second_factors(self, users: dict[str, User]) -> None:
        """An authenticator with the demo secret for each demo user whose role needs one,
        unless they have one already (one they enrolled themselves is kept)."""
        key = b32decode(DEMO_TOTP_SECRET).hex()
        for user in users.values():
            if requires_second_factor(user) and not has_second_factor(user):
                TOTPDevice.objects.filter(user=user).delete()
                TOTPDevice.objects.create(
                    user=user, name="Demo authenticator", key=key, confirmed=True
                )

    def seed_products(self) -> list[Product]:
        products = []
        for spec in PRODUCTS:
            spec = dict(spec)
            code = spec.pop("code")
            for key in ("min_amount", "max_amount", "min_rate", "max_rate"):
                spec[key] = Decimal(spec[key])
            product, _created = Product.objects.get_or_create(code=code, defaults=spec)
            products.append(product)
        return products

    def seed_companies(self, branches) -> list[Company]:
        companies = []
        for n, (name, industry, home) in enumerate(COMPANIES, start=1):
            region = REGION_CODE[home[:2]]
            code = with_check_character(f"91{region}MA0{n:06d}")
            rng = random.Random(n)
            rep = rng.choice(SURNAMES) + rng.choice(GIVEN)
            company, _created = Company.objects.get_or_create(
                credit_code=code,
                defaults={
                    "name": name,
                    "industry_code": industry,
                    "registration_date": date(2008 + n % 14, 1 + n % 12, 1 + n % 27),
                    "employees": rng.randint(8, 280),
                    "legal_representative": rep,
                    "legal_representative_id": with_check_digit(
                        f"{region}{1994 + n % 10}{1 + n % 12:02d}{10 + n % 18:02d}{n:03d}"
                    ),
                    "contact_name": rep,
                    "contact_phone": f"13{rng.randint(100000000, 999999999)}",
                    "contact_email": f"owner{n:02d}@demo.loanflow.example",
                    "address": name.replace("有限公司", "") + "路88号",
                    "home_branch": branches[home],
                },
            )
            companies.append(company)
        return companies

    def seed_owners(self, companies) -> list[tuple[User, Company]]:
        owners = []
        for n, company in enumerate(companies, start=1):
            user = self._user(
                f"owner{n:02d}",
                company.legal_representative,
                "",
                [Role.APPLICANT],
                email=company.contact_email,
            )
            ApplicantProfile.objects.get_or_create(
                user=user, defaults={"company": company, "phone": company.contact_phone}
            )
            CompanyBinding.objects.get_or_create(
                user=user,
                company=company,
                defaults={"status": CompanyBinding.Status.ACTIVE, "details_matched": True},
            )
            owners.append((user, company))
        return owners

    # --- applications -------------------------------------------------------------------------
    def _rm_for(self, company: Company) -> User:
        path = company.home_branch.path
        if path.startswith("HO/SH/"):
            return self.users["rm_sh"]
        if path.startswith("HO/GZ/"):
            return self.users["rm_gz"]
        return self.users["rm2"] if "BJ01" in path else self.users["rm"]

    def seed_applications(self, products, companies, wanted: int) -> list[LoanApplication]:
        existing = {
            a.reference: a for a in LoanApplication.objects.filter(reference__startswith="DEMO-")
        }
        rng = self.rng
        now = timezone.now()
        scale = wanted / sum(STATE_MIX.values())
        statuses = [s for s, n in STATE_MIX.items() for _ in range(max(1, round(n * scale)))]
        rng.shuffle(statuses)
        open_pairs: set[tuple[int, int]] = {
            (a.company_id, a.product_id) for a in existing.values() if a.is_open
        }
        result = []
        for n, status in enumerate(statuses, start=1):
            reference = f"DEMO-{n:04d}"
            steps_names = path_to(status, rng)
            company, product = self._pick(companies, products, status, open_pairs, rng)
            if reference in existing:
                result.append(existing[reference])
                continue
            amount = self._amount(product, rng)
            term = rng.randint(product.min_term_months, product.max_term_months)
            rate = (
                product.min_rate
                + (product.max_rate - product.min_rate) * Decimal(rng.randint(0, 60)) / 100
            ).quantize(Decimal("0.001"))
            steps = self._timeline(steps_names, now, rng)
            rm = self._rm_for(company)
            app = self._create(
                reference, status, company, product, amount, term, rate, rm, steps, rng
            )
            result.append(app)
        return result

    def _pick(self, companies, products, status, open_pairs, rng):
        is_open = status in (
            Status.DRAFT,
            Status.SUBMITTED,
            Status.INVESTIGATION,
            Status.IN_APPROVAL,
            Status.INFO_REQUESTED,
            Status.APPROVED,
            Status.CONTRACT_SIGNED,
        )
        for _ in range(200):
            company, product = rng.choice(companies), rng.choice(products)
            if not is_open:
                return company, product
            if (company.pk, product.pk) not in open_pairs:
                open_pairs.add((company.pk, product.pk))
                return company, product
        return company, product

    @staticmethod
    def _amount(product: Product, rng) -> Decimal:
        low, high = int(product.min_amount), int(product.max_amount)
        # Most SME loans are small: skew towards the lower end, round to 10,000.
        value = low + (high - low) * rng.random() ** 2
        return max(product.min_amount, Decimal(int(value) // 10000 * 10000))

    @staticmethod
    def _timeline(names: list[str], now: datetime, rng) -> list[Step]:
        durations = [timedelta(days=rng.uniform(*DURATION_DAYS[name])) for name in names]
        total = sum(durations, timedelta())
        span = timedelta(days=HISTORY_DAYS)
        latest_start = now - total - timedelta(hours=2)
        earliest_start = (
            max(now - span, latest_start - timedelta(days=60))
            if names
            else now - timedelta(days=30)
        )
        if earliest_start > latest_start:
            earliest_start = latest_start
        start = earliest_start + (latest_start - earliest_start) * rng.random()
        start = start.replace(microsecond=0)
        steps = [Step("create", start, "", Status.DRAFT)]
        at, state, resume_to = start, Status.DRAFT, ""
        for name, duration in zip(names, durations, strict=True):
            at = at + duration
            if name == "request_information":
                resume_to, target = state, Status.INFO_REQUESTED
            elif name == "resume":
                target = resume_to
            else:
                target = TARGET[name]
            steps.append(Step(name, at, state, target))
            state = target
        return steps

    def _create(
        self, reference, status, company, product, amount, term, rate, rm, steps, rng
    ) -> LoanApplication:
        created = steps[0].at
        last = steps[-1]
        reached = {step.name: step.at for step in steps}
        info = next((s for s in reversed(steps) if s.name == "request_information"), None)
        investigated = "send_to_approval" in reached
        app = LoanApplication(
            reference=reference,
            company=company,
            branch=company.home_branch,
            product=product,
            product_snapshot=product.snapshot(),
            amount=amount,
            currency=product.currency,
            term_months=term,
            interest_rate=rate,
            repayment_method=rng.choice(product.repayment_methods),
            guarantee_type=rng.choice(product.guarantee_types),
            purpose=rng.choice(PURPOSES),
            filed_by=rm,
            relationship_manager=rm,
            investigator=rm if "start_investigation" in reached else None,
            status=status,
            resume_status=info.from_state if status == Status.INFO_REQUESTED and info else "",
            status_changed_at=last.at,
            submitted_at=reached.get("submit"),
            decided_at=reached.get("approve") or reached.get("decline"),
            disbursed_at=reached.get("disburse"),
            closed_at=(reached.get("close") or reached.get("write_off") or reached.get("withdraw")),
            decline_reasons=rng.choice(DECLINE_REASONS) if status == Status.DECLINED else [],
        )
        if investigated:
            grade = rng.choices("ABCDE", weights=[25, 35, 25, 10, 5])[0]
            app.risk_grade = grade
            app.risk_score = {"A": 82, "B": 71, "C": 60, "D": 48, "E": 35}[grade] + rng.randint(
                -4, 4
            )
            app.route_recommendation = {
                "A": "fast_track",
                "B": "standard",
                "C": "standard",
                "D": "enhanced",
                "E": "enhanced",
            }[grade]
        app.save()
        # created_at is auto_now_add: back-date it with an update.
        LoanApplication.objects.filter(pk=app.pk).update(created_at=created, updated_at=last.at)
        app.created_at = created
        events = []
        for step in steps:
            who = ACTOR.get(step.name, "rm")
            if step.name == "approve" and amount > Decimal("1000000"):
                who = "approver2"
            actor = rm if who == "rm" else self.users[who]
            system = step.name == "decline" and step.from_state == Status.SUBMITTED
            events.append(
                AuditEvent(
                    at=step.at,
                    application=app,
                    kind=AuditEvent.Kind.ACTION
                    if step.name == "create"
                    else AuditEvent.Kind.TRANSITION,
                    actor=None if system else actor,
                    actor_role="system" if system else ROLE_OF.get(who.rstrip("2"), ""),
                    action=step.name,
                    from_state=step.from_state,
                    to_state=step.to_state,
                    comment=self._comment(step.name, rng),
                    data={"channel": "branch", "demo": True}
                    if step.name == "create"
                    else {"demo": True},
                )
            )
        # Past events keep their dates: the demo runs as the database's owner (docs/adr/0013).
        with audit_history_import():
            AuditEvent.objects.bulk_create(events)
        return app

    @staticmethod
    def _comment(name: str, rng) -> str:
        texts = {
            "submit": ["Materials complete", "All documents collected at the visit"],
            "send_to_approval": ["Site visit done, cash flow stable", "Memo attached"],
            "approve": ["Good repayment history", "Within limit; collateral adequate"],
            "decline": ["Debt ratio above policy", "Revenue declining for two years"],
            "return_to_investigation": ["Please verify the bank flows"],
            "request_information": ["Need the latest VAT returns", "Need the lease contract"],
            "resume": ["Documents received"],
            "withdraw": ["Customer no longer needs the loan", "Went to another bank"],
            "close": ["Repaid in full"],
            "write_off": ["Collection exhausted"],
        }
        options = texts.get(name)
        return rng.choice(options) if options else ""

    # --- stage demo modules and output --------------------------------------------------------
    def _failed(self, app: str, what: str) -> str:
        self.stderr.write(self.style.WARNING(f"{app}.demo {what} failed:"))
        traceback.print_exc(file=sys.stderr)
        return f"{app} ({what})"

    def _run(self, app, what, fn, failures, strict):
        try:
            with transaction.atomic():
                fn()
        except Exception:
            if strict:
                raise
            failures.append(self._failed(app, what))

    def print_logins(self, owners):
        # `make run` serves on $PORT (8000 unless set).
        base = f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
        rows = [
            (u, DEMO_PASSWORD, ", ".join(str(Role(r).label) for r in roles), f"{base}/login/")
            for u, _f, _l, roles, _b, _lim in STAFF
        ]
        for user, company in owners[:3]:
            rows.append(
                (
                    user.username,
                    DEMO_PASSWORD,
                    f"SME owner: {company.name}",
                    f"{base}/portal/login/",
                )
            )
        widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
        header = ("username", "password", "role", "URL")
        widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {LoanApplication.objects.filter(reference__startswith='DEMO-').count()}"
                " demo applications."
            )
        )
        self.stdout.write(line.format(*header))
        self.stdout.write(line.format(*["-" * w for w in widths]))
        for row in rows:
            self.stdout.write(line.format(*row))
        self.stdout.write(
            f"... and owner04 to owner{len(owners):02d} (one per demo company), same password."
        )
        self.stdout.write(
            "An owner accepts an approved offer with a one-time code e-mailed to them: outside "
            "production the e-mail is a file in var/mail/."
        )
        secret = " ".join(DEMO_TOTP_SECRET[i : i + 4] for i in range(0, len(DEMO_TOTP_SECRET), 4))
        needs = ", ".join(u.username for u in self.users.values() if requires_second_factor(u))
        self.stdout.write("")
        self.stdout.write(
            f"Two-factor authentication: {needs} enter a 6-digit code after the password. "
            f"Add this secret to an authenticator app (enter it by hand as a time-based key): "
            f"{secret} — or print the current code with `oathtool --totp -b "
            f"{DEMO_TOTP_SECRET}` (Debian package oathtool). The same code works for all of "
            "them; each code is accepted once, so wait for the next one to log in as another."
        )
