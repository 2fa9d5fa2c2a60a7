"""WeasyPrint is a large library: a web worker loads it when it first prints a document, not when it starts."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
LOAD_EVERY_ADDRESS = """
import sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().reverse_dict  # every URL module imported, as the first reverse() of a worker does
print("weasyprint" in sys.modules)
"""


def test_a_worker_that_has_not_printed_has_not_loaded_weasyprint():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_EVERY_ADDRESS], cwd=REPOSITORY, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split()[-1] == "False"
