"""The Django admin shows the role groups but never changes them: a role renamed or re-permissioned there would
change who may do what outside the audit trail."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from wardflow.staff.models import User

pytestmark = pytest.mark.django_db


def test_a_superuser_cannot_rename_a_role_group_in_the_admin(ward):
    User.objects.create_superuser(username="root", password="a-long-admin-passphrase")
    client = Client()
    assert client.login(username="root", password="a-long-admin-passphrase")
    group = Group.objects.get(name="nurse")
    assert client.get("/admin/auth/group/").status_code == 200
    response = client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "everyone", "permissions": []})
    assert response.status_code == 403
    assert Group.objects.filter(name="nurse").exists() and not Group.objects.filter(name="everyone").exists()
