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


# The longest test files first (seconds of their tests on 2 cores, `pytest --durations=0`,
# 2026-12-03), so the two pytest workers end together: a long file handed out last keeps one
# worker busy while the other has nothing left (`--no-loadscope-reorder` in the Makefile keeps
# this order; by default xdist hands out the files with the most tests first).
SLOW_FIRST = (   # the uploads' files late: their model files are made meanwhile
    "tests/unit/test_ray.py",              # 73 s
    "tests/unit/test_jobs.py",             # 56 s
    "tests/unit/test_transfer.py",         # 34 s
    "tests/app/test_train.py",             # 31 s
    "tests/unit/test_photo_transfer.py",   # 19 s
    "tests/unit/test_sharing.py",          # 16 s
    "tests/unit/test_sprint.py",           # 16 s
    "tests/unit/test_feature_maps.py",     # 14 s
    "tests/unit/test_colour.py",           # 14 s
    "tests/app/test_uploads.py",           # 13 s
    "tests/unit/test_builtin_models.py",   # 13 s
    "tests/unit/test_queue.py",            # 13 s
    "tests/unit/test_batchnorm.py",        # 12 s
    "tests/unit/test_uploads.py",          # 10 s
)


def pytest_collection_modifyitems(items):
    """Run the files of SLOW_FIRST first, in its order; the others after them, as collected."""
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_FIRST)))
