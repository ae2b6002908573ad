"""Fixtures the unit tests share."""

import pytest

from core import jobs


@pytest.fixture
def runner(tmp_path):
    """A job runner with its own empty model store, shut down after the test."""
    r = jobs.JobRunner(tmp_path / "models")
    yield r
    r.shutdown()
