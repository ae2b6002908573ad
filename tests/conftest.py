"""Shared test setup: every test layer sees the same offline world by default."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Tests must never depend on a network or on models a developer trained locally.
os.environ["DIGITLAB_MODELS"] = tempfile.mkdtemp(prefix="digitlab-models-")
# One trainer, whatever the machine (core.trainers): tests of several say so themselves.
os.environ["DIGITLAB_TRAINERS"] = "1"

from tests.upload_files import made, start_in_background  # noqa: E402,F401 (made: a fixture)


def pytest_collection_finish(session):
    """Start making the upload tests' model files while the first tests run, if they are due."""
    if any("made" in getattr(item, "fixturenames", ()) for item in session.items):
        start_in_background()
