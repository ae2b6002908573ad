"""How a stored model answers: a CNN in the LiteRT prediction worker, a Logistic Regression
from its weights, in this process.

The server holds one `Serving`; pages ask it for probabilities, a CNN's layers or a Logistic
Regression's weights without caring which kind of model they have.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from core import logreg, store
from core.lite import Inside
from core.predictor import PredictError, Predictor

# What using a stored model can raise, each with a message fit for a page.
PROBLEMS = (store.StoreError, PredictError, ValueError, OSError)
KEEP_WEIGHTS = 16   # Logistic Regressions kept loaded (a few KB to a few hundred KB each)


class Serving:
    """Answers for every stored model; thread-safe, one per server."""

    def __init__(self, predictor: Predictor | None = None):
        self.predictor = predictor or Predictor()
        self._weights: OrderedDict[tuple, logreg.Weights] = OrderedDict()
        self._lock = threading.Lock()

    def warm_up(self, models: list[store.ModelInfo]) -> None:
        """Start the CNN worker now if any of `models` will need it, so it is ready in time."""
        if any(m.kind == "cnn" for m in models):
            self.predictor.start()

    def weights(self, model: store.ModelInfo) -> logreg.Weights:
        """A Logistic Regression's weights, read once per version of its file."""
        key = model.version
        with self._lock:
            if key in self._weights:
                self._weights.move_to_end(key)
                return self._weights[key]
        loaded = store.load_logreg(model)
        with self._lock:
            self._weights[key] = loaded
            while len(self._weights) > KEEP_WEIGHTS:
                self._weights.popitem(last=False)
        return loaded

    def predict_proba(self, model: store.ModelInfo, x: np.ndarray) -> np.ndarray:
        """N x C class probabilities of `model` (C: its classes) for N images of its shape.

        Raises one of PROBLEMS with a message fit for the page.
        """
        if model.kind == "logreg":
            return logreg.predict_proba(self.weights(model), x)
        return self.predictor.predict(model.file, x)

    def inside(self, model: store.ModelInfo, image: np.ndarray) -> Inside:
        """A CNN's feature maps for one image and its first-layer filters."""
        return self.predictor.inside(model.file, np.asarray(image)[None])
