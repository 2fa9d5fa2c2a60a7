"""`make run`: migrate, seed the demo ward on first run, then web, Celery worker and Celery beat in the foreground.

Expects DATABASE_URL and REDIS_URL (dev.services provides them). Ctrl-C stops all three cleanly.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from honcho.manager import Manager

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"
CREDENTIALS_FILE = VAR_DIR / "demo-credentials.txt"
RULE = "=" * 72


def startup_banner(url: str, credentials: str) -> str:
    """The block `make run` ends its start-up with, once the web server answers: where to go and who to log in as
    (the demo accounts with their roles and passwords, as seeded into var/demo-credentials.txt)."""
    accounts = credentials.rstrip() or "  (no demo accounts: this database was not seeded by make run)"
    return (
        f"\n{RULE}\n"
        f"  WardFlow is running: open {url}\n\n"
        "  Demo accounts (ward DEMO; role, user name, password):\n"
        f"{accounts}\n\n"
        "  nurse2 reads back what nurse programs (T12); admin sees the audit trail.\n"
        "  The demo patients and how to reset the demo: README.md, section Demo ward.\n"
        "  Ctrl-C stops web, worker and beat.\n"
        f"{RULE}\n"
    )


def announce_when_listening(port: int, text: str, timeout_seconds: float = 120) -> None:
    """Print `text` once something accepts connections on the port (the web server is up), after its own start-up
    lines rather than before them."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        return
    time.sleep(1)  # let the worker and beat print their own start-up lines first
    print(text, flush=True)


def main() -> int:
    python = sys.executable
    port = os.environ.get("RUN_PORT", "8000")
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], check=True, cwd=ROOT)  # noqa: S603
    if not (VAR_DIR / "audit-checkpoint-key.pem").exists():  # D3: the demo's own signing key, under var/
        subprocess.run([*manage, "create_checkpoint_key"], check=True, cwd=ROOT)  # noqa: S603
    subprocess.run(  # noqa: S603
        [python, "-m", "dev.seed", "--credentials-file", str(CREDENTIALS_FILE)],
        check=True,
        cwd=ROOT,
    )
    manager = Manager()
    env = dict(os.environ)
    manager.add_process("web", f"{python} manage.py runserver 127.0.0.1:{port} --noreload", env=env, cwd=ROOT)
    manager.add_process(
        "worker", f"{python} -m celery -A config worker --loglevel=info --concurrency=2", env=env, cwd=ROOT
    )
    manager.add_process(
        "beat",
        f"{python} -m celery -A config beat --loglevel=info --schedule={VAR_DIR / 'celerybeat-schedule'}",
        env=env,
        cwd=ROOT,
    )
    print(f"WardFlow is starting at http://127.0.0.1:{port}/ (Ctrl-C stops everything)", flush=True)
    credentials = CREDENTIALS_FILE.read_text() if CREDENTIALS_FILE.exists() else ""
    banner = startup_banner(f"http://127.0.0.1:{port}/", credentials)
    threading.Thread(target=announce_when_listening, args=(int(port), banner), daemon=True).start()
    manager.loop()
    return manager.returncode


if __name__ == "__main__":
    sys.exit(main())
