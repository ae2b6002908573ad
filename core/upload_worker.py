"""The upload worker: the one process that opens an uploaded model file (core.uploads).

Spawned for one request and watched by the server for time and memory; each format is
opened by core.upload_formats. What the app runs is then made and scored here, as for a model it trained (core.worker):
a CNN as a LiteRT file taking N x H x W x C images in [0, 1] and giving probabilities, a
Logistic Regression as its weights for features in [0, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core import data, logreg, metrics, store
from core.lite import Adapter, LiteModel
from core.processes import name_this_process
from core.upload_formats import OPENERS, Opened, short
from core.upload_rules import (FORMATS, Inspection, Refused, UploadError, check_fits, form_for,
                               shape_text)

PROBE = 256   # test images that tell a model's probabilities from its logits


def serve(conn, request: dict) -> None:
    """Worker process: answer one request ("inspect" or "add") with (status, payload)."""
    name_this_process()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # before TensorFlow is first imported
    try:
        answer = ("ok", ACTIONS[request["action"]](request))
    except Refused as e:
        answer = ("refused", str(e))
    except UploadError as e:
        answer = ("failed", str(e))
    except Exception as e:  # noqa: BLE001 - whatever a damaged file causes goes back as words
        answer = ("error", short(e))
    conn.send(answer)
    conn.close()


# ---------------------------------------------------------------- what the app runs

def probe(ds: data.Dataset) -> np.ndarray:
    """A few test images as the app gives them: N x H x W x C float32 in [0, 1]."""
    return (ds.x_test[:PROBE].astype(np.float32) / 255).reshape(-1, *ds.shape)


def are_probabilities(outputs: np.ndarray) -> bool:
    """Whether a model's outputs are probabilities (else they are logits)."""
    return bool(np.all(outputs >= -1e-6) and np.all(outputs <= 1 + 1e-6)
                and np.allclose(outputs.sum(axis=1), 1, atol=1e-3))


def check_outputs(outputs: np.ndarray) -> None:
    if not np.isfinite(outputs).all():
        raise Refused("it gives NaN or infinite outputs for test images")


def keras_runnable(opened: Opened, ds: data.Dataset, form: tuple, scale: int,
                   folder: Path) -> bool:
    """Export the Keras model wrapped to read the app's images (H x W x C in [0, 1]: scaled,
    reshaped to its own input) and give probabilities, to `folder`/model.tflite; whether a
    softmax was added (its outputs were logits)."""
    import keras
    from keras import layers

    from core import cnn

    inputs = keras.Input(shape=ds.shape)
    x = layers.Rescaling(float(scale))(inputs) if scale != 1 else inputs
    x = layers.Reshape(form)(x) if form != ds.shape else x
    x = opened.model(x)
    outputs = keras.Model(inputs, x).predict(probe(ds), verbose=0)
    check_outputs(outputs)
    logits = not are_probabilities(outputs)
    if logits:
        x = layers.Softmax()(x)
    cnn.export_lite(keras.Model(inputs, x, name="uploaded"), folder / store.MODEL_FILES["cnn"])
    return logits


def tflite_runnable(opened: Opened, ds: data.Dataset, form: tuple, scale: int,
                    folder: Path) -> bool:
    """The .tflite as uploaded, with a core.lite.Adapter beside it when it reads another
    shape or scale or gives logits; whether a softmax was added."""
    path = folder / store.MODEL_FILES["cnn"]
    path.write_bytes(opened.model)
    adapter = Adapter(ds.shape, form, float(scale))
    if form != ds.shape or scale != 1:
        adapter.write(folder)
    try:
        outputs = LiteModel(path).predict(probe(ds))
    except (ValueError, RuntimeError) as e:
        raise Refused(f"LiteRT cannot run it on a batch of {ds.title} images "
                      f"({short(e)})") from None
    check_outputs(outputs)
    logits = not are_probabilities(outputs)
    if logits:
        Adapter(ds.shape, form, float(scale), softmax=True).write(folder)
    return logits


def lite_scores(folder: Path, ds: data.Dataset) -> tuple[float, float]:
    """(accuracy, cross-entropy) on the test set of exactly what the app will run."""
    proba = LiteModel(folder / store.MODEL_FILES["cnn"]).predict(ds.x_test)
    check_outputs(proba)
    return metrics.accuracy_and_loss(ds.y_test, proba)


def logreg_weights(opened: Opened, scale: int) -> logreg.Weights:
    """The Logistic Regression as the app runs it: weights for features in [0, 1] (a model
    trained on 0-255 has the scale folded into its coefficients)."""
    model = opened.model
    return logreg.Weights((np.asarray(model.coef_, np.float64) * scale).astype(np.float32),
                          np.asarray(model.intercept_, np.float32), np.asarray(model.classes_))


# ---------------------------------------------------------------- the requests

def open_upload(request: dict) -> tuple[Opened, tuple[str, ...]]:
    """The opened model and the datasets that fit it (Refused when none does): the app's, the
    ones the page asks about too (`also`) and the one it is added to."""
    opened = OPENERS[request["format"]](request)
    also = (*request.get("also", ()), *([request["dataset"]] if "dataset" in request else []))
    return opened, check_fits(opened.input_shape, opened.outputs, also)


def inspect(request: dict) -> Inspection:
    """What the upload reads and gives, and the datasets that fit it."""
    opened, fits = open_upload(request)
    fmt = request["format"]
    return Inspection(request["file_name"], fmt, FORMATS[fmt], opened.input_shape, opened.outputs,
                      opened.params, len(request["data"]), opened.has_convolutions, fits)


def scoring_set(dataset: str, name: str) -> data.Dataset:
    """The test set of `dataset`, where the upload is scored (the canonical 10,000 for MNIST)."""
    try:
        return data.load(dataset, train_images=False)
    except data.DataError as e:
        raise UploadError(f"{name} could not be scored: {data.info(dataset).title}'s test images "
                          f"are not available here ({short(e)}).") from None


def add(request: dict) -> str:
    """Make what the app runs from the upload, score it on the dataset's test set and save it
    with the original file beside it; the new model's id."""
    opened, fits = open_upload(request)
    name, fmt, scale = request["file_name"], request["format"], request["scale"]
    wanted = data.info(request["dataset"])
    if wanted.key not in fits:
        raise Refused(f"it reads {shape_text(opened.input_shape)} and gives {opened.outputs} "
                      f"outputs, which do not fit {wanted.title}'s "
                      f"{shape_text(wanted.shape)} images and {len(wanted.class_names)} classes")
    ds = scoring_set(wanted.key, name)
    form = form_for(opened.input_shape, ds.name)
    folder = Path(request["scratch"]) / "runnable"
    folder.mkdir()
    kind, softmax_added = FORMATS[fmt], False
    if kind == "logreg":
        weights = logreg_weights(opened, scale)
        logreg.save_weights(weights, folder / store.MODEL_FILES["logreg"])
        accuracy, loss = logreg.scores(weights, logreg.flatten(ds.x_test), ds.y_test)
    else:
        make = tflite_runnable if fmt == ".tflite" else keras_runnable
        softmax_added = make(opened, ds, form, scale, folder)
        accuracy, loss = lite_scores(folder, ds)
    meta = uploaded_meta(request, opened, ds, form, softmax_added) | {
        "test_accuracy": accuracy, "test_loss": loss}
    original = f"model{fmt}"

    def write(target: Path) -> None:
        for file in folder.iterdir():
            (target / file.name).write_bytes(file.read_bytes())
        if not (target / original).exists():   # an uploaded .tflite is already model.tflite
            (target / original).write_bytes(request["data"])

    return store.save(meta, write, Path(request["root"])).id


def uploaded_meta(request: dict, opened: Opened, ds: data.Dataset, form: tuple,
                  softmax_added: bool) -> dict:
    """meta.json of an uploaded model: what the store and the pages read, as for a trained one."""
    from core.worker import versions

    name, fmt = request["file_name"], request["format"]
    return {"kind": FORMATS[fmt], "dataset": ds.name, "dataset_title": ds.title,
            "dataset_source": ds.source,
            "dataset_description": f"{ds.title} outside this app (uploaded as {name})",
            "input_shape": list(ds.shape), "class_names": list(ds.class_names),
            "test_size": int(len(ds.y_test)),
            "uploaded": {"file_name": name, "format": fmt, "bytes": len(request["data"]),
                         "scale": request["scale"], "input": list(form),
                         "softmax_added": softmax_added},
            "settings": {}, "history": [], "params": opened.params,
            "has_convolutions": opened.has_convolutions, "versions": versions()}


ACTIONS = {"inspect": inspect, "add": add}
