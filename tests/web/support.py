"""Shared by the web page tests: a browser-like client logged in as a member of staff."""

from django.test import Client

PASSWORD = "correct horse battery staple"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client
