"""CNN predictions in a small worker process, beside the Streamlit server.

A `Predictor` owns one long-lived worker that runs CNNs from their LiteRT exports
(core.lite: no TensorFlow, ~0.1 ms per image), keeps the models it has loaded, and
answers requests over a pipe. Running them outside the server keeps the server small
and means a model file that crashes the native runtime takes only the worker down;
if the worker dies it is started again on the next request.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from pathlib import Path

import numpy as np

from core.processes import name_this_process, start_process
from core.lite import Inside

IDLE_EXIT_S = 600.0  # a worker nobody asked for this long exits and gives its memory back


class PredictError(Exception):
    """The model could not be loaded or run; the message says why in plain words."""


METHODS = ("predict", "inside")   # of core.lite.LiteModel, the requests the worker answers


def _serve(conn, idle_exit_s: float = IDLE_EXIT_S) -> None:
    """Worker process: load models on demand and answer (method, path, images) requests."""
    name_this_process()
    from core.lite import LiteModel

    models: dict[tuple[str, float], LiteModel] = {}
    while True:
        try:
            if not conn.poll(idle_exit_s):
                return  # nobody has asked for a while; the next request starts a new worker
            request = conn.recv()
        except EOFError:
            return  # the server went away
        if request is None:  # a ping: the worker is ready
            conn.send(("ok", None))
            continue
        method, path, x = request
        try:
            if method not in METHODS:
                raise ValueError(f"no such request: {method!r}")
            key = (path, os.path.getmtime(path))
            if key not in models:
                models[key] = LiteModel(path)
            conn.send(("ok", getattr(models[key], method)(x)))
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
        """Start the worker now, without waiting, so the first prediction does not wait for it."""
        with self._lock:
            self._ensure_running()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the worker has started and answers."""
        self._request(None, timeout)

    def predict(self, model_file: str | os.PathLike, x: np.ndarray,
                timeout: float = 120.0) -> np.ndarray:
        """Class probabilities (N x its classes) of the CNN in `model_file` (.tflite) for images `x`."""
        return self._request(("predict", str(model_file), np.asarray(x)), timeout)

    def inside(self, model_file: str | os.PathLike, x: np.ndarray,
               timeout: float = 120.0) -> Inside:
        """Feature maps and first-layer filters of the CNN in `model_file` for one image."""
        return self._request(("inside", str(model_file), np.asarray(x)), timeout)

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
