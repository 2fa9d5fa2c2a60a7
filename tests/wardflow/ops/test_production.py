"""The production path: static files collected under DEBUG=0, gunicorn with the production settings behind a TLS
proxy, and every page of each role answering 200 with every asset it references."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from dev.demo import seed_demo
from screening.models import ScreeningTrial, TestDose
from titration.models import Pump
from wardflow.patients.models import Patient

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_KEY = "p" * 30 + "-Zq8v!w3Lr0xT7yN2mB5kC9dF1gH4jS6"
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')

pytestmark = pytest.mark.slow


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{quote(db['HOST'] or '127.0.0.1', safe='')}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client of the server as the TLS proxy forwards it: https in X-Forwarded-Proto, cookies kept by hand
    (they are Secure, so an ordinary client would not send them back over the loopback's plain HTTP)."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{self.base.split('//')[1]}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 - loopback
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({key: morsel.value for key, morsel in cookie.items()})
        return response.status, response.read().decode("utf-8", "replace")

    def login(self, username: str, password: str) -> None:
        _, page = self.request("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _ = self.request("/accounts/login/", {"username": username, "password": password,
                                                      "csrfmiddlewaretoken": token})  # fmt: skip
        assert status == 302, f"{username} could not log in"


@pytest.fixture
def production_server(allow_audit_flush, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(SECRET_KEY=PRODUCTION_KEY, DEBUG="0", ALLOWED_HOSTS="127.0.0.1", BEHIND_TLS_PROXY="1",
               STATIC_ROOT=str(tmp_path / "static"), DATABASE_URL=_database_url(), LOG_LEVEL="WARNING")  # fmt: skip
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if Browser(base).request("/accounts/login/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not serve the login page: " + server.stderr.read1().decode())
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        connection.close()


def _pages(patients: list[Patient]) -> dict[str, list[str]]:
    first, observing, implanted = patients
    trial = ScreeningTrial.objects.get(patient=first)
    dose = TestDose.objects.get(trial__patient=observing)
    pump = Pump.objects.get(patient=implanted)
    clinical = ["/ward/", "/patients/new/", "/alerts/", "/programming/", f"/patients/{first.pk}/observe/",
                f"/pumps/{pump.pk}/refill/", f"/pumps/{pump.pk}/propose/"]  # fmt: skip
    clinical += [f"/patients/{p.pk}/" for p in patients]
    return {
        "nurse": [*clinical, f"/trials/{trial.pk}/dose/"],
        "neurologist": [*clinical, f"/doses/{dose.pk}/assess/", "/approvals/", "/audit/"],
        "admin": ["/audit/", "/audit/chain/", "/api/docs/"],
    }


def test_every_page_of_each_role_and_its_assets_answer_200_in_production(production_server, tmp_path):
    credentials = seed_demo(tmp_path / "credentials.txt")
    passwords = dict(re.findall(r"username (\S+)\s+password (\S+)", credentials))
    patients = list(Patient.objects.order_by("mrn"))
    failures = []
    for username, pages in _pages(patients).items():
        browser = Browser(production_server)
        browser.login(username, passwords[username])
        assets = set()
        for page in pages:
            status, body = browser.request(page)
            if status != 200:
                failures.append(f"{username} {page}: {status}")
            assets |= set(ASSET.findall(body))
        assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
        failures += [f"{username} asset {a}: {s}" for a in sorted(assets) if (s := browser.request(a)[0]) != 200]
    assert failures == []
