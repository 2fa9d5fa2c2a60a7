"""Roles as groups with permissions: the API checks the role, the admin and the pages can check the permission."""

from wardflow.errors import RoleNotAllowed

ROLE_PERMISSIONS = {
    "nurse": [("patients", "patient", ["view", "add", "change"])],
    "neurologist": [
        ("patients", "patient", ["view", "add", "change"]),
        ("audit", "auditevent", ["view"]),
    ],
    "administrator": [
        ("staff", "ward", ["view", "add", "change"]),
        ("staff", "user", ["view"]),
        ("audit", "auditevent", ["view"]),
    ],
}


def grant_roles(apps) -> None:
    """Create the role groups and give them their permissions; safe to run again (migrations, database flushes)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for app_label, model, actions in grants:
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(
                *permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )


def role_refusal(actor, *roles: str, rule: str, doing: str) -> RoleNotAllowed | None:
    """Why `actor` may not do this for their role, or None: the pages ask it whether to offer an act."""
    if getattr(actor, "role", None) not in roles:
        return RoleNotAllowed(f"{rule}: only a {' or '.join(roles)} may {doing}.", rule=rule)
    return None


def require_role(actor, *roles: str, rule: str, doing: str) -> None:
    """Services check who may act themselves, so no path around the API's role checks exists."""
    if refusal := role_refusal(actor, *roles, rule=rule, doing=doing):
        raise refusal
