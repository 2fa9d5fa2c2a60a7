from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins of a locked-out user name (axes). Every login over HTTP (web, admin, API token) passes its
    request; a call without one (the test client's `login`, management commands) has no remote client to throttle."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
