"""Transfer learning on a small dataset of one's own making: LR, CNN from scratch, CNN from
the built-in MNIST CNN.

    .venv/bin/python benchmarks/transfer.py [--seeds 3] [--letters BEFPR] [--sloppy]

For each seed, tests/letters.py draws 5 letters (A E K R X, or those given) x 30 sketches
(`--sloppy`: bent and partly rubbed out, tests/letters.py's `messy`)
into a made sketch dataset (its fixed test split: 6 per class, 30 examples); each model trains as the app's worker
trains it (core.worker, the same code as a job) on 10 training examples per class
(`train_size` 50) and on all 24 the split leaves, and is scored on that test split (the CNNs
through their LiteRT export, as the app answers). A tenth of the training examples is
validation, as in every job. Prints a Markdown table: median test accuracy and range over
the seeds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DIGITLAB_DATASETS", tempfile.mkdtemp(prefix="digitlab-letters-"))

import numpy as np  # noqa: E402

from core import kinds, worker  # noqa: E402
from core.kinds import Spec, recipe_spec  # noqa: E402
from tests import letters  # noqa: E402

SIZES = {10: 10 * len(letters.LETTERS), 24: None}
# training examples per class -> train_size (None: all 24 the test split leaves); fewer than
# 10 a class leave no validation example (a tenth of 5 rounds to none) and fail the job
BATCH = 32   # the Train page's smallest batch: 24 x 5 examples make 4 batches an epoch


def models(key: str) -> dict[str, Spec]:
    """The runs compared, by their row name: each with the Train page's first settings for
    its kind and recipe, batch 32."""
    deeper = recipe_spec("Deeper", key, batch_size=BATCH)
    return {"Logistic Regression": kinds.default_spec("logreg", key),
            "CNN (Fast), from scratch": recipe_spec("Fast", key, batch_size=BATCH),
            "CNN (Deeper), from scratch": deeper,
            "CNN (Deeper), from the built-in, fine-tuned": deeper.replace(start_from="fine-tune"),
            "CNN (Deeper), from the built-in, frozen": deeper.replace(start_from="frozen")}


def test_accuracy(spec: Spec) -> float:
    """Test accuracy of one run on its dataset's own test split, trained as a job is."""
    train = worker.train_cnn if spec.kind == "cnn" else worker.train_logreg
    meta, _ = train(spec, lambda event: None, lambda: False)
    return meta["test_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--letters", default="".join(letters.LETTERS))
    parser.add_argument("--sloppy", action="store_true")
    args = parser.parse_args()
    seeds, drawn = args.seeds, tuple(args.letters)
    found: dict[tuple[str, int], list[float]] = {}
    start = time.perf_counter()
    for seed in range(seeds):
        key = letters.make("benchmark", seed=seed, name=f"Letters {seed}", letters=drawn,
                           sloppy=args.sloppy)
        for per_class, size in SIZES.items():
            for name, spec in models(key).items():
                accuracy = test_accuracy(spec.replace(train_size=size, seed=seed))
                found.setdefault((name, per_class), []).append(accuracy)
                print(f"seed {seed}, {per_class} per class, {name}: {accuracy:.1%}", flush=True)
    print(f"\n{date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"{time.perf_counter() - start:.0f} s; letters {' '.join(drawn)}{' (sloppy)' if args.sloppy else ''}; {seeds} seeds (each its own drawings, split "
          f"and training seed); test accuracy on each dataset's 30 test examples, median "
          f"(range):\n")
    print("| Model | " + " | ".join(f"{n} per class" for n in SIZES) + " (all) |")
    print("|---" * (len(SIZES) + 1) + "|")
    for name in models(key):
        cells = []
        for per_class in SIZES:
            values = found[(name, per_class)]
            cells.append(f"{np.median(values):.0%} ({min(values):.0%}-{max(values):.0%})")
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
