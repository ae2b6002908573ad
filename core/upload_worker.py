"""The upload worker: the one process that opens an uploaded model file (core.uploads).

Spawned for one request and watched by the server for time and memory. A Keras file's
config is read as JSON and checked (core.uploads.check_keras_config) before Keras is even
imported; the model then loads with safe_mode=True, compile=False and no custom objects.
A .skops file's types are checked against core.uploads.SKOPS_TYPES before skops reads it.
A .tflite file runs on the LiteRT interpreter, which runs TFLite operations only.
What the app runs is then made and scored here, as for a model it trained (core.worker):
a CNN as a LiteRT file taking N x H x W x C images in [0, 1] and giving probabilities, a
Logistic Regression as its weights for features in [0, 1].
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import data, logreg, metrics, store
from core.lite import CONVOLUTIONS as LITE_CONVOLUTIONS, Adapter, LiteModel
from core.processes import name_this_process
from core.uploads import (FORMATS, Inspection, Refused, UploadError, check_fits,
                          check_keras_config, check_skops_types, form_for, has_convolutions,
                          shape_text, skops_types)

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


def short(e: BaseException) -> str:
    """An exception in one line of plain words, for a sentence on a page."""
    text = re.sub(r"[\[\]<>*`|#]", " ", f"{type(e).__name__}: {e}")
    return " ".join(text.split())[:200]


@dataclass(frozen=True)
class Opened:
    """An uploaded model, read: what it reads and gives, and the loaded model itself."""

    input_shape: tuple      # one input, as the model reads it
    outputs: int
    params: int
    has_convolutions: bool
    model: object           # a keras.Model, the .tflite bytes, or a LogisticRegression


# ---------------------------------------------------------------- reading each format

def saved_upload(request: dict) -> Path:
    """The upload as a file in the worker's scratch folder (Keras and h5py read paths)."""
    path = Path(request["scratch"]) / f"upload{request['format']}"
    path.write_bytes(request["data"])
    return path


def keras_config(path: Path, fmt: str) -> dict:
    """A Keras file's model config, read as plain JSON without Keras: config.json in a
    .keras zip, the model_config attribute of an .h5 file."""
    if fmt == ".keras":
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("config.json")
    else:
        import h5py
        try:
            with h5py.File(path, "r") as f:
                raw = f.attrs.get("model_config")
        except OSError:
            raise Refused("it is damaged or incomplete: h5py cannot open it") from None
        if raw is None:
            raise Refused("it is an HDF5 file but not a whole Keras model (no model config: it "
                          "may hold weights only; save the model with model.save)")
    try:
        return json.loads(raw)
    except (ValueError, TypeError) as e:
        raise Refused(f"its model config is not valid JSON ({short(e)})") from None


def open_keras(request: dict) -> Opened:
    """Check a .keras or .h5 file's config, then load it safely: no code from the file runs."""
    path = saved_upload(request)
    config = keras_config(path, request["format"])
    check_keras_config(config)
    import keras

    try:
        model = keras.saving.load_model(path, custom_objects=None, compile=False, safe_mode=True)
        inputs, outputs = model.inputs, model.outputs
    except Exception as e:  # noqa: BLE001 - truncated weights, unbuilt model, bad config ...
        raise Refused(f"Keras cannot load it ({short(e)})") from None
    if len(inputs) != 1 or len(outputs) != 1:
        raise Refused(f"it has {len(inputs)} inputs and {len(outputs)} outputs; the app gives a "
                      "model one image and reads one list of class scores")
    out = tuple(outputs[0].shape[1:])
    if len(out) != 1 or out[0] is None:
        raise Refused(f"it gives {shape_text(out)} outputs for each image, not one list of "
                      "class scores")
    check_weights([keras.ops.convert_to_numpy(w) for w in model.weights])
    return Opened(tuple(inputs[0].shape[1:]), int(out[0]), int(model.count_params()),
                  has_convolutions(config), model)


def check_weights(arrays: list[np.ndarray]) -> None:
    if any(np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all() for a in arrays):
        raise Refused("its weights hold NaN or infinite values, so it cannot give answers")


def open_tflite(request: dict) -> Opened:
    """Read a .tflite file's input, output and operations on the LiteRT interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_content=request["data"])
        ins, outs = interpreter.get_input_details(), interpreter.get_output_details()
        ops = interpreter._get_ops_details()
    except (ValueError, RuntimeError) as e:
        raise Refused(f"LiteRT cannot read it: it is damaged or incomplete ({short(e)})") from None
    if len(ins) != 1 or len(outs) != 1:
        raise Refused(f"it has {len(ins)} inputs and {len(outs)} outputs; the app gives a model "
                      "one image and reads one list of class scores")
    entry, exit_ = ins[0], outs[0]
    if entry["dtype"] != np.float32 or exit_["dtype"] != np.float32:
        raise Refused(f"it reads {np.dtype(entry['dtype']).name} and gives "
                      f"{np.dtype(exit_['dtype']).name} numbers (a quantised model?); the app "
                      "runs models with float32 input and output")
    if any(int(d) < 0 for d in entry.get("shape_signature", entry["shape"])[1:]):
        raise Refused("its input size is not fixed, so the app cannot tell which images it reads")
    out = tuple(int(d) for d in exit_["shape"][1:])
    if len(out) != 1:
        raise Refused(f"it gives {shape_text(out)} outputs for each image, not one list of "
                      "class scores")
    return Opened(tuple(int(d) for d in entry["shape"][1:]), out[0], lite_params(interpreter, ops),
                  any(op["op_name"] in LITE_CONVOLUTIONS for op in ops), request["data"])


def lite_params(interpreter, ops: list[dict]) -> int:
    """Numbers stored in a .tflite file's weight tensors (constants read by its operations)."""
    made = {t for op in ops for t in op["outputs"]}
    read = {t for op in ops for t in op["inputs"]} - made - {d["index"] for d in
                                                            interpreter.get_input_details()}
    return sum(int(np.prod(t["shape"])) for t in interpreter.get_tensor_details()
               if t["index"] in read and t["dtype"] != np.int32)   # int32: shapes, not weights


def open_skops(request: dict) -> Opened:
    """Load a .skops file's LogisticRegression, trusting no type outside SKOPS_TYPES."""
    try:
        with zipfile.ZipFile(io.BytesIO(request["data"])) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise Refused(f"its schema.json cannot be read ({short(e)})") from None
    check_skops_types(skops_types(schema))
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    try:
        asked = sio.get_untrusted_types(data=request["data"])
        check_skops_types(set(asked))
        estimator = sio.loads(request["data"], trusted=asked)
    except Refused:
        raise
    except Exception as e:  # noqa: BLE001 - damaged arrays, versions, ...
        raise Refused(f"skops cannot load it ({short(e)})") from None
    if not isinstance(estimator, LogisticRegression):
        raise Refused(f"it holds a {type(estimator).__name__}, not a LogisticRegression")
    if not hasattr(estimator, "coef_"):
        raise Refused("its LogisticRegression was never fitted")
    coef, intercept = np.asarray(estimator.coef_), np.asarray(estimator.intercept_)
    classes = np.asarray(estimator.classes_)
    if coef.ndim != 2 or intercept.shape != (len(coef),):
        raise Refused(f"its coefficients ({shape_text(coef.shape)}) and intercepts "
                      f"({shape_text(intercept.shape)}) do not go together")
    if len(coef) == len(classes) and not np.array_equal(classes, np.arange(len(classes))):
        raise Refused(f"its classes are {', '.join(map(str, classes[:12]))}, not the label "
                      f"numbers 0 to {len(classes) - 1} that the app's datasets use")
    check_weights([coef.astype(np.float64), intercept.astype(np.float64)])
    return Opened((coef.shape[1],), len(classes), int(coef.size + intercept.size), False, estimator)


OPENERS = {".keras": open_keras, ".h5": open_keras, ".tflite": open_tflite, ".skops": open_skops}


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
    """The opened model and the datasets that fit it (Refused when none does)."""
    opened = OPENERS[request["format"]](request)
    return opened, check_fits(opened.input_shape, opened.outputs)


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
            "input_shape": list(ds.shape), "test_size": int(len(ds.y_test)),
            "uploaded": {"file_name": name, "format": fmt, "bytes": len(request["data"]),
                         "scale": request["scale"], "input": list(form),
                         "softmax_added": softmax_added},
            "settings": {}, "history": [], "params": opened.params,
            "has_convolutions": opened.has_convolutions, "versions": versions()}


ACTIONS = {"inspect": inspect, "add": add}
