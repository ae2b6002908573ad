"""Model files to upload, made once per machine for the unit and app tests of uploads.

One subprocess trains small models on a few hundred MNIST images (the pytest process never
imports TensorFlow, like the server) and scores each directly, as its own library runs it, for
the uploads' scores to be compared with. It starts in the background when the tests are
collected (`start_in_background`, from tests/conftest.py), so no pytest worker waits ~25 s
for it; the `made` fixture waits for it only if it has not finished.

    python -m tests.upload_files   # make them now (what the background start runs)
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOWN = 16                # test images whose probabilities the subprocess keeps

# Runs in the subprocess: argv[1] is the folder to write the files, expected.json (direct
# test accuracies) and probabilities.npz (direct probabilities of the first SHOWN images) to.
SCRIPT = r'''
import json, sys
from pathlib import Path

import h5py
import keras
import numpy as np
import skops.io as sio
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from keras import layers
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core import data

out, marker = Path(sys.argv[1]), sys.argv[2]
keras.utils.set_random_seed(0)
ds = data.load("mnist", train_images=True)
x, y = ds.x_train[:600].astype("float32"), ds.y_train[:600]
x_test, y_test = ds.x_test.astype("float32"), ds.y_test
expected, shown = {}, {}


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def scored(name, proba):
    expected[name] = float(np.mean(proba.argmax(1) == y_test))
    shown[name] = proba[:%(shown)d]


cnn = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                        layers.MaxPooling2D(2), layers.Flatten(),
                        layers.Dense(10, activation="softmax")])
cnn.compile("adam", "sparse_categorical_crossentropy")
cnn.fit(x[..., None] / 255, y, epochs=2, batch_size=32, verbose=0)
cnn.save(out / "cnn.h5")
cnn.save(out / "cnn.keras")
scored("cnn.h5", cnn.predict(x_test[..., None] / 255, verbose=0))
expected["cnn.keras"], shown["cnn.keras"] = expected["cnn.h5"], shown["cnn.h5"]

flat = keras.Sequential([keras.Input((784,)), layers.Dense(32, activation="relu"),
                         layers.Dense(10)])
flat.compile(keras.optimizers.Adam(1e-3),
             keras.losses.SparseCategoricalCrossentropy(from_logits=True))
flat.fit(x.reshape(-1, 784), y, epochs=3, batch_size=32, verbose=0)   # pixels 0-255
flat.save(out / "flat.h5")
scored("flat.h5", softmax(flat.predict(x_test.reshape(-1, 784), verbose=0)))

(out / "flat.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(flat).convert())
lite = Interpreter(model_path=str(out / "flat.tflite"))
entry, exit_ = lite.get_input_details()[0], lite.get_output_details()[0]
lite.resize_tensor_input(entry["index"], [len(y_test), 784])
lite.allocate_tensors()
lite.set_tensor(entry["index"], x_test.reshape(-1, 784))
lite.invoke()
scored("flat.tflite", softmax(lite.get_tensor(exit_["index"])))

writes = keras.Sequential([keras.Input((784,)), layers.Lambda(
    lambda t: (__import__("pathlib").Path(marker).write_text("code from the file ran"), t)[1]),
    layers.Dense(10)])
writes.save(out / "lambda.h5")
writes.save(out / "lambda.keras")
Path(marker).unlink(missing_ok=True)   # building the model ran it here, on purpose

three = keras.Sequential([keras.Input((784,)), layers.Dense(3, activation="softmax")])
three.save(out / "three.h5")
keras.Sequential([keras.Input((64, 64, 1)), layers.Conv2D(4, 3), layers.Flatten(),
                  layers.Dense(10, activation="softmax")]).save(out / "big.h5")
kernel, *rest = cnn.get_weights()
kernel[0, 0, 0, 0] = np.nan
cnn.set_weights([kernel, *rest])
cnn.save(out / "nan.h5")
with h5py.File(out / "notmodel.h5", "w") as f:
    f["numbers"] = np.arange(10)

features = x.reshape(-1, 784)
lr = LogisticRegression(max_iter=200).fit(features / 255, y)
sio.dump(lr, out / "logreg.skops")
scored("logreg.skops", lr.predict_proba(x_test.reshape(-1, 784) / 255))
lr255 = LogisticRegression(max_iter=200).fit(features, y)
sio.dump(lr255, out / "logreg255.skops")
scored("logreg255.skops", lr255.predict_proba(x_test.reshape(-1, 784)))
sio.dump(make_pipeline(StandardScaler(), LogisticRegression(max_iter=20)).fit(features, y),
         out / "pipeline.skops")

(out / "expected.json").write_text(json.dumps(expected))
np.savez(out / "probabilities.npz", **shown)
''' % {"shown": SHOWN}

# Made once per machine and SCRIPT: the unit and app tests share the files (~30 s of Keras).
MADE = Path(tempfile.gettempdir()) / f"digitlab-test-uploads-{hashlib.sha256(SCRIPT.encode()).hexdigest()[:12]}"


def make_uploads(out: Path) -> None:
    """Run SCRIPT into `out`, then mark it complete (a folder left half-made is made again)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(out / "lambda-ran.txt")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (out / ".complete").touch()


def made_once() -> Path:
    """MADE, made now unless it is complete (whoever holds the lock makes it; others wait)."""
    with open(f"{MADE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (MADE / ".complete").exists():
            make_uploads(MADE)
    return MADE


def start_in_background() -> None:
    """Start making MADE in a process of its own, unless it is complete."""
    if not (MADE / ".complete").exists():
        subprocess.Popen([sys.executable, "-m", "tests.upload_files"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def made():
    """Folder with the uploads, expected.json and probabilities.npz, and the Lambda's marker."""
    folder = made_once()
    assert not (folder / "lambda-ran.txt").exists()
    return folder


if __name__ == "__main__":
    made_once()


