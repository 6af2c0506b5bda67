"""Domain errors raised by services. The API maps each to one HTTP status (common.api)."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "invalid"
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, code: str | None = None, details=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    """400: the data itself is wrong. `details` maps field names to lists of messages."""

    status_code = 400
    code = "invalid"


class Forbidden(DomainError):
    """403: the actor may see the object but may not do this."""

    status_code = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class SegregationOfDuties(Forbidden):
    """403: the action would break segregation of duties (审贷分离). Logged in the audit trail."""

    code = "segregation_of_duties"


class NotFound(DomainError):
    """404: the object does not exist or is outside the actor's scope."""

    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    """409: not allowed in the current state, or lost to a concurrent change.

    `missing` lists what must be done first (incomplete checklist, investigation, ...).
    """

    status_code = 409
    code = "conflict"
    default_message = _("This action is not allowed in the current state.")

    def __init__(self, message=None, *, code: str | None = None, missing=None, details=None):
        super().__init__(message, code=code, details=details)
        self.missing = [str(item) for item in (missing or [])]


class LockedOut(DomainError):
    """Too many failed logins for this username from this address (django-axes)."""

    status_code = 429
    code = "locked_out"
    default_message = _(
        "Too many failed logins: this login is locked for a while. Try again later, or ask an "
        "administrator to unlock it."
    )
