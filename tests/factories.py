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


def make_loan(company, *, outstanding: str, status="active", currency="CNY", principal="1000000"):
    """A loan on the book of `company` owing `outstanding` principal (its application
    disbursed), as the post-loan stage keeps it; no schedule."""
    from datetime import date

    from postloan.models import Loan
    from postloan.services import loan_terms_from

    application = ApplicationFactory(company=company, status="disbursed", currency=currency)
    return Loan.objects.create(
        application=application,
        **loan_terms_from(application),
        branch=application.branch,
        relationship_manager=application.relationship_manager,
        status=status,
        currency=currency,
        principal=Decimal(principal),
        outstanding_principal=Decimal(outstanding),
        disbursed_on=date(2026, 1, 5),
    )


def make_signed_contracts(application, *, prepared_by, bank_signer) -> list:
    """Every contract the application requires, as rows already signed by each party in the
    branch and by `bank_signer` (for tests that build a contract_signed application from
    rows rather than walking it: tests/lifecycle.sign_contracts signs through the API)."""
    from django.utils import timezone

    from contracts.esign import BuiltInProvider, Signer
    from contracts.models import ContractDocument, Party, Signature
    from contracts.selectors import contracts_required, party_identity, template_for
    from contracts.services import contract_template_defaults_ensure, sha256_of

    contract_template_defaults_ensure()
    provider = BuiltInProvider()
    contracts = []
    for n, required in enumerate(contracts_required(application), start=1):
        text = f"<h1>{required.label()}</h1>"
        contract = ContractDocument.objects.create(
            application=application,
            kind=required.kind,
            number=f"T-{application.reference}-{n}",
            template=template_for(kind=required.kind, product=application.product, language="en"),
            guarantor=required.guarantor,
            collateral=required.collateral,
            language="en",
            text=text,
            status=ContractDocument.Status.SIGNED,
            pdf_status=ContractDocument.PdfStatus.READY,
            sha256=sha256_of(text.encode()),
            prepared_by=prepared_by,
            signed_at=timezone.now(),
        )
        for party in [*contract.required_parties(), Party.BANK]:
            name, id_number = (
                party_identity(contract, party)
                if party != Party.BANK
                else (bank_signer.username, "")
            )
            signer = Signer(party=party, name=name, id_number=id_number or "")
            signed_at = timezone.now()
            Signature.objects.create(
                contract=contract,
                party=party,
                method=Signature.Method.BANK if party == Party.BANK else Signature.Method.BRANCH,
                signer_name=name,
                signer_id_number=id_number or "",
                user=bank_signer if party == Party.BANK else None,
                witness=prepared_by if party != Party.BANK else None,
                code_channel="email",
                code_sent_to="t***@example.cn",
                document_sha256=contract.sha256,
                provider=provider.name,
                seal=provider.seal(
                    signer=signer, document_sha256=contract.sha256, signed_at=signed_at
                ),
                signed_at=signed_at,
            )
        contracts.append(contract)
    return contracts
