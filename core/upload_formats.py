"""Opening an uploaded model file, per format, inside the upload worker (core.upload_worker).

A Keras file's config is read as JSON and checked (core.upload_rules.check_keras_config)
before Keras is even imported; the model then loads with safe_mode=True, compile=False and
no custom objects. A .skops file's types are checked against core.upload_rules.SKOPS_TYPES
before skops reads it. A .tflite file runs on the LiteRT interpreter, which runs TFLite
operations only. Each opener gives an `Opened`, or raises Refused saying why.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.lite import CONVOLUTIONS as LITE_CONVOLUTIONS
from core.upload_rules import (Refused, check_keras_config, check_skops_types, has_convolutions,
                               shape_text, skops_types)


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
