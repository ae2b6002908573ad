"""core.scorecard: a model's test-set answers kept with it, used only for the test set they answer;
and the words Compare builds from a model's record (core.comparison)."""

import numpy as np

from core import comparison, data, kinds, scorecard, store, worker
from core.kinds import Spec
from tests.fake_runs import save_run


def test_answers_are_read_back_only_for_the_same_test_set(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    model = save_run(tmp_path, "logreg")
    y = np.arange(50) % 10
    probs = np.random.default_rng(0).dirichlet(np.ones(10), 50)
    assert scorecard.read(model, y, "canonical") is None            # nothing kept yet
    scorecard.keep(model, probs, y, "canonical")
    assert np.allclose(scorecard.read(model, y, "canonical"), probs, atol=1e-6)
    assert scorecard.read(model, y, "path") is None                  # another source
    assert scorecard.read(model, y[::-1], "canonical") is None       # other labels
    assert scorecard.read(model, y[:-1], "canonical") is None        # another size
    assert [m.id for m in store.list_models(tmp_path)[0] if not m.builtin] == [model.id]


def test_a_trained_model_keeps_the_answers_it_was_scored_with(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    worker.run_training(Spec("logreg", "mnist", epochs=1, train_size=1000), lambda e: None,
                        lambda: False)
    model = next(m for m in store.list_models(tmp_path)[0] if not m.builtin)
    ds = data.load("mnist", train_images=False)
    probs = scorecard.read(model, ds.y_test, ds.source)
    assert probs.shape == (len(ds.y_test), 10)
    assert float(np.mean(probs.argmax(1) == ds.y_test)) == model.test_accuracy


def test_each_kind_is_said_to_have_its_own_augmentation(tmp_path):
    lr = save_run(tmp_path, "logreg", augment=True)
    cnn = save_run(tmp_path, "cnn", augment=True)
    plain = save_run(tmp_path, "cnn", augment=False)
    assert "one pixel" in comparison.augmentation_claim(lr)
    assert "rotation" not in comparison.augmentation_claim(lr)
    assert comparison.augmentation_claim(cnn) == kinds.AUGMENTATIONS["rotate-shift-zoom"].what
    assert comparison.augmentation_claim(plain) == "none"
    assert comparison.settings_claim(lr) == "rounds 3 · C 0.1"
    assert lr.data_sizes == "2,700 training + 300 validation images (10% held out)"
