"""An SME owner signs up on the portal: a code proves they hold the mobile number or e-mail
address, which becomes their login; the password meets the staff's rules. Binding the
companies they act for is customers.services'."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.services import audit_account
from common.errors import Conflict, InvalidInput
from customers.models import ApplicantProfile
from org.roles import Role
from portal.models import OneTimeCode
from portal.verification import SIGN_UP, Outcome, code_refusal, code_use


def _address_taken(address: str) -> bool:
    User = get_user_model()
    return User.objects.filter(Q(username__iexact=address) | Q(email__iexact=address)).exists()


def owner_sign_up(*, channel: str, address: str, code: str, password: str, language: str):
    """The new owner's account for a verified address (already parsed by
    portal.verification.address_parse), with the applicant role and no company yet.
    InvalidInput on `password` (the staff's rules, AUTH_PASSWORD_VALIDATORS) or on `code`;
    Conflict if the address has an account already."""
    User = get_user_model()
    email = address if channel == OneTimeCode.Channel.EMAIL else ""
    try:
        validate_password(password, user=User(username=address, email=email))
    except ValidationError as exc:
        raise InvalidInput(
            exc.messages[0], code="weak_password", details={"password1": exc.messages}
        ) from None
    # A wrong code is counted (its own row) even though no account is made: the transaction
    # commits either way, and the refusal is raised after it.
    with transaction.atomic():
        outcome = code_use(purpose=SIGN_UP, address=address, code=code)
        taken = outcome == Outcome.OK and _address_taken(address)
        if outcome == Outcome.OK and not taken:
            user = _create_owner(
                address=address,
                email=email,
                channel=channel,
                password=password,
                language=language,
            )
    if outcome != Outcome.OK:
        raise code_refusal(outcome)
    if taken:
        raise Conflict(
            _("You already have an account with this address: log in instead."),
            code="account_exists",
        )
    return user


def _create_owner(*, address, email, channel, password, language):
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=address, email=email, password=password)
    except IntegrityError:
        raise Conflict(
            _("You already have an account with this address: log in instead."),
            code="account_exists",
        ) from None
    user.groups.add(Group.objects.get(name=Role.APPLICANT))
    ApplicantProfile.objects.create(
        user=user,
        phone=address if channel == OneTimeCode.Channel.SMS else "",
        preferred_language=language,
    )
    audit_account(action="owner_sign_up", account=user, actor=user, data={"channel": channel})
    return user
