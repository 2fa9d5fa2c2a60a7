"""`make run`: migrate, seed the demo ward on first run, then web, Celery worker and Celery beat in the foreground.

Expects DATABASE_URL and REDIS_URL (dev.services provides them). Ctrl-C stops all three cleanly.
"""

import os
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"


def main() -> int:
    python = sys.executable
    port = os.environ.get("RUN_PORT", "8000")
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], check=True, cwd=ROOT)  # noqa: S603
    if not (VAR_DIR / "audit-checkpoint-key.pem").exists():  # D3: the demo's own signing key, under var/
        subprocess.run([*manage, "create_checkpoint_key"], check=True, cwd=ROOT)  # noqa: S603
    subprocess.run(  # noqa: S603
        [python, "-m", "dev.seed", "--credentials-file", str(VAR_DIR / "demo-credentials.txt")],
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
    manager.loop()
    return manager.returncode


if __name__ == "__main__":
    sys.exit(main())
