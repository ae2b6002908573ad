"""Run a trained CNN without TensorFlow: its LiteRT (.tflite) export on the LiteRT interpreter.

Every CNN the store saves is also exported to `model.tflite` (core.cnn.export_lite).
Answering needs only this small runtime: it loads in milliseconds, holds ~50 MiB
instead of TensorFlow's ~700 MiB, and answers one image in ~0.1 ms. Keras stays in
training workers. The interpreter checks the file is a valid FlatBuffer before using it,
and a .tflite file holds only TFLite operations: unlike a pickled or Lambda-laden model,
loading one never runs Python code from the file. An uploaded .tflite (core.uploads) runs
as uploaded, through an `Adapter` when it reads other inputs or gives logits.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK = 32     # images per interpreter call for batches: the cost per image was flat from
               # 16 to 256 here, and a small chunk wastes little padding on short batches
THREADS = 2    # for batches (10k test images: 0.7 s with 2 threads, 1.4 s with 1)
CONVOLUTIONS = {"CONV_2D", "DEPTHWISE_CONV_2D"}
ACTIVATIONS = {"RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "LOGISTIC", "TANH", "GELU",
               "HARD_SWISH", "ELU"}   # when the converter did not fuse it into the convolution


def to_input(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """N images (uint8 0-255, or float 0-1; N x H x W or N x H x W x C) -> N x H x W x C
    float32 in [0, 1], C and H x W from the model's `shape`."""
    x = np.asarray(x)
    if x.dtype == np.uint8:  # one float array, not two: 60,000 images are 188 MB as float32
        x = np.divide(x, np.float32(255), out=np.empty(x.shape, np.float32))
    return x.astype("float32", copy=False).reshape(-1, *shape)


@dataclass(frozen=True)
class Layer:
    """One convolution layer's output for one image, after its activation function."""

    title: str          # "Convolution 1: 32 filters of 3 x 3"
    maps: np.ndarray    # H x W x C float32, one map per filter


@dataclass(frozen=True)
class Inside:
    """What a CNN's layers made of one image, and what its first layer looks for."""

    layers: list[Layer]
    filters: np.ndarray  # F x kh x kw (grey input) or F x kh x kw x 3 (colour): first-layer
                         # kernels as the app runs them


ADAPTER_FILE = "adapter.json"   # beside an uploaded .tflite that reads other inputs (core.uploads)


@dataclass(frozen=True)
class Adapter:
    """How an uploaded .tflite runs like the app's own CNNs: the app's N x H x W x C images in
    [0, 1] reshaped to the file's input and scaled, and its logits made probabilities.

    Written by the upload worker beside such a file (the .tflite itself stays as uploaded, so
    it is what a person downloads); applied only in LiteModel._run.
    """

    shape: tuple[int, ...]    # H x W x C: one image as the app gives it (its dataset's)
    input: tuple[int, ...]    # one image as the file reads it: flat, H x W or H x W x C
    scale: float = 1.0        # 255 for a model trained on pixels 0-255
    softmax: bool = False     # its outputs are logits

    @classmethod
    def beside(cls, path: str | os.PathLike) -> Adapter | None:
        """The adapter written beside model file `path`, or None when it needs none."""
        file = Path(path).with_name(ADAPTER_FILE)
        if not file.is_file():
            return None
        raw = json.loads(file.read_text())
        return cls(tuple(int(n) for n in raw["shape"]), tuple(int(n) for n in raw["input"]),
                   float(raw["scale"]), bool(raw["softmax"]))

    def write(self, folder: Path) -> None:
        (folder / ADAPTER_FILE).write_text(json.dumps({"shape": self.shape, "input": self.input,
                                                       "scale": self.scale, "softmax": self.softmax}))

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """The app's images as the file reads them."""
        x = x.reshape(len(x), *self.input)
        return x * np.float32(self.scale) if self.scale != 1 else x

    def outputs(self, y: np.ndarray) -> np.ndarray:
        """The file's outputs as class probabilities."""
        if not self.softmax:
            return y
        exp = np.exp(y - y.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


def _interpreter(path: str | os.PathLike, batch: int, threads: int = 1, keep_all=False):
    """A LiteRT interpreter for `path` with its input sized for `batch` images.

    keep_all keeps every intermediate tensor readable after a run (for feature maps).
    """
    from ai_edge_litert.interpreter import Interpreter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # keep_all is "for debugging": it costs memory
        interpreter = Interpreter(model_path=str(path), num_threads=threads,
                                  experimental_preserve_all_tensors=keep_all)
    entry = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(entry["index"], [batch, *entry["shape"][1:]])
    interpreter.allocate_tensors()
    return interpreter


class LiteModel:
    """A CNN's .tflite file, ready to give class probabilities for any number of images.

    It keeps two interpreters: one sized for a single image (a drawing) and, once needed,
    one sized for CHUNK images (a test set), because resizing an interpreter's input
    costs ~30 ms. Not thread-safe: one caller at a time (core.predictor's worker).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = path
        self.adapter = Adapter.beside(path)
        self._one = _interpreter(path, 1)
        self._chunk = self._inspect = None
        entry, exit_ = self._one.get_input_details()[0], self._one.get_output_details()[0]
        reads = tuple(int(n) for n in entry["shape"][1:])   # one image as the file reads it
        readable = reads == self.adapter.input if self.adapter else len(reads) == 3
        answers = tuple(int(n) for n in exit_["shape"])   # (1, classes)
        if not readable or len(answers) != 2 or answers[0] != 1 or answers[1] < 2:
            raise ValueError(f"it is not a model for images and 2 or more classes (input "
                             f"{list(entry['shape'])}, output {list(exit_['shape'])})")
        self.shape = self.adapter.shape if self.adapter else reads   # H x W x C the app gives
        self.classes = answers[1]                                    # probabilities per image
        self._input, self._output = entry["index"], exit_["index"]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """N x classes float32 probabilities for N images of the model's shape."""
        inputs = to_input(x, self.shape)
        if len(inputs) == 1:
            return self._run(self._one, inputs)
        if self._chunk is None:
            self._chunk = _interpreter(self.path, CHUNK, THREADS)
        out = np.empty((len(inputs), self.classes), np.float32)
        for start in range(0, len(inputs), CHUNK):
            part = inputs[start:start + CHUNK]
            if len(part) < CHUNK:  # the last chunk is padded: same shape, no resize
                part = np.concatenate([part, np.zeros((CHUNK - len(part), *self.shape), np.float32)])
            out[start:start + CHUNK] = self._run(self._chunk, part)[:len(out) - start]
        return out

    def inside(self, x: np.ndarray) -> Inside:
        """Every convolution's activated output for one image, and the first layer's kernels.

        Read from the same .tflite the app predicts with (no second export): batch
        normalisation is folded into the convolutions there, so these are the numbers
        the model computes.
        """
        if self._inspect is None:
            self._inspect = _interpreter(self.path, 1, keep_all=True)
        self._run(self._inspect, to_input(x, self.shape)[:1])
        ops = [op for op in self._inspect._get_ops_details() if op["op_name"] != "DELEGATE"]
        convs = [op for op in ops if op["op_name"] in CONVOLUTIONS]
        if not convs:
            raise ValueError("the model has no convolution layers to show")
        kernels = [self._inspect.get_tensor(op["inputs"][1]) for op in convs]  # F x kh x kw x C
        layers = []
        for n, (op, kernel) in enumerate(zip(convs, kernels), start=1):
            maps = self._inspect.get_tensor(activated(op, ops))[0].copy()
            layers.append(Layer(f"Convolution {n}: {maps.shape[-1]} filters of "
                                f"{kernel.shape[1]} x {kernel.shape[2]}", maps))
        first = kernels[0]
        return Inside(layers, (first[..., 0] if first.shape[-1] == 1 else first).copy())

    def _run(self, interpreter, inputs: np.ndarray) -> np.ndarray:
        if self.adapter:
            inputs = self.adapter.inputs(inputs)
        interpreter.set_tensor(self._input, inputs)
        interpreter.invoke()
        outputs = interpreter.get_tensor(self._output).copy()
        return self.adapter.outputs(outputs) if self.adapter else outputs


def activated(conv: dict, ops: list[dict]) -> int:
    """The tensor after a convolution's activation: its own output when the activation is
    fused into it (the usual case), else the output of the activation op that reads it."""
    out = conv["outputs"][0]
    after = next((op for op in ops if out in op["inputs"] and op["op_name"] in ACTIVATIONS), None)
    return after["outputs"][0] if after else out
