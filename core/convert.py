"""Make the file the app runs from a stored model's library file.

    python -m core.convert models/<model id> [more folders ...]

The app reads digits with light exports that the training worker writes beside each
model: model.tflite for a CNN (core.lite), model.npz for a Logistic Regression
(core.logreg.Weights). Folders saved before that hold only model.keras or model.skops,
and the store skips them with a pointer to this command. The source files are loaded
without trusting them: Keras' safe_mode refuses a Lambda layer (Python code that would
run on load), skops refuses any type outside its defaults.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from core import logreg, store


def convert(folder: Path) -> Path:
    """Write the served model file of `folder` from its source file; StoreError if refused."""
    try:
        kind = json.loads((folder / "meta.json").read_text())["kind"]
        target = folder / store.MODEL_FILES[kind]
    except (OSError, ValueError, KeyError, TypeError):
        raise store.StoreError(f"{folder.name}: meta.json does not describe a Digit Lab model") from None
    partial = target.with_name(".partial-" + target.name)
    if kind == "logreg":
        logreg.save_weights(store.load_skops(folder), partial)
    else:
        export_keras(folder, partial)
    os.replace(partial, target)  # atomic: the served file is always whole
    return target


def export_keras(folder: Path, target: Path) -> None:
    """model.keras (loaded with safe_mode) -> its LiteRT export at `target`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from core import cnn

    source = folder / store.SOURCE_FILES["cnn"]
    try:
        model = keras.saving.load_model(source, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001 - missing, corrupt, unsafe: all refused the same way
        raise store.StoreError(f"{folder.name}: {source.name} was refused ({type(e).__name__}: {e})") from None
    cnn.export_lite(model, target)


def main(folders: list[str]) -> int:
    if not folders:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    failed = 0
    for name in folders:
        try:
            print(f"wrote {convert(Path(name))}")
        except store.StoreError as e:
            print(f"refused: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
