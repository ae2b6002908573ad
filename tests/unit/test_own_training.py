"""core.own_training: training refused while a class of a made dataset is short, and a saved
job marking its dataset trained; neither does anything for the built-in sets."""

import time

import pytest

from core import own_datasets as od
from core import own_examples as oe
from core import own_training
from tests.unit.test_own_datasets import drawing

ME = "a" * 32


@pytest.fixture(autouse=True)
def own_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_DATASETS", str(tmp_path / "datasets"))


def test_a_built_in_set_is_never_refused_nor_marked():
    assert own_training.refusal("mnist") is None
    own_training.note_trained("mnist")           # nothing to mark, no error
    assert od.all_datasets() == []


def test_a_made_dataset_is_refused_until_every_class_has_ten():
    ds = od.create("Letters", "sketch", ["a", "b"], ME)
    oe.add_images(ds.key, "a", [drawing("a", s) for s in range(10)], ME)
    assert own_training.refusal(ds.key) == "Class 'b' needs 10 more examples (10 at least)."
    oe.add_images(ds.key, "b", [drawing("b", s) for s in range(10)], ME)
    assert own_training.refusal(ds.key) is None


def test_a_saved_job_marks_its_made_dataset_trained_even_one_deleted_meanwhile():
    ds = od.create("Letters", "sketch", ["a", "b"], ME)
    own_training.note_trained(ds.key)
    assert od.get(ds.key).trained_at == pytest.approx(time.time(), abs=60)
    od.delete(ds.key, ME)
    own_training.note_trained(ds.key)            # gone: nothing to mark, no error
