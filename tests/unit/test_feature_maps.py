"""core.lite.LiteModel.inside: the feature maps and filters the app shows are Keras' own.

Keras runs in a subprocess (the pytest process never imports TensorFlow, like the server):
it writes each convolution's activated output for a few canonical test digits, and the
first convolution's kernels as the export should hold them, for the built-in CNN and for
freshly built models of the other recipes. Here LiteRT reads the .tflite files and the
two must agree.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import data, store
from core.lite import LiteModel

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = store.BUILTIN_ROOT / "cnn-default"
DIGITS = 4          # canonical test digits compared per model
TOLERANCE = 1e-4    # max abs difference, float32 maps
FRESH = {"fast-augmented": ("Fast", True), "classic": ("Classic", False)}  # name: (recipe, augment)

# Runs in the subprocess: argv[1] is a folder holding digits.npy; it writes <name>.tflite
# for each fresh model and <name>.npz (maps_<digit>_<layer>, filters) for every model.
SCRIPT = r'''
import sys
from pathlib import Path

import numpy as np
from core import cnn, kinds
import keras
from keras import layers

FRESH = {fresh!r}
out = Path(sys.argv[1])
digits = np.load(out / "digits.npy")


def activated_outputs(model, x):
    """Each Conv2D's output after its activation: its own, or the next Activation/ReLU's."""
    outputs, pending, h = [], False, x
    for layer in model.layers:
        h = layer(h, training=False)
        if isinstance(layer, layers.Conv2D):
            if pending:
                raise SystemExit(f"{{layer.name}}: a linear convolution without an activation")
            pending = layer.activation is keras.activations.linear
            if not pending:
                outputs.append(h)
        elif pending and isinstance(layer, (layers.Activation, layers.ReLU)):
            outputs.append(h)
            pending = False
    return [keras.ops.convert_to_numpy(o) for o in outputs]


def folded_filters(model):
    """F x kh x kw: the first Conv2D's kernels with a following BatchNormalization folded in."""
    convs = [l for l in model.layers if isinstance(l, layers.Conv2D)]
    first = convs[0]
    kernel = keras.ops.convert_to_numpy(first.kernel)[:, :, 0, :]       # kh x kw x F
    after = model.layers[model.layers.index(first) + 1]
    if isinstance(after, layers.BatchNormalization):
        gamma, variance = (keras.ops.convert_to_numpy(w) for w in (after.gamma, after.moving_variance))
        kernel = kernel * gamma / np.sqrt(variance + after.epsilon)
    return kernel.transpose(2, 0, 1)


def save(name, model):
    maps = {{f"maps_{{d}}_{{n}}": m[0] for d in range(len(digits))
            for n, m in enumerate(activated_outputs(model, digits[d:d + 1]))}}
    np.savez(out / f"{{name}}.npz", filters=folded_filters(model), **maps)


save("builtin", keras.models.load_model(sys.argv[2]))
for name, (recipe, augment) in FRESH.items():
    model = cnn.build(kinds.recipe_spec(recipe, augment=augment))
    x, y = digits[:, :, :, None], np.arange(len(digits)) % 10
    model.fit(np.repeat(x, 16, axis=0), np.repeat(y, 16), epochs=1, batch_size=16, verbose=0)
    cnn.export_lite(model, out / f"{{name}}.tflite")
    save(name, model)
'''.format(fresh=FRESH)


@pytest.fixture(scope="module")
def keras_side(tmp_path_factory):
    """Folder with Keras' maps and filters per model (and the fresh models' .tflite files)."""
    out = tmp_path_factory.mktemp("feature-maps")
    digits = data.load("mnist").x_test[:DIGITS].astype(np.float32) / 255
    np.save(out / "digits.npy", digits.reshape(-1, 28, 28, 1))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(BUILTIN / "model.keras")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def lite_file(name: str, out: Path) -> Path:
    return BUILTIN / "model.tflite" if name == "builtin" else out / f"{name}.tflite"


@pytest.mark.skipif(not (BUILTIN / "model.keras").exists(), reason="built-in CNN missing: run `make models`")
@pytest.mark.parametrize("name", ["builtin", *FRESH])
def test_feature_maps_and_filters_equal_keras(keras_side, name):
    expected = np.load(keras_side / f"{name}.npz")
    digits = np.load(keras_side / "digits.npy")
    model = LiteModel(lite_file(name, keras_side))
    for d, digit in enumerate(digits):
        inside = model.inside(digit[None, :, :, 0])
        keras_maps = [expected[f"maps_{d}_{n}"] for n in range(len(inside.layers))]
        assert len(inside.layers) == sum(k.startswith(f"maps_{d}_") for k in expected.files)
        for n, (layer, want) in enumerate(zip(inside.layers, keras_maps), start=1):
            assert layer.maps.shape == want.shape, f"digit {d}, convolution {n}"
            assert np.abs(layer.maps - want).max() <= TOLERANCE, f"digit {d}, convolution {n}"
    assert inside.filters.shape == expected["filters"].shape
    assert np.abs(inside.filters - expected["filters"]).max() <= TOLERANCE
    assert "tensorflow" not in sys.modules, "Keras belongs in the subprocess"
