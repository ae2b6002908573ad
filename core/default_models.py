"""Train the built-in models shipped in assets/models/, so the Draw page works on a fresh start.

    make models        (= .venv/bin/python -m core.default_models)

Both are trained through the same job runner as the Train page, on the canonical MNIST the
app carries (54,001 training / 5,999 validation images: a stratified 10 % held out) and scored
on its 10,000 test images; their answers on those are kept beside them (core.scorecard).
Both learn with augmentation, so that digits drawn in a browser, never as tidy as MNIST's,
are read well: the CNN with random rotation, shift and zoom, the Logistic Regression with
one-pixel shifted copies.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from core import jobs, kinds, store
from core.kinds import Spec

SPECS = {
    "cnn-default": kinds.recipe_spec("Deeper", "mnist", augment=True, epochs=30),
    "logreg-default": Spec("logreg", "mnist", C=0.1, epochs=15, augment=True),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runner = jobs.JobRunner(tmp)
        for name, spec in SPECS.items():
            job = runner.wait(runner.start(spec).id)
            if job.status != "done":
                sys.exit(f"{name}: {job.status}: {job.error}")
            trained = store.get(job.model_id, Path(tmp))
            target = store.BUILTIN_ROOT / name
            meta = trained.meta | {"id": name, "trained_by": "python -m core.default_models"}
            meta.pop("trained_on", None)   # made by a developer's `make models`, not by a server
            (trained.path / "meta.json").write_text(json.dumps(meta, indent=2))
            (trained.path / "model.h5").unlink(missing_ok=True)  # the .keras file is enough here
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(trained.path, target)
            size = sum(f.stat().st_size for f in target.iterdir()) / 1e6
            print(f"{name}: {meta['test_accuracy']:.2%} on the {meta['test_size']:,} test images, "
                  f"{meta['train_seconds']:.0f} s, {size:.2f} MB -> {target}")


if __name__ == "__main__":
    main()
