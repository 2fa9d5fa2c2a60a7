"""`make run`'s demo seeding: python -m dev.seed --credentials-file var/demo-credentials.txt"""

import argparse
import os
import sys
from pathlib import Path

import django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials-file", required=True, type=Path)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from dev.demo import seed_demo

    print("Demo accounts (ward DEMO):\n" + seed_demo(args.credentials_file), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
