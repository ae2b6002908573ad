"""What an uploaded model file may be, checked from its bytes alone (no model library opens it).

The formats the app accepts, the limits a file must keep, the Keras layers and skops types a
file may name, and the words that say why a file is refused. The server runs `precheck`;
the upload worker (core.upload_worker) runs the config and type checks before it loads a model.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.datasets import DATASETS, info
from core.images import MAX_FILE_BYTES

FORMATS = {".keras": "cnn", ".h5": "cnn", ".tflite": "cnn", ".skops": "logreg"}  # key -> kind
ALIASES = {".hdf5": ".h5"}
EXTENSIONS = (*FORMATS, *ALIASES)   # what the page's file picker offers
PICKLED = (".pkl", ".pickle", ".joblib", ".sav", ".pt", ".pth", ".dill", ".p", ".pck", ".pkl.gz",
           ".joblib.gz")
SCALES = (1, 255)   # the pixel values a model was trained on: 0-1 or 0-255

MAX_BYTES = MAX_FILE_BYTES        # the app's upload limit, as for images
MAX_ZIP_ENTRIES = 100           # a .keras file has 3, a Logistic Regression's .skops ~6
MAX_UNZIPPED = 2 * MAX_BYTES    # weights barely compress: a model unpacks to about its size
MAX_RATIO = 100                 # an entry over RATIO_FROM bytes packed tighter is a zip bomb
RATIO_FROM = 2**20

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_OFFSETS = (0, *(512 << i for i in range(16)))   # where HDF5 allows its superblock
ZIP_SIGNATURE = b"PK\x03\x04"
TFLITE_ID = b"TFL3"             # a TFLite FlatBuffer's identifier, at bytes 4-8
ZIP_MEMBERS = {".keras": "config.json", ".skops": "schema.json"}   # the entry each must have

# Keras layers an uploaded model may contain: built-in ones that compute, never run code.
KERAS_LAYERS = frozenset({
    "Sequential", "Functional", "Model", "InputLayer",
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D",
    "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    "Dense", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "GaussianNoise",
    "GaussianDropout", "BatchNormalization", "LayerNormalization",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Rescaling",
    "ZeroPadding2D", "Cropping2D", "Add", "Concatenate", "Average", "Maximum", "Multiply",
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
})
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})   # run Python from the file
CONVOLUTIONS = frozenset({"Conv2D", "SeparableConv2D", "DepthwiseConv2D"})
KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras")

# Types a .skops file may ask for: scikit-learn's LogisticRegression and what its arrays need.
SKOPS_TYPES = frozenset({
    "sklearn.linear_model._logistic.LogisticRegression", "numpy.ndarray", "numpy.dtype",
    *(f"numpy.{t}" for t in ("float64", "float32", "float16", "int64", "int32", "int16",
                             "int8", "uint8", "bool_", "str_")),
    *(f"builtins.{t}" for t in ("dict", "list", "tuple", "str", "int", "float", "bool",
                                "NoneType")),
})


class UploadError(Exception):
    """An upload that cannot be added; the message is one sentence fit for a page."""


class Refused(Exception):
    """Why a file is refused, as a clause ("it contains a Lambda layer, ..."); raised where the
    file is read and turned into an UploadError that names the file."""


@dataclass(frozen=True)
class Inspection:
    """What an uploaded model is, read by the worker: enough for the page to ask the rest."""

    file_name: str
    format: str                         # a key of FORMATS
    kind: str                           # "cnn" or "logreg"
    input_shape: tuple                  # one input as the model reads it: (H, W, C), (H, W) or flat
    outputs: int
    params: int
    bytes: int
    has_convolutions: bool
    fits: tuple[str, ...]               # datasets whose images it reads, MNIST first

    @property
    def suggested(self) -> str:
        """The dataset to preselect: the first that fits (MNIST for grey 28 x 28)."""
        return self.fits[0]

    @property
    def summary(self) -> str:
        """One line for the page: "A CNN with convolutions: reads 28 x 28 x 1, 10 outputs, ..."."""
        what = ("A Logistic Regression" if self.kind == "logreg" else "A CNN with convolutions"
                if self.has_convolutions else "A neural network without convolutions")
        return (f"{what}: reads {shape_text(self.input_shape)}, gives {self.outputs} outputs, "
                f"{self.params:,} parameters, {self.bytes / 1024:,.0f} KB.")


# ---------------------------------------------------------------- words

def display_name(file_name: str) -> str:
    """The upload's name as pages and meta.json show it: no folders, no markup, not too long."""
    name = re.sub(r"[^\w .()+-]", "_", Path(str(file_name)).name)[:80]
    return name or "the file"


def refused(name: str, reason: str) -> UploadError:
    return UploadError(f"{display_name(name)} was refused: {reason}.")


def shape_text(shape: tuple) -> str:
    """(H, W, C) -> "H x W x C"; a flat (N,) -> "N numbers"; unknown sizes as "?"."""
    dims = ["?" if d is None else f"{d:,}" for d in shape]
    return f"{dims[0]} numbers" if len(dims) == 1 else " x ".join(dims)


def shown(text) -> str:
    """A name read from a file, safe to put in a sentence (no markup, not too long)."""
    return re.sub(r"[^\w.>-]", "_", str(text))[:60]


# ---------------------------------------------------------------- precheck (server)

def precheck(file_name: str, data: bytes) -> str:
    """The format key of an upload, from its name and bytes alone (nothing is parsed but a
    zip directory); UploadError when it is not a file the app accepts."""
    lower = str(file_name).lower()
    if lower.endswith(PICKLED) or looks_pickled(data):
        raise refused(file_name, "pickle and joblib files run code from the file when they are "
                                 "loaded, so this app never opens them (save a scikit-learn model "
                                 "with skops.io.dump and a Keras model with model.save)")
    suffix = Path(lower).suffix
    fmt = ALIASES.get(suffix, suffix)
    if fmt not in FORMATS:
        raise refused(file_name, f"the app accepts {', '.join(EXTENSIONS[:-1])} and "
                                 f"{EXTENSIONS[-1]} files only")
    if not data:
        raise refused(file_name, "it is empty")
    if len(data) > MAX_BYTES:
        raise refused(file_name, f"it is {len(data) / 2**20:,.1f} MB, more than the "
                                 f"{MAX_BYTES / 2**20:,.0f} MB the app accepts")
    try:
        SIGNATURE_CHECKS[fmt](data)
        if fmt in ZIP_MEMBERS:
            check_zip(data, ZIP_MEMBERS[fmt])
    except Refused as e:
        raise refused(file_name, str(e)) from None
    return fmt


def looks_pickled(data: bytes) -> bool:
    """Whether the bytes start like a pickle (protocol 2 to 5), whatever the file's name."""
    return len(data) > 2 and data[0] == 0x80 and 2 <= data[1] <= 5


def check_hdf5(data: bytes) -> None:
    if not any(data[at:at + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE
               for at in HDF5_OFFSETS if at < len(data)):
        raise Refused("it is not an HDF5 file, which an .h5 Keras model is")


def check_zip_signature(data: bytes) -> None:
    if not data.startswith(ZIP_SIGNATURE):
        raise Refused("it is not a zip archive, which .keras and .skops files are")


def check_tflite(data: bytes) -> None:
    if data[4:8] != TFLITE_ID:
        raise Refused("it is not a LiteRT (TensorFlow Lite) model: it lacks the TFL3 mark")


SIGNATURE_CHECKS = {".h5": check_hdf5, ".keras": check_zip_signature,
                    ".skops": check_zip_signature, ".tflite": check_tflite}


def check_zip(data: bytes, member: str) -> None:
    """Refuse a damaged archive or a zip bomb from its central directory, before anything
    is inflated: too many entries, too many bytes unpacked, or an entry packed too tightly."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refused("it is damaged or incomplete: its zip directory cannot be read") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Refused(f"it holds {len(entries):,} files, more than the {MAX_ZIP_ENTRIES} a model "
                      "needs")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_UNZIPPED:
        raise Refused(f"it would unpack to {unpacked / 2**20:,.0f} MB, more than the "
                      f"{MAX_UNZIPPED / 2**20:,.0f} MB allowed (a zip bomb?)")
    packed = next((e for e in entries if e.file_size > RATIO_FROM
                   and e.file_size > MAX_RATIO * max(e.compress_size, 1)), None)
    if packed is not None:
        raise Refused(f"{shown(packed.filename)} inside it is packed over {MAX_RATIO} times "
                      "tighter than model weights can be (a zip bomb?)")
    names = {e.filename for e in entries}
    if any(n.lower().endswith(PICKLED) for n in names):
        raise Refused("it holds pickled files, which run code when they are loaded")
    if member not in names:
        raise Refused(f"it is a zip archive without {member}, so not a model of its kind")


# ---------------------------------------------------------------- which datasets fit

def accepted_inputs(shape: tuple[int, int, int]) -> list[tuple[int, ...]]:
    """The inputs a model may read for images of `shape`: H x W x C, H x W (grey) or flat."""
    h, w, c = shape
    return [(h, w, c), *([(h, w)] if c == 1 else []), (h * w * c,)]


def form_for(model_input: tuple, dataset: str) -> tuple[int, ...] | None:
    """The accepted input of `dataset` that a model reading `model_input` takes (unknown
    sizes, None, match any), or None when it takes none."""
    return next((form for form in accepted_inputs(info(dataset).shape)
                 if len(form) == len(model_input)
                 and all(m is None or m == d for m, d in zip(model_input, form))), None)


def candidates(also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The datasets an upload may be for: the app's own, then `also` (e.g. the dataset a
    person has chosen, one they made, with its own classes)."""
    return (*DATASETS, *(key for key in also if key not in DATASETS))


def fitting(model_input: tuple, outputs: int, also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The datasets, in the app's order, whose images the model reads and classes it scores:
    one output per class of the dataset."""
    return tuple(key for key in candidates(also)
                 if form_for(model_input, key) and outputs == len(info(key).class_names))


def accepted_text(also: tuple[str, ...] = ()) -> str:
    """The input shapes each dataset accepts, in words ("MNIST and Fashion-MNIST: …; CIFAR-10: …")."""
    by_shape: dict[tuple, list[str]] = {}
    for d in map(info, candidates(also)):
        by_shape.setdefault(d.shape, []).append(d.title)
    parts = []
    for shape, titles in by_shape.items():
        forms = [shape_text(f) for f in accepted_inputs(shape)]
        parts.append(f"{' and '.join(titles)}: {', '.join(forms[:-1])} or {forms[-1]}")
    return "; ".join(parts)


def check_fits(model_input: tuple, outputs: int, also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The datasets that fit the model (the app's, and `also`), or Refused saying why none does."""
    if not any(form_for(model_input, key) for key in candidates(also)):
        raise Refused(f"it reads inputs of {shape_text(model_input)}, which fit none of the "
                      f"app's datasets ({accepted_text(also)})")
    fits = fitting(model_input, outputs, also)
    if not fits:
        classes = sorted({len(info(key).class_names) for key in candidates(also)})
        raise Refused(f"it gives {outputs} outputs, but one per class is needed and the app's "
                      f"datasets have {' or '.join(map(str, classes))} classes")
    return fits


# ---------------------------------------------------------------- what a file may name

def keras_layers(config: dict) -> list[dict]:
    """Every layer entry of a Keras model config, the layers of nested models included."""
    found, todo = [], [config]
    while todo:
        entry = todo.pop()
        found.append(entry)
        inner = entry.get("config")
        layers = inner.get("layers") if isinstance(inner, dict) else inner   # old: a list
        todo += [layer for layer in (layers if isinstance(layers, list) else [])
                 if isinstance(layer, dict)]
    return found


def nested_dicts(value) -> list[dict]:
    """Every dict inside a JSON value, at any depth."""
    found, todo = [], [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            found.append(item)
            todo += item.values()
        elif isinstance(item, list):
            todo += item
    return found


def is_keras_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def check_keras_config(config) -> None:
    """Refuse a Keras model config that names anything but built-in layers of KERAS_LAYERS,
    or a Python function anywhere, before the model is loaded at all."""
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential", "Functional",
                                                                         "Model"):
        raise Refused("its config describes no Keras model (no Sequential or Functional model)")
    for layer in keras_layers(config):
        name = layer.get("class_name")
        if name in CODE_LAYERS:
            raise Refused(f"it contains a {name} layer, which would run code from the file")
        module, registered = layer.get("module"), layer.get("registered_name")
        if (name not in KERAS_LAYERS or (isinstance(module, str) and not is_keras_module(module))
                or registered not in (None, name)):
            raise Refused(f"it contains {shown(name)}, a layer that is not one of the built-in "
                          "Keras layers this app accepts")
    for item in nested_dicts(config.get("config")):
        if item.get("class_name") == "__lambda__" or item.get("function_type") == "lambda":
            raise Refused("it holds a Python function (a lambda), which would run code from "
                          "the file")
        module = item.get("module")
        if isinstance(module, str) and not is_keras_module(module):
            raise Refused(f"it refers to {shown(module)}.{shown(item.get('class_name'))}, "
                          "which is not part of Keras")


def has_convolutions(config: dict) -> bool:
    return any(layer.get("class_name") in CONVOLUTIONS for layer in keras_layers(config))


def skops_types(schema) -> set[str]:
    """Every type a .skops file's schema.json asks for, as "module.Class"."""
    return {f"{item['__module__']}.{item['__class__']}" for item in nested_dicts(schema)
            if "__module__" in item and "__class__" in item}


def check_skops_types(types: set[str]) -> None:
    others = sorted(types - SKOPS_TYPES)
    if others:
        raise Refused(f"it asks for types this app does not load: {', '.join(map(shown, others))} "
                      "(only scikit-learn's LogisticRegression and NumPy arrays are trusted)")
