"""Roles as groups with permissions: the API checks the role, the admin and UI can check the permission."""

from django.db import migrations

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


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in grants:
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("patients", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
