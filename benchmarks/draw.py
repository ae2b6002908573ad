"""Draw page: how fast a drawing is read, and how well the built-in models read drawn digits.

    .venv/bin/python benchmarks/draw.py

Prints
- preprocessing + prediction of one drawing, end to end (p50/p95 after warm-up), for the
  CNN (through the prediction worker) and the Logistic Regression (in process);
- a Draw-page rerun with a drawing on it (p50/p95), run by Streamlit's AppTest with the
  canvas component replaced by a stand-in that returns a drawing;
- accuracy of the built-in models on the stroke set (tests/strokes.py: 10 digits x 6
  sizes/places x 3 brush widths), rendered as the canvas renders them, and photographed
  (dark ink on paper in even light, a gradient and a shadow) for the photo tab.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
import types
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from core import logreg, preprocess, store  # noqa: E402
from core.predictor import Predictor  # noqa: E402
from tests.strokes import drawn_set, photo_set, placed, render  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"p50 {statistics.median(ms):6.2f} ms, p95 {ms[int(len(ms) * 0.95)]:6.2f} ms"


def timed(fn, n: int = 200, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def page_reruns(drawing: np.ndarray, n: int = 40) -> list[float]:
    from streamlit.testing.v1 import AppTest
    canvas = types.ModuleType("streamlit_drawable_canvas")
    canvas.st_canvas = lambda **kw: types.SimpleNamespace(image_data=drawing)
    sys.modules["streamlit_drawable_canvas"] = canvas
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    at.switch_page("pages/draw.py").run()
    assert not at.exception and at.metric, "the Draw page did not predict"
    return timed(at.run, n=n, warmup=3)


def main() -> None:
    builtins = {m.kind: m for m in store.list_models()[0] if m.builtin}
    if len(builtins) < 2:
        sys.exit("built-in models missing: run `make models`")
    print(f"Draw benchmark — {date.today()}, {platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    seven = render(placed(7, 40, 40, 150), 20)
    predictor = Predictor()
    cnn_file = builtins["cnn"].file
    lr = store.load_logreg(builtins["logreg"])
    print("  one drawing, preprocess + predict:")
    print(f"    CNN (prediction worker)   {percentiles(timed(lambda: predictor.predict(cnn_file, preprocess.to_mnist(seven).input28[None]))) }")
    print(f"    Logistic Regression       {percentiles(timed(lambda: logreg.predict_proba(lr, preprocess.to_mnist(seven).input28[None])))}")
    print(f"    preprocessing alone       {percentiles(timed(lambda: preprocess.to_mnist(seven)))}")

    for name, (x, y) in (("drawn", drawn_set()), ("photographed", photo_set())):
        cnn_acc = np.mean(predictor.predict(cnn_file, x).argmax(1) == y)
        lr_acc = np.mean(logreg.predict_proba(lr, x).argmax(1) == y)
        print(f"  stroke set {name} ({len(y)}): built-in CNN {cnn_acc:.1%}, "
              f"built-in Logistic Regression {lr_acc:.1%}")
    predictor.close()
    print(f"  Draw page rerun with a drawing (AppTest)  {percentiles(page_reruns(seven))}")


if __name__ == "__main__":
    main()
