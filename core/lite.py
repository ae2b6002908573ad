"""Run a trained CNN without TensorFlow: its LiteRT (.tflite) export on the LiteRT interpreter.

Every CNN the store saves is also exported to `model.tflite` (core.cnn.export_lite).
Reading digits needs only this small runtime: it loads in milliseconds, holds ~50 MiB
instead of TensorFlow's ~700 MiB, and answers one image in ~0.1 ms. Keras stays in
training workers. The interpreter checks the file is a valid FlatBuffer before using it,
and a .tflite file holds only TFLite operations: unlike a pickled or Lambda-laden model,
loading one never runs Python code from the file.
"""

from __future__ import annotations

import os

import numpy as np

CHUNK = 256    # images per interpreter call for big batches: bounded memory, full speed
THREADS = 2    # for big batches (10k test images: 0.7 s with 2 threads, 1.4 s with 1)


def to_input(x: np.ndarray) -> np.ndarray:
    """N x 28 x 28 images (uint8 0-255, or float 0-1) -> N x 28 x 28 x 1 float32 in [0, 1]."""
    x = np.asarray(x)
    if x.dtype == np.uint8:  # one float array, not two: 60,000 images are 188 MB as float32
        x = np.divide(x, np.float32(255), out=np.empty(x.shape, np.float32))
    return x.astype("float32", copy=False).reshape(-1, 28, 28, 1)


def _interpreter(path: str | os.PathLike, batch: int, threads: int = 1):
    """A LiteRT interpreter for `path` with its input sized for `batch` images."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], [batch, 28, 28, 1])
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
        self._one = _interpreter(path, 1)
        self._chunk = None
        entry, exit_ = self._one.get_input_details()[0], self._one.get_output_details()[0]
        if tuple(entry["shape"]) != (1, 28, 28, 1) or tuple(exit_["shape"]) != (1, 10):
            raise ValueError("it is not a model for 28 x 28 images and 10 classes")
        self._input, self._output = entry["index"], exit_["index"]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """N x 10 float32 probabilities for N x 28 x 28 images."""
        inputs = to_input(x)
        if len(inputs) == 1:
            return self._run(self._one, inputs)
        if self._chunk is None:
            self._chunk = _interpreter(self.path, CHUNK, THREADS)
        out = np.empty((len(inputs), 10), np.float32)
        for start in range(0, len(inputs), CHUNK):
            part = inputs[start:start + CHUNK]
            if len(part) < CHUNK:  # the last chunk is padded: same shape, no resize
                part = np.concatenate([part, np.zeros((CHUNK - len(part), 28, 28, 1), np.float32)])
            out[start:start + CHUNK] = self._run(self._chunk, part)[:len(out) - start]
        return out

    def _run(self, interpreter, inputs: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(self._input, inputs)
        interpreter.invoke()
        return interpreter.get_tensor(self._output).copy()
