"""The API's login: a token for a username and password."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from org.auth import AuthTokenThrottle
from org.services import auth_token_obtain


class AuthTokenApi(APIView):
    """POST a username and password, get the user's token; approvers, committee members,
    disbursement checkers, risk officers and administrators add `otp`, the code of their
    authenticator app (400 `otp_required` without it, 403 `second_factor_enrolment_required`
    before they have set one up on the web site). Throttled per client address
    (LOANFLOW_TOKEN_RATE: 429 beyond it) and locked out like the login pages (429 while
    locked)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthTokenThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        # Required for the roles that sign in with a second factor (org.roles).
        otp = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="auth_token")
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The DRF request, not the Django one: django-axes marks a lock-out on the object it
        # is given, and the service answers it as an API error (the middleware would
        # otherwise replace the response with the HTML lock-out page).
        token = auth_token_obtain(request=request, **serializer.validated_data)
        return Response(self.OutputSerializer({"token": token.key}).data)
