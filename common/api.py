"""API plumbing shared by every app: the exception handler that turns domain errors into
400/403/404/409 answers (never a 500) and an unavailable database or Redis into 503, and small
helpers for thin API classes."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import Conflict, DomainError
from common.unavailable import is_outage, unavailable_body

logger = logging.getLogger(__name__)


@extend_schema_field(OpenApiTypes.STR)
class ChoiceLabelField(serializers.Field):
    """The translated label of a choices value, read-only. Unlike Model.get_FOO_display(),
    which hashes every lazy label (a gettext each) on every row, it looks up one label."""

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices)
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(self.labels.get(value, value))


def _domain_response(exc: DomainError) -> Response:
    body = {"detail": str(exc.message), "code": exc.code}
    if isinstance(exc, Conflict) and exc.missing:
        body["missing"] = exc.missing
    if exc.details:
        body.update({key: value for key, value in exc.details.items() if key not in body})
    return Response(body, status=exc.status_code)


def exception_handler(exc, context):
    if is_outage(exc):
        logger.warning("API answered 503, a dependency is unavailable: %s", exc)
        return Response(unavailable_body(), status=503, headers={"Retry-After": "30"})
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, TransitionNotAllowed):
        return Response(
            {
                "detail": _("This action is not allowed in the current state."),
                "code": "transition_not_allowed",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, ConcurrentTransition):
        return Response(
            {
                "detail": _("The application was changed by someone else; reload and retry."),
                "code": "concurrent_change",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            body = exc.message_dict
        else:
            body = {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        logger.warning("Integrity error answered 409: %s", exc)
        return Response(
            {"detail": _("This conflicts with existing data."), "code": "integrity"},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        return Response({"detail": _("Not found."), "code": "not_found"}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(
            {"detail": _("You are not allowed to do this."), "code": "forbidden"}, status=403
        )
    return drf_exception_handler(exc, context)
