from rest_framework.permissions import BasePermission


class RoleAllowed(BasePermission):
    """Every API view declares `allowed_roles`: HTTP method -> the roles that may call it (api.md roles)."""

    message = "Your role may not do this."

    def has_permission(self, request, view):
        allowed = view.allowed_roles.get(request.method, frozenset())
        if request.method in ("HEAD", "OPTIONS"):
            allowed = view.allowed_roles.get("GET", frozenset())
        return bool(request.user and request.user.is_authenticated and request.user.role in allowed)
