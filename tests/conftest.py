"""Shared test setup: every test layer sees the same offline world by default."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

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


# The longest work first, so the two pytest workers end together: a long unit handed out last
# keeps one worker busy while the other has nothing left (`--no-loadscope-reorder` in the
# Makefile keeps this order). The browser tests whose servers train take turns as one unit
# (tests/e2e/conftest.py); it goes first, and the other worker runs everything else beside it.
# The uploads' files come late: their model files are made meanwhile.
LONG_GROUPS = ("trains", "own")   # browser tests: 350-470 s and ~150 s on 2 cores (2026-12-03)
SLOW_FIRST = (   # seconds of each file's tests on 2 cores, `pytest --durations=0`, 2026-12-03
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
    """Keep each unit and app test file on one worker (its module fixtures are made once), and
    hand out the work longest first: LONG_GROUPS, SLOW_FIRST, the other browser tests (one
    unit each), then the other files, as collected."""
    for item in items:
        if not item.nodeid.startswith("tests/e2e/"):   # (browser tests: tests/e2e/conftest.py)
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=work_rank)


def work_rank(item) -> int:
    """Where an item's unit of work goes in the order pytest-xdist hands units out."""
    marker = item.get_closest_marker("xdist_group")
    group = marker.args[0] if marker else ""
    if group in LONG_GROUPS:
        return LONG_GROUPS.index(group)
    if group in SLOW_FIRST:
        return len(LONG_GROUPS) + SLOW_FIRST.index(group)
    return len(LONG_GROUPS) + len(SLOW_FIRST) + (0 if item.nodeid.startswith("tests/e2e/") else 1)
