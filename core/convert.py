"""Make the model.tflite the app runs from a stored CNN's model.keras.

    python -m core.convert models/<model id> [more folders ...]

For CNN folders saved before Digit Lab ran CNNs with LiteRT: they hold model.keras but
no model.tflite, and the store skips them with a pointer to this command. The .keras
file is loaded with Keras' safe_mode, so one with a Lambda layer (Python code that
would run on load) is refused instead of converted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core import store


def convert(folder: Path) -> Path:
    """Write `folder`/model.tflite from `folder`/model.keras; StoreError if it is refused."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from core import cnn

    source, target = folder / "model.keras", folder / store.MODEL_FILES["cnn"]
    try:
        model = keras.saving.load_model(source, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001 - missing, corrupt, unsafe: all refused the same way
        raise store.StoreError(f"{folder.name}: {source.name} was refused ({type(e).__name__}: {e})") from None
    partial = target.with_name(".partial-model.tflite")
    cnn.export_lite(model, partial)
    os.replace(partial, target)  # atomic: a model.tflite is always whole
    return target


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
