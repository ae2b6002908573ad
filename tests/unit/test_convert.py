"""core.convert: old folders (model.keras / model.skops only) get the file the app runs; Lambda is refused."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core import store
from core.predictor import Predictor

BUILTIN = store.BUILTIN_ROOT / "cnn-default"
BUILTIN_LR = store.BUILTIN_ROOT / "logreg-default"

MAKE_LAMBDA_MODEL = """
import sys, keras
inputs = keras.Input((28, 28, 1))
x = keras.layers.Lambda(lambda x: x * 2)(inputs)
outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
keras.Model(inputs, outputs).save(sys.argv[1])
"""
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def python(*args):
    """Run Python in a subprocess: this test process (which later runs AppTests) stays free of Keras."""
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=QUIET,
                          cwd=store.ROOT)


def model_folder(root, name, meta):
    folder = root / name
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.skipif(not (BUILTIN / "model.keras").exists(), reason="built-in CNN missing: run `make models`")
def test_old_folders_are_converted_and_lambda_layers_refused(tmp_path):
    meta = json.loads((BUILTIN / "meta.json").read_text()) | {"id": "old", "builtin": False}
    old = model_folder(tmp_path, "old", meta)
    shutil.copy(BUILTIN / "model.keras", old)
    old_lr = model_folder(tmp_path, "old-lr", json.loads((BUILTIN_LR / "meta.json").read_text()))
    shutil.copy(BUILTIN_LR / "model.skops", old_lr)
    unsafe = model_folder(tmp_path, "unsafe", meta | {"id": "unsafe"})
    assert python("-c", MAKE_LAMBDA_MODEL, str(unsafe / "model.keras")).returncode == 0
    corrupt = model_folder(tmp_path, "corrupt", meta | {"id": "corrupt"})
    (corrupt / "model.keras").write_bytes(b"PK\x03\x04 not really a keras file")

    models, problems = store.list_models(tmp_path, tmp_path / "no-builtins")
    assert models == []
    assert any("old: model.tflite is missing" in p and "python -m core.convert" in p for p in problems)
    assert any("old-lr: model.npz is missing" in p for p in problems)

    run = python("-m", "core.convert", str(old), str(old_lr), str(unsafe), str(corrupt))
    assert run.returncode == 1
    assert f"wrote {old / 'model.tflite'}" in run.stdout
    assert f"wrote {old_lr / 'model.npz'}" in run.stdout
    assert "refused: unsafe: model.keras was refused" in run.stderr
    assert "lambda" in run.stderr.lower()  # safe_mode's own reason
    assert "refused: corrupt: model.keras was refused" in run.stderr
    assert not (unsafe / "model.tflite").exists() and not (corrupt / "model.tflite").exists()

    models, problems = store.list_models(tmp_path, tmp_path / "no-builtins")
    assert sorted(m.id for m in models) == ["old", "old-lr"]
    models = [m for m in models if m.kind == "cnn"]
    x = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    predictor = Predictor()
    try:
        same = predictor.predict(models[0].file, x).argmax(1) == predictor.predict(BUILTIN / "model.tflite", x).argmax(1)
    finally:
        predictor.close()
    assert same.all()
