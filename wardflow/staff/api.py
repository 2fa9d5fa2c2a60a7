from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from wardflow.api.serializers import ModelSerializer, Serializer
from wardflow.api.views import WardflowAPIView

from . import services
from .auth import ExpiringTokenAuthentication
from .lockout import lockout_response
from .models import Role, Ward

TokenResponse = inline_serializer("TokenResponse", {"token": serializers.CharField()})


class TokenRequestSerializer(Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token that expires (API_TOKEN_TTL_HOURS). Bad credentials
    answer 401; a user name locked out after too many wrong passwords answers 429, even with the right one."""

    authentication_classes = []
    permission_classes = [AllowAny]
    refusal_statuses = frozenset({429})

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenResponse})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        # axes marks the request it was given (DRF's), which its middleware does not see: answer the lockout here.
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, None)
        if user is None or user.role is None:
            return Response({"detail": "Unknown username or wrong password."}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"token": services.issue_token(user)})


class _TokenView(APIView):
    """Acts on the API token the request came with (a session login has none to act on)."""

    authentication_classes = [ExpiringTokenAuthentication]
    permission_classes = [IsAuthenticated]


class RotateTokenView(_TokenView):
    """A new token with a fresh lifetime for the one in use, which stops working at once."""

    @extend_schema(request=None, responses={200: TokenResponse})
    def post(self, request):
        return Response({"token": services.rotate_token(request.auth)})


class LogoutView(_TokenView):
    """Revoke the token in use."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.revoke_token(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WardSerializer(ModelSerializer):
    class Meta:
        model = Ward
        fields = ["id", "code", "name"]


class WardListCreateView(mixins.ListModelMixin, WardflowAPIView):
    allowed_roles = {"GET": {Role.ADMINISTRATOR}, "POST": {Role.ADMINISTRATOR}}
    serializer_class = WardSerializer
    queryset = Ward.objects.order_by("code")

    def get(self, request):
        return self.list(request)

    @extend_schema(responses={201: WardSerializer})
    def post(self, request):
        serializer = WardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ward = services.create_ward(actor=request.user, **serializer.validated_data)
        return Response(WardSerializer(ward).data, status=status.HTTP_201_CREATED)
