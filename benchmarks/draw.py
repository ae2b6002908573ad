"""Draw page: how fast a drawing is read, and how well the built-in models read drawn digits.

    .venv/bin/python benchmarks/draw.py

Prints
- preprocessing + prediction of one drawing, end to end (p50/p95 after warm-up), for the
  CNN (through the prediction worker) and the Logistic Regression (in process);
- the explanations alone: the occlusion map (CNN through the worker, Logistic Regression
  in process) and the CNN's feature maps (through the worker);
- the deletion check of the occlusion maps on canonical test digits (core.explain): how
  often blanking the most salient ink hurts the true class more than blanking random ink;
- a Draw-page rerun with a drawing on it (p50/p95), run by Streamlit's AppTest with the
  canvas component replaced by a stand-in that returns a drawing; then, per "Why these
  answers" tab, reruns where every one gets a new drawing (so no cache helps, as when a
  person draws);
- accuracy of the built-in models on the stroke set (tests/strokes.py: 10 digits x 6
  sizes/places x 3 brush widths), rendered as the canvas renders them, and photographed
  (dark ink on paper in even light, a gradient and a shadow) for the photo tab.
"""

from __future__ import annotations

import functools
import itertools
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
from core import data, explain, logreg, preprocess, store  # noqa: E402
from core.predictor import Predictor  # noqa: E402
from tests.strokes import drawn_set, photo_set, placed, render  # noqa: E402

OCCLUSION_TARGET_MS = 30
TAB_TARGET_MS = 150      # p50 of a Draw-page rerun with an explanation open
TAB_RERUNS = 30          # per tab, after 3 warm-up reruns
PAGE_TABS = {"Draw", "Upload a photo"}   # the page's own tabs, not explanations
WHY_KEY = "why-draw"     # session_state key of the Draw tab's "Why these answers" tabs
DELETION_DIGITS = 200    # the first canonical MNIST test digits
DELETION_SHARE = 0.1     # of each digit's ink, blanked by saliency or at random
DELETION_TARGET = 0.9    # share of digits where saliency must win, for the CNN


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


def stand_in_canvas(drawings) -> None:
    """Replace the canvas component by one that returns the next of `drawings` each rerun."""
    canvas = types.ModuleType("streamlit_drawable_canvas")
    canvas.st_canvas = lambda **kw: types.SimpleNamespace(image_data=next(drawings))
    sys.modules["streamlit_drawable_canvas"] = canvas


def draw_page():
    """An AppTest on the Draw page, run once; it must have predicted."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    at.switch_page("pages/draw.py").run()
    assert not at.exception and at.metric, "the Draw page did not predict"
    return at


def page_reruns(drawing: np.ndarray, n: int = 40) -> list[float]:
    """Reruns of the Draw page with the same drawing on it (its results cached)."""
    stand_in_canvas(itertools.repeat(drawing))
    return timed(draw_page().run, n=n, warmup=3)


def new_drawings(drawing: np.ndarray, seed: int = 0):
    """Copies of `drawing`, each with one random ink pixel erased, all read differently.

    Erasing a pixel inside a thick stroke can vanish in preprocessing (thick strokes are
    thinned), so a copy whose 28 x 28 was seen before is skipped: no cache ever hits.
    """
    ink = np.flatnonzero(drawing[..., 0].reshape(-1) > 0)
    seen = set()
    for pixel in np.random.default_rng(seed).permutation(ink):
        copy = drawing.copy()
        copy.reshape(-1, 4)[pixel, :3] = 0
        read = preprocess.to_mnist(copy).input28.tobytes()
        if read not in seen:
            seen.add(read)
            yield copy
    raise RuntimeError(f"only {len(seen)} different drawings from erasing one pixel")


def tab_reruns(drawing: np.ndarray, n: int = TAB_RERUNS) -> dict[str, list[float]]:
    """Per "Why these answers" tab: reruns of the Draw page, each with a new drawing."""
    stand_in_canvas(new_drawings(drawing))
    at = draw_page()
    labels = [t.label for t in at.tabs if t.label not in PAGE_TABS]
    assert labels, "the Draw page shows no explanation tabs"
    results = {}
    for label in labels:
        at.session_state[WHY_KEY] = label
        results[label] = timed(at.run, n=n, warmup=3)
        assert not at.exception, f"{label}: {at.exception}"
    return results


def deletion_wins(predict, x: np.ndarray, y: np.ndarray) -> float:
    """Share of digits where blanking the most salient ink lowers the true class more than random."""
    return float(np.mean(explain.deletion_check(predict, x, y, share=DELETION_SHARE)))


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

    x28 = preprocess.to_mnist(seven).input28
    cnn_predict = functools.partial(predictor.predict, cnn_file)
    lr_predict = functools.partial(logreg.predict_proba, lr)
    print("  explanations alone, one drawing:")
    print(f"    occlusion map, CNN (worker)          {percentiles(timed(lambda: explain.occlusion(cnn_predict, x28)))}"
          f"  (target <= {OCCLUSION_TARGET_MS} ms)")
    print(f"    occlusion map, Logistic Regression   {percentiles(timed(lambda: explain.occlusion(lr_predict, x28)))}"
          f"  (target <= {OCCLUSION_TARGET_MS} ms)")
    print(f"    feature maps, CNN (worker)           {percentiles(timed(lambda: predictor.inside(cnn_file, x28[None])))}")

    test = data.load("mnist")
    x, y = test.x_test[:DELETION_DIGITS] / np.float32(255), test.y_test[:DELETION_DIGITS]
    for name, predict in (("CNN", cnn_predict), ("Logistic Regression", lr_predict)):
        print(f"  deletion check, built-in {name}: blanking the {DELETION_SHARE:.0%} most salient ink "
              f"lowers the true class more than {DELETION_SHARE:.0%} random ink on "
              f"{deletion_wins(predict, x, y):.0%} of {len(y)} digits"
              + (f" (target >= {DELETION_TARGET:.0%} for the CNN)" if name == "CNN" else ""))
    predictor.close()

    print(f"  Draw page rerun with a drawing (AppTest)  {percentiles(page_reruns(seven))}")
    print("  Draw page rerun, a new drawing each time, per explanation tab (AppTest):")
    for label, samples in tab_reruns(seven).items():
        print(f"    {label:<20} {percentiles(samples)}  (target p50 <= {TAB_TARGET_MS} ms)")


if __name__ == "__main__":
    main()
