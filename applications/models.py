import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import (
    RETURN_VALUE,
    ConcurrentTransitionMixin,
    FSMField,
    FSMModelMixin,
    transition,
)

from common.i18n import Bilingual
from org.permissions import has_role_perm


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALMENTS = "equal_instalments", _("Equal instalments (等额本息)")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal (等额本金)")
    INTEREST_ONLY_BULLET = "interest_only_bullet", _("Interest only, then bullet (先息后本)")
    QUARTERLY_INTEREST_BULLET = (
        "quarterly_interest_bullet",
        _("Interest quarterly, principal at maturity (按季结息，到期还本)"),
    )


class BusinessDayConvention(models.TextChoices):
    """Where a due date that falls on a non-working day of the business calendar moves."""

    FOLLOWING = "following", _("Following: the next working day")
    MODIFIED_FOLLOWING = (
        "modified_following",
        _(
            "Modified following: the next working day, unless it is in the next month (then the "
            "working day before)"
        ),
    )
    NONE = "none", _("None: due dates stay where they fall")


class DayCount(models.TextChoices):
    """How interest counts time (disbursement.schedule)."""

    THIRTY_360 = "thirty_360", _("30/360: a whole month is a twelfth of a year")
    ACTUAL_360 = "actual_360", _("Actual/360: actual days, 360 a year")
    ACTUAL_365 = "actual_365", _("Actual/365: actual days, 365 a year")


class RouteRecommendation(models.TextChoices):
    """The investigation's recommendation of the approval route (routing reads it)."""

    FAST_TRACK = "fast_track", _("Fast track")
    STANDARD = "standard", _("Standard")
    ENHANCED = "enhanced", _("Enhanced review")


class GuaranteeType(models.TextChoices):
    CREDIT = "credit", _("Credit (unsecured)")
    GUARANTEE = "guarantee", _("Guarantee")
    MORTGAGE = "mortgage", _("Mortgage")
    PLEDGE = "pledge", _("Pledge")


class Product(Bilingual, models.Model):
    """A loan product. Applications keep a snapshot of the terms they were filed under
    (LoanApplication.product_snapshot), so later edits never change them."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    min_amount = models.DecimalField(_("minimum amount"), max_digits=18, decimal_places=2)
    max_amount = models.DecimalField(_("maximum amount"), max_digits=18, decimal_places=2)
    min_term_months = models.PositiveIntegerField(_("minimum term (months)"))
    max_term_months = models.PositiveIntegerField(_("maximum term (months)"))
    min_rate = models.DecimalField(_("minimum annual rate (%)"), max_digits=6, decimal_places=3)
    max_rate = models.DecimalField(_("maximum annual rate (%)"), max_digits=6, decimal_places=3)
    repayment_methods = models.JSONField(_("allowed repayment methods"), default=list)
    guarantee_types = models.JSONField(_("allowed guarantee types"), default=list)
    fast_track_eligible = models.BooleanField(_("fast-track eligible"), default=False)
    data_fast_track = models.BooleanField(
        _("fast track on external data"),
        default=False,
        help_text=_(
            "An online application from the owner whose company passes the external sources "
            "(all four answered, no high flag) and the fast-track rule is decided by the "
            "system without a site visit. Needs the product to be fast-track eligible."
        ),
    )
    # How the repayment schedule is drawn (disbursement.schedule); the defaults are the
    # schedules made before these existed, with due dates moved off non-working days.
    business_day_convention = models.CharField(
        _("due dates on non-working days"),
        max_length=20,
        choices=BusinessDayConvention.choices,
        default=BusinessDayConvention.FOLLOWING,
        help_text=_(
            "By the business calendar of the branch; days past due count from the moved date."
        ),
    )
    day_count = models.CharField(
        _("interest day count"),
        max_length=12,
        choices=DayCount.choices,
        default=DayCount.THIRTY_360,
        help_text=_(
            "A broken period (a first period shorter or longer than a month) always counts "
            "actual days, over 365 with actual/365 and over 360 otherwise. Equal instalments "
            "count every other month as a twelfth of a year, whatever is chosen here."
        ),
    )
    repayment_day = models.PositiveSmallIntegerField(
        _("repayment day of the month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_(
            "1 to 28: instalments fall on this day of each month after the value date's month "
            "(quarterly interest: of March, June, September and December), and the first "
            "period is broken. Empty: on the value date's day of the month."
        ),
    )
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    def save(self, *args, **kwargs):
        # Any change of the terms is a new version; filed applications keep their snapshot.
        if self.pk:
            previous = type(self).objects.filter(pk=self.pk).first()
            if previous is not None:
                self.version = previous.version
                if previous.terms() != self.terms():
                    self.version = previous.version + 1
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        """The name in the active language (the Chinese name when there is one)."""
        return self.localized("name")

    @property
    def display_description(self) -> str:
        return self.localized("description")

    def terms(self) -> dict:
        data = self.snapshot()
        data.pop("version")
        for key in ("min_amount", "max_amount", "min_rate", "max_rate"):
            data[key] = str(Decimal(str(data[key])).normalize())
        data["active_from"] = str(self.active_from or "")
        data["active_until"] = str(self.active_until or "")
        data["description"] = self.description
        data["description_zh"] = self.description_zh
        return data

    def is_open_on(self, day) -> bool:
        return (
            self.is_active
            and (self.active_from is None or self.active_from <= day)
            and (self.active_until is None or day <= self.active_until)
        )

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "name_zh": self.name_zh,
            "version": self.version,
            "currency": self.currency,
            "min_amount": str(self.min_amount),
            "max_amount": str(self.max_amount),
            "min_term_months": self.min_term_months,
            "max_term_months": self.max_term_months,
            "min_rate": str(self.min_rate),
            "max_rate": str(self.max_rate),
            "repayment_methods": list(self.repayment_methods),
            "guarantee_types": list(self.guarantee_types),
            "fast_track_eligible": self.fast_track_eligible,
            "business_day_convention": self.business_day_convention,
            "day_count": self.day_count,
            "repayment_day": self.repayment_day,
        }


class ChangeKind(models.TextChoices):
    """A change to a disbursed loan, filed as an application of its own (docs/changes.md)."""

    RENEWAL = "renewal", _("Renewal (续贷)")
    RENEWAL_WITHOUT_REPAYMENT = (
        "renewal_without_repayment",
        _("Renewal without first repaying the principal (无还本续贷)"),
    )
    EXTENSION = "extension", _("Extension (展期)")
    RESTRUCTURING = "restructuring", _("Restructuring (重组)")
    TOP_UP = "top_up", _("Top-up (增贷)")


# Changes that alter the loan itself (a new schedule on a supplementary agreement); the others
# are a new loan, linked to the one they change, through offer, contract and payout.
IN_PLACE_CHANGES = (ChangeKind.EXTENSION, ChangeKind.RESTRUCTURING)
RENEWALS = (ChangeKind.RENEWAL, ChangeKind.RENEWAL_WITHOUT_REPAYMENT)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    INVESTIGATION = "investigation", _("Under investigation")
    IN_APPROVAL = "in_approval", _("In approval")
    INFO_REQUESTED = "info_requested", _("Waiting for the applicant")
    APPROVED = "approved", _("Approved")
    CONTRACT_SIGNED = "contract_signed", _("Contract signed")
    DISBURSED = "disbursed", _("Disbursed")
    CLOSED = "closed", _("Closed")
    WRITTEN_OFF = "written_off", _("Written off")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CHANGE_APPLIED = "change_applied", _("Change applied")


OPEN_STATUSES = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.INVESTIGATION,
    Status.IN_APPROVAL,
    Status.INFO_REQUESTED,
    Status.APPROVED,
    Status.CONTRACT_SIGNED,
)
FINAL_STATUSES = (
    Status.CLOSED,
    Status.WRITTEN_OFF,
    Status.DECLINED,
    Status.WITHDRAWN,
    Status.CHANGE_APPLIED,
)


class LoanApplicationQuerySet(models.QuerySet):
    # A facility application (a facility product's, not a drawdown's loan) is never paid
    # out: its approval opens a facility, its signed contract activates it, and it stays
    # contract_signed while the drawdowns are the loans (facilities).
    FACILITY_APPLICATION = Q(product__facility_terms__isnull=False, drawdown__isnull=True)
    NOT_FACILITY_APPLICATION = Q(product__facility_terms__isnull=True) | Q(drawdown__isnull=False)

    def facility_applications(self):
        return self.filter(self.FACILITY_APPLICATION)

    def without_facility_applications(self):
        """Loans (and drawdowns' loans) only: what a payout queue or the open loan work
        counts."""
        return self.filter(self.NOT_FACILITY_APPLICATION)


def role_permission(codename: str):
    """A django-fsm permission callable: the rule `applications.<codename>` tested with the
    application (the actor's roles and the object rules; never is_superuser)."""

    def check(instance, user) -> bool:
        return has_role_perm(user, f"applications.{codename}", instance)

    check.codename = codename
    return check


class LoanApplication(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    class Channel(models.TextChoices):
        BRANCH = "branch", _("Filed by a relationship manager")
        ONLINE = "online", _("Applied online")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    company = models.ForeignKey(
        "customers.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    branch = models.ForeignKey(
        "org.Branch",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="applications"
    )
    product_snapshot = models.JSONField(_("product terms when filed"), default=dict, editable=False)
    amount = models.DecimalField(
        _("amount"),
        max_digits=18,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    term_months = models.PositiveIntegerField(_("term (months)"))
    interest_rate = models.DecimalField(
        _("annual interest rate (%)"), max_digits=6, decimal_places=3
    )
    # What the applicant asked for, kept when the approval changed the terms (approvals:
    # "approve on other terms"); amount, term and rate above are then the approved ones.
    requested_amount = models.DecimalField(
        _("amount asked for"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    requested_term_months = models.PositiveIntegerField(
        _("term asked for (months)"), null=True, blank=True
    )
    requested_interest_rate = models.DecimalField(
        _("annual interest rate asked for (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
    )
    repayment_method = models.CharField(
        _("repayment method"), max_length=30, choices=RepaymentMethod.choices
    )
    guarantee_type = models.CharField(
        _("guarantee type"), max_length=20, choices=GuaranteeType.choices
    )
    purpose = models.TextField(_("purpose"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.BRANCH
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        default="zh-hans",
        help_text=_("Documents such as the credit memo follow it."),
    )

    # A change to a disbursed loan (renewal, extension, restructuring, top-up): the loan's
    # application it changes, and which change (postloan.changes; docs/changes.md).
    change_of = models.ForeignKey(
        "self",
        verbose_name=_("change of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )
    change_kind = models.CharField(
        _("change"), max_length=30, choices=ChangeKind.choices, blank=True
    )

    status = FSMField(_("status"), default=Status.DRAFT, choices=Status.choices, protected=True)
    # Where an application waiting on the applicant (info_requested) returns to.
    resume_status = models.CharField(max_length=20, blank=True, editable=False)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        on_delete=models.PROTECT,
        related_name="managed_applications",
    )
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investigator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # The investigation's summary, carried on the record for queues, routing and analytics.
    risk_grade = models.CharField(_("risk grade"), max_length=1, blank=True)
    risk_score = models.IntegerField(_("risk score"), null=True, blank=True)
    route_recommendation = models.CharField(
        _("route recommendation"), max_length=20, blank=True, choices=RouteRecommendation.choices
    )
    flag_count = models.PositiveIntegerField(_("open flags"), default=0)
    decline_reasons = models.JSONField(_("decline reasons"), default=list, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    disbursed_at = models.DateTimeField(_("disbursed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = LoanApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        ordering = ["-created_at"]
        indexes = [
            # The staff list, newest first: a branch's (and a head-office view of all).
            models.Index(fields=["branch", "-created_at", "-id"], name="app_branch_recent"),
            models.Index(fields=["-created_at", "-id"], name="app_recent"),
            models.Index(fields=["branch", "status", "-created_at"], name="app_branch_status"),
            models.Index(fields=["status", "-created_at"], name="app_status_created"),
            models.Index(fields=["relationship_manager", "status"], name="app_rm_status"),
            models.Index(fields=["company", "product", "status"], name="app_company_product"),
            # The analytics figures' cohort (analytics.selectors._applications): the
            # applications submitted in a period, with every column the funnel, the end-to-end
            # times, the external-data share and the relationship managers' results read, so
            # they read the period's index entries instead of the wide rows of the whole table
            # (the product's terms and the purpose make a row about 800 bytes).
            models.Index(
                fields=["submitted_at"],
                name="app_submitted_cohort",
                include=[
                    "id",
                    "status",
                    "decided_at",
                    "disbursed_at",
                    "branch",
                    "product",
                    "route_recommendation",
                    "channel",
                    "amount",
                    "relationship_manager",
                    "company",
                ],
                condition=Q(submitted_at__isnull=False),
            ),
            # What the analytics figures read of an application they join (a deadline's
            # relationship manager, the company an industry filter reads): a join through
            # this index reads no wide row. Stage visits keep their case's relationship
            # manager, and loans their rate, term and company, so the figures over a year of
            # them join nothing.
            models.Index(
                fields=["id"],
                name="app_case_by_id",
                include=["relationship_manager", "company"],
            ),
        ]
        permissions = [
            ("create_application", "Can file a loan application"),
            ("submit_application", "Can submit an application"),
            ("start_investigation", "Can start the pre-loan investigation"),
            ("send_to_approval", "Can send an investigated application to approval"),
            ("decide_application", "Can take approval decisions"),
            ("request_information", "Can request information from the applicant"),
            ("resume_application", "Can resume an application waiting on the applicant"),
            ("record_contract", "Can record or accept the signed contract"),
            ("disburse_application", "Can record and confirm disbursements"),
            ("close_application", "Can close a repaid loan"),
            ("write_off_application", "Can write off a loan"),
            ("withdraw_application", "Can withdraw an application"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if not self.reference:
            self.reference = f"LF{timezone.now():%y%m}{secrets.token_hex(4).upper()}"
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_facility_application(self) -> bool:
        """Whether this applies for a credit facility (LoanApplicationQuerySet): one query,
        kept for the request."""
        if not hasattr(self, "_is_facility_application"):
            self._is_facility_application = (
                type(self).objects.facility_applications().filter(pk=self.pk).exists()
            )
        return self._is_facility_application

    @property
    def is_change(self) -> bool:
        return bool(self.change_kind)

    @property
    def changes_in_place(self) -> bool:
        """An extension or a restructuring: no new loan, a new schedule on the loan."""
        return self.change_kind in IN_PLACE_CHANGES

    # --- Transitions ---------------------------------------------------------------------
    # Each is called only through applications.services.application_transition, which checks
    # scope, role, segregation of duties and gates, then saves and audits in one transaction.
    # The methods only change this record; they have no side effects.

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.SUBMITTED,
        permission=role_permission("submit_application"),
    )
    def submit(self, *, by, data):
        self.submitted_at = timezone.now()

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.INVESTIGATION,
        permission=role_permission("start_investigation"),
    )
    def start_investigation(self, *, by, data):
        # The system starts it for the relationship manager (the data-driven route), who
        # carries on should the case fall back to the normal route.
        self.investigator_id = by.pk if by is not None else data["investigator_id"]

    @transition(
        field=status,
        source=Status.INVESTIGATION,
        target=Status.IN_APPROVAL,
        permission=role_permission("send_to_approval"),
    )
    def send_to_approval(self, *, by, data):
        pass

    @transition(
        field=status,
        source=Status.IN_APPROVAL,
        target=Status.APPROVED,
        permission=role_permission("decide_application"),
    )
    def approve(self, *, by, data):
        """`data["terms"]`: the terms the approval changed (amount, term_months,
        interest_rate), which replace those asked for; those asked for are kept."""
        self.decided_at = timezone.now()
        terms = data.get("terms") or {}
        if terms:
            self.requested_amount = self.amount
            self.requested_term_months = self.term_months
            self.requested_interest_rate = self.interest_rate
        if "amount" in terms:
            self.amount = Decimal(str(terms["amount"]))
        if "term_months" in terms:
            self.term_months = int(terms["term_months"])
        if "interest_rate" in terms:
            self.interest_rate = Decimal(str(terms["interest_rate"]))

    def terms_changed(self) -> list[dict]:
        """The terms the approval changed: each with what was asked and what was approved."""
        pairs = [
            ("amount", _("amount"), self.requested_amount, self.amount),
            ("term_months", _("term (months)"), self.requested_term_months, self.term_months),
            (
                "interest_rate",
                _("annual interest rate (%)"),
                self.requested_interest_rate,
                self.interest_rate,
            ),
        ]
        return [
            {"field": field, "label": label, "asked": asked, "approved": approved}
            for field, label, asked, approved in pairs
            if asked is not None and asked != approved
        ]

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.APPROVED,
        permission=role_permission("decide_application"),
    )
    def approve_drawdown(self, *, by, data):
        """A drawdown under an active facility (facilities.services): a light application,
        approved by the facility's rules or a drawdown approver without an investigation."""
        self.submitted_at = self.submitted_at or timezone.now()
        self.decided_at = timezone.now()

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.IN_APPROVAL],
        target=Status.DECLINED,
        permission=role_permission("decide_application"),
    )
    def decline(self, *, by, data):
        self.decline_reasons = list(data.get("reasons") or [])
        self.decided_at = timezone.now()

    @transition(
        field=status,
        source=Status.IN_APPROVAL,
        target=Status.INVESTIGATION,
        permission=role_permission("decide_application"),
    )
    def return_to_investigation(self, *, by, data):
        pass

    @transition(
        field=status,
        source=[Status.SUBMITTED, Status.INVESTIGATION, Status.IN_APPROVAL],
        target=Status.INFO_REQUESTED,
        permission=role_permission("request_information"),
    )
    def request_information(self, *, by, data):
        self.resume_status = self.status

    @transition(
        field=status,
        source=Status.INFO_REQUESTED,
        target=RETURN_VALUE(Status.SUBMITTED, Status.INVESTIGATION, Status.IN_APPROVAL),
        permission=role_permission("resume_application"),
    )
    def resume(self, *, by, data):
        target, self.resume_status = self.resume_status, ""
        return target

    @transition(
        field=status,
        source=Status.APPROVED,
        target=Status.CONTRACT_SIGNED,
        permission=role_permission("record_contract"),
    )
    def sign_contract(self, *, by, data):
        pass

    @transition(
        field=status,
        source=Status.CONTRACT_SIGNED,
        target=Status.DISBURSED,
        permission=role_permission("disburse_application"),
    )
    def disburse(self, *, by, data):
        self.disbursed_at = timezone.now()

    @transition(
        field=status,
        source=Status.APPROVED,
        target=Status.CHANGE_APPLIED,
        permission=role_permission("record_contract"),
    )
    def apply_change(self, *, by, data):
        """An extension or restructuring approved and its supplementary agreement recorded:
        the loan it changes gets its new schedule (postloan.changes.change_apply)."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=Status.DISBURSED,
        target=Status.CLOSED,
        permission=role_permission("close_application"),
    )
    def close(self, *, by, data):
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=Status.DISBURSED,
        target=Status.WRITTEN_OFF,
        permission=role_permission("write_off_application"),
    )
    def write_off(self, *, by, data):
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[
            Status.DRAFT,
            Status.SUBMITTED,
            Status.INVESTIGATION,
            Status.IN_APPROVAL,
            Status.INFO_REQUESTED,
            Status.APPROVED,
        ],
        target=Status.WITHDRAWN,
        permission=role_permission("withdraw_application"),
    )
    def withdraw(self, *, by, data):
        self.closed_at = timezone.now()


def _transition_names(model, field_name: str) -> tuple[str, ...]:
    """The names of the transitions on `model`'s FSM field `field_name`, from django-fsm's
    metadata, in the order the class declares them (the process order)."""
    field = model._meta.get_field(field_name)
    names = {t.name for t in field.get_all_transitions(model)}
    declared = list(vars(model))
    return tuple(sorted(names, key=declared.index))


TRANSITION_NAMES = _transition_names(LoanApplication, "status")

# Transitions a stage app takes through its own service and endpoint; the generic transition
# endpoint refuses them and points there. The approval decisions are taken at a step of the
# approval route (approvals), a drawdown's by its facility's rules or a drawdown approver
# (facilities), the contract and the disbursement through the maker-checker (disbursement);
# closing follows the last repayment and a write-off needs a second risk officer's approval
# (postloan).
INTERNAL_TRANSITIONS = frozenset(
    {
        "approve",
        "approve_drawdown",
        "apply_change",
        "decline",
        "return_to_investigation",
        "sign_contract",
        "disburse",
        "close",
        "write_off",
    }
)
