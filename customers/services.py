"""Who acts for a company on the portal (CompanyBinding): an owner claims a company with its
unified social credit code and the legal representative's name and resident ID number;
branch staff confirm the claims that wait and revoke bindings; an owner with several
companies chooses the one they act for. Each is audited on the company's chain.

The owner's current company (ApplicantProfile.company) is always one of their active
bindings or none: every service here that changes a binding keeps it so, and the portal's
scope (applications.selectors.applicant_company_id) reads nothing else."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import ric, uscc

from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers.models import ApplicantProfile, Company, CompanyBinding
from customers.ric import validate_resident_id
from customers.uscc import validate_uscc
from notifications.models import Kind as NotificationKind
from notifications.services import Formatted, Message, notify, notify_many
from org.models import Branch
from org.permissions import has_role_perm
from org.roles import Role, primary_role
from org.selectors import branch_scope_q, is_sme_owner, is_staff_member

Status = CompanyBinding.Status
Waits = CompanyBinding.Waits


def _audit(*, action: str, binding: CompanyBinding, actor, data: dict | None = None) -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor),
        kind=AuditEvent.Kind.ACTION,
        subject_type="customers.company",
        subject_id=binding.company_id,
        to_state=binding.status,
        comment=binding.reason,
        data={"binding": binding.pk, "owner": binding.user_id, **(data or {})},
    )


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def _claim_errors(*, credit_code, company_name, name, resident_id) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, value, validate in (
        ("credit_code", credit_code, validate_uscc),
        ("legal_representative_id", resident_id, validate_resident_id),
    ):
        try:
            validate(value)
        except ValidationError as exc:
            errors[field] = exc.messages
    for field, value in (("company_name", company_name), ("legal_representative", name)):
        if not (value or "").strip():
            errors[field] = [_("This field is required.")]
    return errors


def company_binding_claim(
    *,
    owner,
    credit_code: str,
    company_name: str,
    legal_representative: str,
    legal_representative_id: str,
    registration_date: date,
    home_branch: Branch,
) -> CompanyBinding:
    """The owner claims to act for the company with this credit code (made from the details
    given if the bank does not know it yet: the company name, its registration date and the
    branch the owner chose). Active at once if nobody else acts for the company and the
    legal representative's name and ID number are the bank's (or the company is new);
    otherwise it waits for the branch's confirmation. InvalidInput with field messages for a
    code or number that is not valid; Conflict if the owner already holds or awaits it."""
    if not is_sme_owner(owner) or getattr(owner, "applicant_profile", None) is None:
        raise Forbidden(_("Only a customer's portal login can bind a company."))
    errors = _claim_errors(
        credit_code=credit_code,
        company_name=company_name,
        name=legal_representative,
        resident_id=legal_representative_id,
    )
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], details=errors)
    code = uscc.compact(credit_code).upper()
    resident_id = ric.compact(legal_representative_id).upper()
    name = legal_representative.strip()
    with transaction.atomic():
        company, created = _company_for_claim(
            code=code,
            name=company_name.strip(),
            representative=name,
            representative_id=resident_id,
            registration_date=registration_date,
            home_branch=home_branch,
        )
        live = CompanyBinding.objects.filter(company=company).exclude(status=Status.REVOKED)
        mine = live.filter(user=owner).first()
        if mine is not None:
            raise Conflict(
                _("You already act for this company.")
                if mine.status == Status.ACTIVE
                else _("Your claim for this company is already waiting for the bank."),
                code="already_bound" if mine.status == Status.ACTIVE else "already_claimed",
            )
        matched = None
        if not created:
            matched = bool(
                company.legal_representative_id
                and company.legal_representative_id.upper() == resident_id
                and _same_name(company.legal_representative, name)
            )
        if live.filter(status=Status.ACTIVE).exists():
            waits = Waits.ANOTHER_OWNER
        elif CompanyBinding.objects.filter(company=company, user=owner).exists():
            waits = Waits.REVOKED_BEFORE
        elif matched is False:
            waits = Waits.DETAILS_DIFFER
        else:
            waits = ""
        binding = CompanyBinding.objects.create(
            user=owner,
            company=company,
            status=Status.PENDING if waits else Status.ACTIVE,
            pending_reason=waits,
            representative_name=name,
            representative_id=resident_id,
            details_matched=matched,
            decided_at=None if waits else timezone.now(),
        )
        if binding.status == Status.ACTIVE:
            _act_for_if_none(owner_id=owner.pk, company_id=company.pk)
        else:
            _tell_the_branch(binding)
            if waits == Waits.ANOTHER_OWNER:
                _tell_the_owners_of_a_claim(binding)
        _audit(
            action="company_binding_claim",
            binding=binding,
            actor=owner,
            data={"company_created": created, "details_matched": matched, "waits": waits},
        )
    return binding


def _company_for_claim(
    *, code, name, representative, representative_id, registration_date, home_branch
) -> tuple[Company, bool]:
    """The company with this credit code, locked; made from the claim's details if new."""
    company = Company.objects.select_for_update().filter(credit_code=code).first()
    if company is not None:
        return company, False
    if home_branch is None or registration_date is None:
        raise InvalidInput(
            details={
                field: [_("This field is required.")]
                for field, value in (
                    ("home_branch", home_branch),
                    ("registration_date", registration_date),
                )
                if value is None
            }
        )
    try:
        with transaction.atomic():
            company = Company.objects.create(
                name=name,
                credit_code=code,
                industry_code="",
                registration_date=registration_date,
                legal_representative=representative,
                legal_representative_id=representative_id,
                home_branch=home_branch,
            )
        return company, True
    except IntegrityError:
        # Another claim made it a moment ago.
        return Company.objects.select_for_update().get(credit_code=code), False


def _tell_the_branch(binding: CompanyBinding) -> None:
    """The relationship managers and the head of the company's branch hear of a claim that
    waits for them (in-app, and by e-mail after the commit)."""
    company = binding.company
    staff = get_user_model().objects.filter(
        is_active=True,
        staff_profile__branch_id=company.home_branch_id,
        groups__name__in=[Role.RELATIONSHIP_MANAGER, Role.BRANCH_HEAD],
    )

    def body() -> str:
        return _("%(login)s claims to act for %(company)s: %(why)s.") % {
            "login": binding.user.username,
            "company": company.name,
            "why": binding.get_pending_reason_display(),
        }

    notify_many(
        Message(
            user=user,
            kind=NotificationKind.ASSIGNMENT,
            title=gettext_lazy("A company claim waits for your confirmation"),
            body=lazy(body, str)(),
            url=f"{reverse('company-bindings')}?status=pending",
        )
        for user in staff.distinct()
    )


def _tell_the_owners_of_a_claim(binding: CompanyBinding) -> None:
    """Those who act for the company hear that someone else claims it (in-app, and by e-mail
    after the commit, each in their language), so that a claim they do not know of reaches
    the bank before it is confirmed. The claimant is not named: the claim is not confirmed,
    and their login is their mobile number or e-mail address. A system notice, which cannot
    be muted (like the bank's letter about who may act for an account)."""
    company = binding.company
    owners = get_user_model().objects.filter(
        is_active=True,
        company_bindings__company=company,
        company_bindings__status=Status.ACTIVE,
    )
    notify_many(
        Message(
            user=user,
            kind=NotificationKind.SYSTEM,
            title=Formatted(
                gettext_lazy("Someone else claims to act for %(company)s"), company=company.name
            ),
            body=Formatted(
                gettext_lazy(
                    "A new portal login has asked to act for %(company)s. The bank checks the "
                    "claim with the company before it takes effect. If you do not know who "
                    "this is, call your relationship manager."
                ),
                company=company.name,
            ),
            url=reverse("portal-companies"),
        )
        for user in owners.distinct()
    )


def _tell_the_owner(binding: CompanyBinding) -> None:
    company = binding.company

    def title() -> str:
        text = (
            _("You may now act for %(company)s.")
            if binding.status == Status.ACTIVE
            else _("You no longer act for %(company)s.")
        )
        return text % {"company": company.name}

    notify(
        user=binding.user,
        kind=NotificationKind.DECISION,
        title=lazy(title, str)(),
        url=reverse("portal-companies"),
    )


def _act_for_if_none(*, owner_id: int, company_id: int) -> None:
    ApplicantProfile.objects.filter(user_id=owner_id, company=None).update(company_id=company_id)


def _binding_for_staff(*, user, binding_id: int, permission: str) -> CompanyBinding:
    if not is_staff_member(user) or not has_role_perm(user, permission):
        raise Forbidden()
    binding = (
        CompanyBinding.objects.select_for_update(of=("self",))
        .select_related("company", "user")
        .filter(branch_scope_q(user, field="company__home_branch"), pk=binding_id)
        .first()
    )
    if binding is None:
        raise NotFound()
    return binding


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why: the reason is kept in the audit trail.")
        raise InvalidInput(message, code="reason_required", details={"reason": [message]})
    return reason


@transaction.atomic
def company_binding_confirm(*, binding_id: int, by, reason: str) -> CompanyBinding:
    """Branch staff confirm a claim that waits: the owner may act for the company now."""
    reason = _reason_required(reason)
    binding = _binding_for_staff(
        user=by, binding_id=binding_id, permission="customers.confirm_companybinding"
    )
    if binding.status != Status.PENDING:
        raise Conflict(_("Only a claim that waits can be confirmed."), code="not_pending")
    binding.status = Status.ACTIVE
    binding.decided_at = timezone.now()
    binding.decided_by = by
    binding.reason = reason
    binding.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    _act_for_if_none(owner_id=binding.user_id, company_id=binding.company_id)
    _audit(action="company_binding_confirm", binding=binding, actor=by)
    _tell_the_owner(binding)
    return binding


@transaction.atomic
def company_binding_revoke(*, binding_id: int, by, reason: str) -> CompanyBinding:
    """Branch staff revoke a binding (or turn down a claim that waits): from the next
    request the owner sees nothing of the company. An owner who was acting for it acts for
    another of their companies, if they have one."""
    reason = _reason_required(reason)
    binding = _binding_for_staff(
        user=by, binding_id=binding_id, permission="customers.revoke_companybinding"
    )
    if binding.status == Status.REVOKED:
        raise Conflict(_("This binding is already revoked."), code="already_revoked")
    binding.status = Status.REVOKED
    binding.decided_at = timezone.now()
    binding.decided_by = by
    binding.reason = reason
    binding.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    profile = ApplicantProfile.objects.select_for_update().filter(user_id=binding.user_id).first()
    if profile is not None and profile.company_id == binding.company_id:
        other = (
            CompanyBinding.objects.filter(user_id=binding.user_id, status=Status.ACTIVE)
            .order_by("created_at", "id")
            .values_list("company_id", flat=True)
            .first()
        )
        profile.company_id = other
        profile.save(update_fields=["company"])
    _audit(action="company_binding_revoke", binding=binding, actor=by)
    _tell_the_owner(binding)
    return binding


@transaction.atomic
def owner_company_choose(*, owner, company_id) -> Company:
    """The owner acts for another of their companies (the portal's company switcher); a
    company they are not actively bound to is NotFound."""
    binding = (
        CompanyBinding.objects.select_related("company")
        .filter(user=owner, company_id=company_id, status=Status.ACTIVE)
        .first()
        if str(company_id).isdigit()
        else None
    )
    if binding is None:
        raise NotFound()
    ApplicantProfile.objects.filter(user=owner).update(company_id=binding.company_id)
    _audit(action="company_act_for", binding=binding, actor=owner)
    return binding.company
