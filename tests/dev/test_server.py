"""`make run`'s start-up ends with one clear block, printed once the web server answers: the URL and the demo
accounts with their roles and passwords."""

import socket

from dev.server import announce_when_listening, startup_banner

CREDENTIALS = (
    "  nurse          username nurse        password pw-nurse\n"
    "  administrator  username admin        password pw-admin\n"
)


def test_the_banner_names_the_url_and_every_demo_account_with_its_role_and_password():
    banner = startup_banner("http://127.0.0.1:8000/", CREDENTIALS)
    assert "WardFlow is running: open http://127.0.0.1:8000/" in banner
    assert "  nurse          username nurse        password pw-nurse\n" in banner
    assert "  administrator  username admin        password pw-admin\n" in banner
    assert banner.strip().startswith("=" * 72) and banner.strip().endswith("=" * 72)


def test_the_banner_says_so_when_there_are_no_demo_accounts():
    assert "no demo accounts" in startup_banner("http://127.0.0.1:8000/", "")


def test_the_banner_is_printed_once_the_web_port_answers(capsys):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        announce_when_listening(server.getsockname()[1], "BANNER", timeout_seconds=5)
    assert capsys.readouterr().out == "BANNER\n"


def test_nothing_is_printed_when_the_web_server_never_answers(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening
        announce_when_listening(port, "BANNER", timeout_seconds=1)
    assert capsys.readouterr().out == ""
