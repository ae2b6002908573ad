"""core.predictor: the CNN worker answers, refuses broken files by name, and recovers from a crash."""

import os
import signal

import numpy as np
import pytest

from core import store
from core.predictor import PredictError, Predictor

BUILTIN_CNN = store.BUILTIN_ROOT / "cnn-default" / "model.tflite"


@pytest.fixture(scope="module")
def predictor():
    p = Predictor()
    yield p
    p.close()


@pytest.mark.skipif(not BUILTIN_CNN.exists(), reason="built-in CNN missing: run `make models`")
def test_probabilities_for_one_and_many_images(predictor):
    rng = np.random.default_rng(0)
    one = predictor.predict(BUILTIN_CNN, rng.random((1, 28, 28), dtype=np.float32))
    many = predictor.predict(BUILTIN_CNN, rng.integers(0, 256, (600, 28, 28), dtype=np.uint8))
    assert one.shape == (1, 10) and many.shape == (600, 10)
    assert np.allclose(many.sum(1), 1, atol=1e-4)


@pytest.mark.parametrize("content", [b"", b"TFL3 not really a model", b"\x00" * 5000])
def test_a_corrupt_file_is_refused_with_its_name(predictor, tmp_path, content):
    bad = tmp_path / "cnn-broken" / "model.tflite"
    bad.parent.mkdir()
    bad.write_bytes(content)
    with pytest.raises(PredictError, match="cnn-broken/model.tflite"):
        predictor.predict(bad, np.zeros((1, 28, 28), np.float32))
    assert predictor.predict(BUILTIN_CNN, np.zeros((1, 28, 28), np.float32)).shape == (1, 10)


def test_a_truncated_model_is_refused(predictor, tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(BUILTIN_CNN.read_bytes()[:20000])
    with pytest.raises(PredictError, match="model.tflite"):
        predictor.predict(bad, np.zeros((1, 28, 28), np.float32))


@pytest.mark.skipif(not BUILTIN_CNN.exists(), reason="built-in CNN missing: run `make models`")
def test_a_killed_worker_is_replaced_on_the_next_call(predictor):
    x = np.zeros((1, 28, 28), np.float32)
    predictor.predict(BUILTIN_CNN, x)
    first = predictor._process.pid
    os.kill(first, signal.SIGKILL)
    predictor._process.join()
    assert predictor.predict(BUILTIN_CNN, x).shape == (1, 10)
    assert predictor._process.pid != first


@pytest.mark.skipif(not BUILTIN_CNN.exists(), reason="built-in CNN missing: run `make models`")
def test_an_idle_worker_exits_and_the_next_call_starts_another():
    idle = Predictor(idle_exit_s=1.0)
    try:
        x = np.zeros((1, 28, 28), np.float32)
        idle.predict(BUILTIN_CNN, x)
        first = idle._process
        first.join(30)                                   # it leaves by itself after 1 s
        assert not first.is_alive() and first.exitcode == 0
        assert idle.predict(BUILTIN_CNN, x).shape == (1, 10)
        assert idle._process.pid != first.pid
    finally:
        idle.close()
