"""External data API: the bank's under /api/v1/applications/<pk>/sources/ (staff who may see the
application read; its relationship manager or investigator acts), the owner's consent under
/api/v1/portal/applications/<pk>/consents/. Thin classes, one service call each."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from datasources import selectors, services
from datasources.models import Consent, DataRoute, Purpose, Source, SourceFact, SourceQuery
from investigation.selectors import investigation_application_get
from org.permissions import OwnersOnly
from portal.selectors import portal_application_get

TAG = "datasources"


class ConsentOutput(serializers.ModelSerializer):
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "scope",
            "status",
            "channel",
            "valid_until",
            "granted_at",
            "revoked_at",
            "revoke_reason",
            "in_force",
        ]

    def get_in_force(self, consent) -> bool:
        return consent.status == Consent.Status.GRANTED and consent.valid_until > timezone.now()


class QueryOutput(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default="")
    cached = serializers.SerializerMethodField()

    class Meta:
        model = SourceQuery
        fields = [
            "id",
            "source",
            "status",
            "purpose",
            "consent",
            "requested_by",
            "requested_at",
            "answered_at",
            "attempts",
            "error",
            "cached",
            "answer",
        ]

    def get_cached(self, query) -> bool:
        return query.reused_from_id is not None


class FactOutput(serializers.ModelSerializer):
    class Meta:
        model = SourceFact
        fields = ["id", "source", "key", "value", "observed_at", "query", "status", "reason"]


class DataRouteOutput(serializers.ModelSerializer):
    reasons_text = serializers.SerializerMethodField()

    class Meta:
        model = DataRoute
        fields = ["status", "reasons", "reasons_text", "consent", "created_at", "decided_at"]

    def get_reasons_text(self, route) -> str:
        return selectors.data_route_reasons_text(route.reasons)


class SourcesOutput(serializers.Serializer):
    consents = ConsentOutput(many=True)
    queries = QueryOutput(many=True)
    facts = FactOutput(many=True)
    data_route = DataRouteOutput(
        allow_null=True,
        help_text="The data-driven route: waiting for the sources, sent to approval by the "
        "system, fallen back to the normal route (with the reasons) or taken over by a person; "
        "null when the application never took it.",
    )


class SourcesApi(APIView):
    """The application's consents, the calls made (newest first, with the answers as
    received) and the facts read from them."""

    @extend_schema(tags=[TAG], responses=SourcesOutput)
    def get(self, request, pk: int):
        application = investigation_application_get(user=request.user, pk=pk)
        return Response(
            SourcesOutput(
                {
                    "consents": selectors.consents_of(application=application),
                    "queries": selectors.queries_of(application=application),
                    "facts": selectors.facts_of(application=application),
                    "data_route": selectors.data_route_of(application=application),
                }
            ).data
        )


class QueryRequestApi(APIView):
    """Ask sources about the applicant (202: pending, or arrived at once from a fresh answer);
    409 with the reasons when a consent in force does not cover every source asked."""

    class QueryInput(serializers.Serializer):
        sources = serializers.ListField(
            child=serializers.ChoiceField(choices=Source.choices), allow_empty=False
        )
        purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.PRE_LOAN)

    @extend_schema(tags=[TAG], request=QueryInput, responses={202: QueryOutput(many=True)})
    def post(self, request, pk: int):
        serializer = self.QueryInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        queries = services.source_query_request(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(QueryOutput(queries, many=True).data, status=status.HTTP_202_ACCEPTED)


class ConsentRecordApi(APIView):
    """Record the consent form the applicant signed (multipart, with its scan)."""

    parser_classes = [MultiPartParser, FormParser]

    class ConsentFormInput(serializers.Serializer):
        scope = serializers.ListField(
            child=serializers.ChoiceField(choices=Source.choices), allow_empty=False
        )
        valid_until = serializers.DateTimeField()
        file = serializers.FileField()

    @extend_schema(
        tags=[TAG],
        request={"multipart/form-data": ConsentFormInput},
        responses={201: ConsentOutput},
    )
    def post(self, request, pk: int):
        serializer = self.ConsentFormInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record_signed(
            actor=request.user, application_id=pk, **serializer.validated_data
        )
        return Response(ConsentOutput(consent).data, status=status.HTTP_201_CREATED)


class RevokeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ConsentRevokeApi(APIView):
    """Record that the applicant withdrew a consent."""

    @extend_schema(tags=[TAG], request=RevokeInput, responses=ConsentOutput)
    def post(self, request, pk: int, consent_id: int):
        serializer = RevokeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_revoke(
            actor=request.user,
            application_id=pk,
            consent_id=consent_id,
            **serializer.validated_data,
        )
        return Response(ConsentOutput(consent).data)


class FactConfirmApi(APIView):
    """The investigator confirms a fact from a source."""

    @extend_schema(tags=[TAG], request=None, responses=FactOutput)
    def post(self, request, pk: int, fact_id: int):
        fact = services.source_fact_confirm(actor=request.user, application_id=pk, fact_id=fact_id)
        return Response(FactOutput(fact).data)


class FactMismatchApi(APIView):
    """The investigator records that a fact from a source does not match, with the reason."""

    class MismatchInput(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(tags=[TAG], request=MismatchInput, responses=FactOutput)
    def post(self, request, pk: int, fact_id: int):
        serializer = self.MismatchInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        fact = services.source_fact_mismatch(
            actor=request.user,
            application_id=pk,
            fact_id=fact_id,
            reason=serializer.validated_data["reason"],
        )
        return Response(FactOutput(fact).data)


# --- The owner's consent ------------------------------------------------------------------------


class PortalConsentOutput(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["id", "scope", "status", "channel", "valid_until", "granted_at", "revoked_at"]


class PortalConsentsApi(APIView):
    """The owner's consents for this application (GET) and a new one (POST: which sources, for
    how many days)."""

    permission_classes = [OwnersOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class PortalConsentInput(serializers.Serializer):
        scope = serializers.ListField(
            child=serializers.ChoiceField(choices=Source.choices), allow_empty=False
        )
        days = serializers.IntegerField(min_value=1, max_value=366, required=False)

    @extend_schema(tags=["portal"], responses=PortalConsentOutput(many=True))
    def get(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        return Response(
            PortalConsentOutput(selectors.consents_of(application=application), many=True).data
        )

    @extend_schema(
        tags=["portal"], request=PortalConsentInput, responses={201: PortalConsentOutput}
    )
    def post(self, request, pk: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = self.PortalConsentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_grant_online(
            actor=request.user, application_id=application.pk, **serializer.validated_data
        )
        return Response(PortalConsentOutput(consent).data, status=status.HTTP_201_CREATED)


class PortalConsentRevokeApi(APIView):
    """The owner withdraws a consent."""

    permission_classes = [OwnersOnly]

    @extend_schema(tags=["portal"], request=RevokeInput, responses=PortalConsentOutput)
    def post(self, request, pk: int, consent_id: int):
        application = portal_application_get(user=request.user, pk=pk)
        serializer = RevokeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_revoke(
            actor=request.user,
            application_id=application.pk,
            consent_id=consent_id,
            **serializer.validated_data,
        )
        return Response(PortalConsentOutput(consent).data)
