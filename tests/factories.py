"""factory_boy factories shared by every test module."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from applications.models import LoanApplication, Product
from customers.models import ApplicantProfile, Company, CompanyBinding
from customers.ric import with_check_digit
from customers.uscc import with_check_character
from org.models import Branch, StaffProfile
from org.roles import Role

_uscc_counter = itertools.count(1)


def make_uscc() -> str:
    """A valid unified social credit code, unique per call."""
    return with_check_character(f"91110108{next(_uscc_counter):09d}")


def make_resident_id(n: int) -> str:
    """A valid resident ID number (born in Beijing's Dongcheng district), a different one for
    each n."""
    born = date(1960, 1, 1) + timedelta(days=n // 1000)
    return with_check_digit(f"110101{born:%Y%m%d}{n % 1000:03d}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BR{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Branch {o.code}")
    level = Branch.Level.BRANCH
    parent = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-Loanflow-2026")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=role)[0])
        if create:
            self.save()


def make_staff(
    role: str | list[str],
    branch: Branch,
    *,
    username: str | None = None,
    limit: Decimal = Decimal("5000000"),
    **extra,
) -> User:
    roles = [role] if isinstance(role, str) else list(role)
    kwargs = {"roles": roles, **extra}
    if username:
        kwargs["username"] = username
    user = UserFactory(**kwargs)
    StaffProfile.objects.get_or_create(
        user=user, defaults={"branch": branch, "authority_limit": limit}
    )
    return user


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Acme Trading {n} Co., Ltd.")
    credit_code = factory.LazyFunction(make_uscc)
    industry_code = "C13"
    registration_date = date(2015, 3, 1)
    employees = 25
    legal_representative = factory.Faker("name")
    legal_representative_id = factory.Sequence(make_resident_id)
    contact_email = factory.Sequence(lambda n: f"owner{n}@example.com")
    home_branch = factory.SubFactory(BranchFactory)


def make_applicant(company: Company, *, username: str | None = None) -> User:
    kwargs = {"roles": [Role.APPLICANT]}
    if username:
        kwargs["username"] = username
    user = UserFactory(**kwargs)
    ApplicantProfile.objects.get_or_create(user=user, defaults={"company": company})
    CompanyBinding.objects.get_or_create(
        user=user,
        company=company,
        defaults={"status": CompanyBinding.Status.ACTIVE, "details_matched": True},
    )
    return user


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SME{n:02d}")
    name = factory.LazyAttribute(lambda o: f"SME working capital {o.code}")
    name_zh = "小微流动资金贷款"
    min_amount = Decimal("50000.00")
    max_amount = Decimal("5000000.00")
    min_term_months = 3
    max_term_months = 36
    min_rate = Decimal("3.000")
    max_rate = Decimal("12.000")
    repayment_methods = ["equal_instalments", "equal_principal", "interest_only_bullet"]
    guarantee_types = ["credit", "guarantee", "mortgage", "pledge"]
    fast_track_eligible = True


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application in any state (status=...). Tests of transitions create drafts and walk
    them through the services instead."""

    class Meta:
        model = LoanApplication

    company = factory.SubFactory(CompanyFactory)
    branch = factory.LazyAttribute(lambda o: o.company.home_branch)
    product = factory.SubFactory(ProductFactory)
    product_snapshot = factory.LazyAttribute(lambda o: o.product.snapshot())
    amount = Decimal("800000.00")
    currency = "CNY"
    term_months = 12
    interest_rate = Decimal("4.350")
    repayment_method = "equal_instalments"
    guarantee_type = "credit"
    purpose = "Working capital for raw materials"
    filed_by = factory.LazyAttribute(lambda o: make_staff(Role.RELATIONSHIP_MANAGER, o.branch))
    relationship_manager = factory.LazyAttribute(lambda o: o.filed_by)
