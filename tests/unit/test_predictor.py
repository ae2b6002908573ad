"""core.predictor: the Keras worker answers, refuses unsafe files, and recovers from a crash."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from core import store
from core.predictor import PredictError, Predictor

BUILTIN_CNN = store.BUILTIN_ROOT / "cnn-default" / "model.keras"


@pytest.fixture(scope="module")
def predictor():
    p = Predictor()
    yield p
    p.close()


MAKE_LAMBDA_MODEL = """
import sys, keras
inputs = keras.Input((28, 28, 1))
x = keras.layers.Lambda(lambda x: x * 2)(inputs)
outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
keras.Model(inputs, outputs).save(sys.argv[1])
"""


@pytest.fixture(scope="module")
def lambda_model(tmp_path_factory):
    """A .keras file with a Lambda layer: arbitrary code that safe_mode must refuse.

    Made in a subprocess so this test process (which later runs AppTests) stays free of Keras.
    """
    path = tmp_path_factory.mktemp("lambda") / "model.keras"
    subprocess.run([sys.executable, "-c", MAKE_LAMBDA_MODEL, str(path)], check=True,
                   capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return path


@pytest.mark.skipif(not BUILTIN_CNN.exists(), reason="built-in CNN missing: run `make models`")
def test_probabilities_for_one_and_many_images(predictor):
    rng = np.random.default_rng(0)
    one = predictor.predict(BUILTIN_CNN, rng.random((1, 28, 28), dtype=np.float32))
    many = predictor.predict(BUILTIN_CNN, rng.integers(0, 256, (600, 28, 28), dtype=np.uint8))
    assert one.shape == (1, 10) and many.shape == (600, 10)
    assert np.allclose(many.sum(1), 1, atol=1e-4)


def test_a_lambda_layer_is_refused_by_safe_mode(predictor, lambda_model):
    with pytest.raises(PredictError, match="(?i)lambda"):
        predictor.predict(lambda_model, np.zeros((1, 28, 28), np.float32))


def test_a_corrupt_file_is_refused_with_its_name(predictor, tmp_path):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"PK\x03\x04 not really a keras file")
    with pytest.raises(PredictError, match="model.keras"):
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
