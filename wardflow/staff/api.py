from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from wardflow.api.views import WardflowAPIView

from . import services
from .models import Role, Ward


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token. Bad credentials answer 401."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None or user.role is None:
            return Response({"detail": "Unknown username or wrong password."}, status=status.HTTP_401_UNAUTHORIZED)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class WardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ward
        fields = ["id", "code", "name"]


class WardListCreateView(mixins.ListModelMixin, WardflowAPIView):
    allowed_roles = {"GET": {Role.ADMINISTRATOR}, "POST": {Role.ADMINISTRATOR}}
    serializer_class = WardSerializer
    queryset = Ward.objects.order_by("code")

    def get(self, request):
        return self.list(request)

    def post(self, request):
        serializer = WardSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ward = services.create_ward(actor=request.user, **serializer.validated_data)
        return Response(WardSerializer(ward).data, status=status.HTTP_201_CREATED)
