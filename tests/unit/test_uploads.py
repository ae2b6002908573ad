"""core.uploads: models trained elsewhere are checked, converted, scored and served like the
app's own, and every bad or dangerous file is refused with one sentence, the store unchanged.

The files are made by tests/upload_files.py (the `made` fixture): one subprocess that trains
small models on a few hundred MNIST images (the pytest process never imports TensorFlow, like
the server) and scores each model directly, as its own library runs it, for the uploads'
scores to be compared with.
"""

import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import data, serving, upload_rules, uploads
from core.uploads import UploadError
from tests.upload_files import SHOWN

ROOT = Path(__file__).resolve().parents[2]
SAME_ACCURACY = 1e-6
SAME_PROBABILITY = 1e-4   # float32 through LiteRT or NumPy against the library's own

GOOD = {"cnn.h5": 1, "cnn.keras": 1, "flat.h5": 255, "flat.tflite": 255, "logreg.skops": 1,
        "logreg255.skops": 255}   # file: the scale it was trained on


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def added(made, root):
    """Each good upload, added to the store: file name -> store.ModelInfo."""
    return {name: uploads.add(name, (made / name).read_bytes(), "mnist", scale, root)
            for name, scale in GOOD.items()}


@pytest.fixture(scope="module")
def answers():
    s = serving.Serving()
    yield s
    s.predictor.close()


def stored(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# ---------------------------------------------------------------- in the server: precheck

def zipped(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb(megabytes: int, name: str = "model.weights.h5") -> bytes:
    """A .keras-looking zip whose one entry inflates to `megabytes` of zeros."""
    buffer, zeros = io.BytesIO(), bytes(2**20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        with archive.open(name, "w") as entry:
            for _ in range(megabytes):
                entry.write(zeros)
    return buffer.getvalue()


def test_precheck_names_each_format():
    assert uploads.precheck("m.h5", upload_rules.HDF5_SIGNATURE + bytes(100)) == ".h5"
    assert uploads.precheck("M.HDF5", upload_rules.HDF5_SIGNATURE + bytes(100)) == ".h5"
    assert uploads.precheck("m.tflite", b"\0\0\0\0TFL3" + bytes(100)) == ".tflite"
    assert uploads.precheck("m.keras", zipped({"config.json": b"{}"})) == ".keras"
    assert uploads.precheck("m.skops", zipped({"schema.json": b"{}"})) == ".skops"


@pytest.mark.parametrize("name, content, says", [
    ("model.pkl", b"\x80\x04\x95anything", "pickle and joblib files run code"),
    ("model.joblib", b"whatever", "pickle and joblib files run code"),
    ("model.h5", b"\x80\x05\x95pickled, renamed", "pickle and joblib files run code"),
    ("model.onnx", b"whatever", r"accepts \.keras, \.h5, \.tflite, \.skops and \.hdf5 files only"),
    ("model.h5", b"", "it is empty"),
    ("model.h5", os.urandom(5000), "not an HDF5 file"),
    ("model.keras", os.urandom(5000), "not a zip archive"),
    ("model.tflite", os.urandom(5000), "TFL3"),
    ("model.skops", os.urandom(5000), "not a zip archive"),
    ("model.keras", zipped({"config.json": b"{}" * 5000})[:-30], "damaged or incomplete"),
    ("model.keras", zipped({"model.weights.h5": b"x"}), "without config.json"),
    ("model.keras", zipped({f"{n}.bin": b"" for n in range(150)} | {"config.json": b"{}"}),
     "holds 151 files"),
    ("model.skops", zipped({"schema.json": b"{}", "data.pkl": b"\x80\x04"}), "pickled files"),
], ids=lambda value: f"{len(value)} bytes" if isinstance(value, bytes) else None)  # the same in every worker
def test_precheck_refuses_with_a_sentence(name, content, says):
    with pytest.raises(UploadError, match=says) as refused:
        uploads.precheck(name, content)
    assert str(refused.value).startswith(f"{name} was refused: ")


def test_a_file_over_the_upload_limit_is_refused(monkeypatch):
    monkeypatch.setattr(upload_rules, "MAX_BYTES", 1000)
    with pytest.raises(UploadError, match="more than the 0 MB the app accepts"):
        uploads.precheck("model.h5", upload_rules.HDF5_SIGNATURE + bytes(2000))


def test_the_upload_limit_is_the_apps():
    assert upload_rules.MAX_BYTES == 20 * 2**20   # .streamlit/config.toml: maxUploadSize = 20


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = zip_bomb(100)   # 100 MB of zeros in ~100 KB
    assert len(bomb) < 200_000
    with pytest.raises(UploadError, match="would unpack to 100 MB.*zip bomb"):
        uploads.precheck("model.keras", bomb)
    with pytest.raises(UploadError, match="packed over 100 times tighter.*zip bomb"):
        uploads.precheck("model.keras", zip_bomb(8))


def test_names_from_a_file_cannot_carry_markup():
    shown = upload_rules.display_name("../../**bold** [x](javascript:e).h5")
    assert shown == "__bold__ _x_(javascript_e).h5"
    assert upload_rules.shown("[x](http://e)") == "_x__http___e_"


# ---------------------------------------------------------------- what fits, what may load

@pytest.mark.parametrize("model_input, fits", [
    ((28, 28, 1), ("mnist", "fashion_mnist")), ((28, 28), ("mnist", "fashion_mnist")),
    ((784,), ("mnist", "fashion_mnist")), ((None, None, 1), ("mnist", "fashion_mnist")),
    ((32, 32, 3), ("cifar10",)), ((3072,), ("cifar10",)),
])
def test_the_datasets_that_fit_an_input(model_input, fits):
    assert upload_rules.check_fits(model_input, 10) == fits


def test_inputs_and_outputs_that_fit_nothing_are_refused():
    with pytest.raises(upload_rules.Refused, match="64 x 64 x 1, which fit none.*MNIST and "
                                              "Fashion-MNIST: 28 x 28 x 1, 28 x 28 or 784 numbers"):
        upload_rules.check_fits((64, 64, 1), 10)
    with pytest.raises(upload_rules.Refused, match="it gives 3 outputs"):
        upload_rules.check_fits((784,), 3)


def layer(name, module="keras.layers", **config):
    return {"module": module, "class_name": name, "config": config, "registered_name": None}


def model_config(*layers):
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": list(layers)}}


def test_a_config_of_built_in_layers_passes():
    config = model_config(layer("InputLayer"), layer("Conv2D", activation="relu"),
                          layer("Sequential", module="keras", layers=[layer("Dense")]))
    upload_rules.check_keras_config(config)
    assert upload_rules.has_convolutions(config)


@pytest.mark.parametrize("config, says", [
    (model_config(layer("Dense"), layer("Lambda")), "a Lambda layer, which would run code"),
    (model_config(layer("Sequential", layers=[layer("TFOpLambda")])), "a TFOpLambda layer"),
    (model_config(layer("Evil", module="mypackage")), "contains Evil, a layer that is not one of the built-in"),
    (model_config({**layer("Dense"), "registered_name": "Custom>Dense"}), "not one of the"),
    (model_config(layer("Dense", activation={"class_name": "__lambda__", "config": {}})),
     "a Python function"),
    (model_config(layer("Dense", kernel_initializer={"module": "os", "class_name": "system"})),
     "refers to os.system, which is not part of Keras"),
    ({"class_name": "Dense"}, "describes no Keras model"),
])
def test_a_config_naming_anything_else_is_refused(config, says):
    with pytest.raises(upload_rules.Refused, match=says):
        upload_rules.check_keras_config(config)


# ---------------------------------------------------------------- in the worker: good files

def test_inspect_reads_a_notebook_cnn(made):
    found = uploads.inspect("cnn.h5", (made / "cnn.h5").read_bytes())
    assert (found.kind, found.format, found.input_shape, found.outputs) == (
        "cnn", ".h5", (28, 28, 1), 10)
    assert found.params == 13 * 13 * 8 * 10 + 10 + 8 * 9 + 8 and found.has_convolutions
    assert found.fits == ("mnist", "fashion_mnist") and found.suggested == "mnist"
    assert found.bytes == (made / "cnn.h5").stat().st_size
    assert "tensorflow" not in sys.modules and "h5py" not in sys.modules


def test_inspect_reads_a_tflite_and_a_skops_file(made):
    lite = uploads.inspect("flat.tflite", (made / "flat.tflite").read_bytes())
    assert (lite.kind, lite.input_shape, lite.has_convolutions, lite.suggested) == (
        "cnn", (784,), False, "mnist")
    lr = uploads.inspect("logreg.skops", (made / "logreg.skops").read_bytes())
    assert (lr.kind, lr.input_shape, lr.outputs, lr.params) == ("logreg", (784,), 10, 7850)


@pytest.mark.parametrize("name", GOOD)
def test_an_upload_scores_as_the_same_model_scored_directly(made, added, name):
    expected = json.loads((made / "expected.json").read_text())[name]
    model = added[name]
    assert abs(model.test_accuracy - expected) <= SAME_ACCURACY
    assert model.test_accuracy > 0.5   # trained on 600 images: well above chance
    assert model.meta["uploaded"]["file_name"] == name and model.meta["history"] == []
    assert model.meta["test_size"] == 10_000 and model.meta["input_shape"] == [28, 28, 1]
    assert f"uploaded: {name}" in model.label


@pytest.mark.parametrize("name", GOOD)
def test_an_upload_answers_through_the_apps_serving(made, added, answers, name):
    model = added[name]
    x = data.load("mnist", train_images=False).x_test[:SHOWN]
    proba = answers.predict_proba(model, x)
    expected = np.load(made / "probabilities.npz")[name]
    assert proba.shape == (SHOWN, 10)
    assert np.abs(proba - expected).max() <= SAME_PROBABILITY


def test_an_uploaded_cnn_shows_its_feature_maps(added, answers):
    model = added["cnn.h5"]
    image = data.load("mnist", train_images=False).x_test[0].astype(np.float32) / 255
    inside = answers.inside(model, image)
    assert [layer.maps.shape for layer in inside.layers] == [(26, 26, 8)]
    assert inside.filters.shape == (8, 3, 3)
    assert model.meta["has_convolutions"] and not added["flat.h5"].meta["has_convolutions"]


def test_the_original_and_the_tflite_can_be_downloaded(made, added):
    names = {name: [p.name for p in model.downloads] for name, model in added.items()}
    assert names["cnn.h5"] == ["model.h5", "model.tflite"]
    assert names["cnn.keras"] == ["model.keras", "model.tflite"]
    assert names["flat.tflite"] == ["model.tflite"]
    assert names["logreg.skops"] == ["model.skops", "model.npz"]
    assert (added["cnn.h5"].path / "model.h5").read_bytes() == (made / "cnn.h5").read_bytes()
    assert (added["flat.tflite"].path / "model.tflite").read_bytes() == (
        made / "flat.tflite").read_bytes()


def test_adaptations_are_recorded(added):
    assert added["flat.h5"].meta["uploaded"] | {"bytes": 0} == {
        "file_name": "flat.h5", "format": ".h5", "bytes": 0, "scale": 255, "input": [784],
        "softmax_added": True}
    assert not added["cnn.keras"].meta["uploaded"]["softmax_added"]
    assert (added["flat.tflite"].path / "adapter.json").is_file()
    assert not (added["cnn.h5"].path / "adapter.json").exists()


# ---------------------------------------------------------------- in the worker: bad files

def truncated(made, name):
    content = (made / name).read_bytes()
    return content[:len(content) // 2]


BAD = {   # case: (file name, content from the made folder, what the sentence says)
    "a Lambda in .h5": ("lambda.h5", lambda m: (m / "lambda.h5").read_bytes(),
                        "contains a Lambda layer, which would run code from the file"),
    "a Lambda in .keras": ("lambda.keras", lambda m: (m / "lambda.keras").read_bytes(),
                           "contains a Lambda layer, which would run code from the file"),
    "random bytes": ("model.h5", lambda m: os.urandom(20_000), "not an HDF5 file"),
    "a truncated .h5": ("cnn.h5", lambda m: truncated(m, "cnn.h5"),
                        "damaged or incomplete|Keras cannot load it"),
    "a truncated .keras": ("cnn.keras", lambda m: truncated(m, "cnn.keras"),
                           "damaged or incomplete"),
    "a truncated .tflite": ("flat.tflite", lambda m: truncated(m, "flat.tflite"),
                            "damaged or incomplete"),
    "HDF5 but not a model": ("notmodel.h5", lambda m: (m / "notmodel.h5").read_bytes(),
                             "not a whole Keras model"),
    "3 outputs": ("three.h5", lambda m: (m / "three.h5").read_bytes(), "it gives 3 outputs"),
    "a 64 x 64 input": ("big.h5", lambda m: (m / "big.h5").read_bytes(),
                        "reads inputs of 64 x 64 x 1, which fit none"),
    "NaN weights": ("nan.h5", lambda m: (m / "nan.h5").read_bytes(), "NaN or infinite"),
    "a zip bomb": ("model.keras", lambda m: zip_bomb(100), "zip bomb"),
    "pickle": ("model.pkl", lambda m: b"\x80\x04\x95\x00", "pickle and joblib files run code"),
    "joblib": ("model.joblib", lambda m: b"\x80\x04\x95\x00", "pickle and joblib files run code"),
    "not a LogisticRegression": ("pipeline.skops", lambda m: (m / "pipeline.skops").read_bytes(),
                                 "asks for types this app does not load: "
                                 "sklearn.pipeline.Pipeline"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_is_refused_and_nothing_is_added(made, root, case):
    name, content, says = BAD[case]
    before = stored(root)
    with pytest.raises(UploadError, match=says) as refused:
        uploads.add(name, content(made), "mnist", 1, root)
    assert str(refused.value).startswith(f"{name} was refused: ")
    assert stored(root) == before


def test_a_lambda_that_would_write_a_file_writes_nothing(made, root):
    marker = made / "lambda-ran.txt"
    for name in ("lambda.h5", "lambda.keras"):
        with pytest.raises(UploadError, match="Lambda"):
            uploads.inspect(name, (made / name).read_bytes())
    assert not marker.exists()


def test_a_model_for_another_dataset_is_refused(made, root):
    with pytest.raises(UploadError, match="do not fit CIFAR-10's 32 x 32 x 3 images"):
        uploads.add("logreg.skops", (made / "logreg.skops").read_bytes(), "cifar10", 1, root)


# ---------------------------------------------------------------- the worker's limits

def crash(conn, request):
    """A worker that dies as a native crash would (runs in the worker process)."""
    os.abort()


def dawdle(conn, request):
    """A worker that takes its time, as reading a huge or hostile file may."""
    time.sleep(30)


def hoard(conn, request):
    """A worker whose memory keeps growing, as reading a model bomb's may."""
    held = []
    for _ in range(16):
        held.append(np.ones(2**24))   # 128 MiB more, touched (2 GiB at most)
        time.sleep(0.1)


def test_a_worker_that_takes_too_long_is_stopped(made, monkeypatch):
    monkeypatch.setattr(uploads, "TIME_LIMIT_S", 0.5)
    monkeypatch.setattr(uploads, "worker_entry", lambda: dawdle)
    with pytest.raises(UploadError, match=r"cnn.h5 was refused: reading it took longer than 0.5 s"):
        uploads.inspect("cnn.h5", (made / "cnn.h5").read_bytes())


def test_a_worker_that_needs_too_much_memory_is_stopped(made, monkeypatch):
    monkeypatch.setattr(uploads, "MEMORY_LIMIT", 150 * 2**20)
    monkeypatch.setattr(uploads, "worker_entry", lambda: hoard)
    with pytest.raises(UploadError, match="needed more than 0.1 GiB of memory"):
        uploads.inspect("cnn.h5", (made / "cnn.h5").read_bytes())


def test_a_worker_that_crashes_is_a_sentence_and_the_next_upload_works(made, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(uploads, "worker_entry", lambda: crash)
        with pytest.raises(UploadError, match=r"the process reading it crashed \(signal 6\)"):
            uploads.inspect("logreg.skops", (made / "logreg.skops").read_bytes())
    assert uploads.inspect("logreg.skops", (made / "logreg.skops").read_bytes()).kind == "logreg"

