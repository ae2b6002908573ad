"""Predictions from Keras models without TensorFlow in the Streamlit server.

A `Predictor` owns one long-lived worker process that imports Keras once, keeps the
models it has loaded (Keras `safe_mode=True`: no Lambda layers or arbitrary code), and
answers requests over a pipe. A single drawing costs one `predict_on_batch` call
(~1 ms; `model.predict` costs ~49 ms per call) plus the pipe round trip. If the worker
dies it is started again on the next request.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from pathlib import Path

import numpy as np

from core.jobs import name_this_process, start_process

BIG_BATCH = 512   # above this, predict in batches so memory stays bounded
IDLE_EXIT_S = 600.0  # a worker nobody asked for this long exits and gives ~700 MiB back


class PredictError(Exception):
    """The model could not be loaded or run; the message says why in plain words."""


def _serve(conn, idle_exit_s: float = IDLE_EXIT_S) -> None:
    """Worker process: load models on demand and answer (path, images) requests."""
    name_this_process()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from core import cnn

    models: dict[tuple[str, float], keras.Model] = {}
    while True:
        try:
            if not conn.poll(idle_exit_s):
                return  # nobody has asked for a while; the next request starts a new worker
            request = conn.recv()
        except EOFError:
            return  # the server went away
        if request is None:  # a ping: Keras is imported, the worker is ready
            conn.send(("ok", None))
            continue
        path, x = request
        try:
            key = (path, os.path.getmtime(path))
            if key not in models:
                models[key] = keras.saving.load_model(path, safe_mode=True, compile=False)
            model, inputs = models[key], cnn.to_input(x)
            if len(inputs) <= BIG_BATCH:
                probs = np.asarray(model.predict_on_batch(inputs))
            else:
                probs = model.predict(inputs, batch_size=BIG_BATCH, verbose=0)
            conn.send(("ok", probs.astype(np.float32)))
        except Exception as e:  # noqa: BLE001 - every failure goes back to the caller
            conn.send(("error", f"{Path(path).parent.name}/{Path(path).name}: "
                                f"{type(e).__name__}: {e}"))


class Predictor:
    """Thread-safe client of the prediction worker; one per server."""

    def __init__(self, idle_exit_s: float = IDLE_EXIT_S):
        self.ctx = mp.get_context("spawn")
        self.idle_exit_s = idle_exit_s
        self._lock = threading.Lock()
        self._process = None
        self._conn = None

    def _ensure_running(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        if self._conn is not None:
            self._conn.close()  # the old worker's end; it has left
        parent, child = self.ctx.Pipe()
        self._process = start_process(self.ctx, _serve, "digitlab-predictor",
                                      (child, self.idle_exit_s))
        self._conn = parent

    def start(self) -> None:
        """Start the worker now, without waiting: TensorFlow's import takes a few seconds."""
        with self._lock:
            self._ensure_running()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the worker has imported Keras and answers."""
        self._request(None, timeout)

    def predict(self, model_file: str | os.PathLike, x: np.ndarray,
                timeout: float = 120.0) -> np.ndarray:
        """Class probabilities (N x 10) of the Keras model in `model_file` for images `x`."""
        return self._request((str(model_file), np.asarray(x)), timeout)

    def _request(self, message, timeout: float):
        with self._lock:
            for attempt in (1, 2):  # a worker that just left (idle, killed) is replaced once
                self._ensure_running()
                try:
                    self._conn.send(message)
                    if not self._conn.poll(timeout):
                        raise PredictError(f"the prediction worker gave no answer in {timeout:.0f} s")
                    status, payload = self._conn.recv()
                    break
                except (EOFError, OSError) as e:
                    self._process = None  # start a new one next time
                    if attempt == 2:
                        raise PredictError(f"the prediction worker stopped ({e}); try again") from None
                except PredictError:
                    self.close()
                    raise
        if status == "error":
            raise PredictError(payload)
        return payload

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        self._process = self._conn = None
