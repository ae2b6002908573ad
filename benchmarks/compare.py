"""How long the Compare page takes to evaluate two models, the first time and when cached.

    .venv/bin/python benchmarks/compare.py

Uses the canonical 10,000-image MNIST test set the app carries, and the best stored
Logistic Regression and CNN (the built-ins on a fresh checkout).

1. Evaluation as the page does it: `metrics.score` through `st.cache_data`, a Logistic
   Regression in this process and a CNN in the prediction worker, loading each model
   included. The worker is started before timing, as on a server
   where anything was predicted before; its start-up is printed on its own line.
2. The whole Compare page under AppTest in a fresh process: first run (worker start
   included) and a rerun.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import data, logreg, metrics, store  # noqa: E402
from core.predictor import Predictor  # noqa: E402


def best(kind: str) -> store.ModelInfo:
    found = [m for m in store.list_models()[0] if m.kind == kind and m.dataset == "mnist"]
    if not found:
        sys.exit(f"no {kind} model for MNIST in the store: run `make models`")
    return max(found, key=lambda m: (m.test_accuracy or 0, m.created_at))


def evaluation_seconds(x: np.ndarray, y: np.ndarray) -> None:
    """Part 1: the page's evaluation of both models, first time and cached."""
    import logging

    import streamlit as st

    # st.cache_data outside `streamlit run` works, and says so on every call: hush that.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)

    predictor = Predictor()
    models = {"logreg": best("logreg"), "cnn": best("cnn")}
    predictors = {"logreg": lambda m: partial(logreg.predict_proba, store.load_logreg(m)),
                  "cnn": lambda m: partial(predictor.predict, m.file)}

    @st.cache_data(show_spinner=False)
    def evaluation(key: tuple, _model: store.ModelInfo) -> metrics.Evaluation:
        return metrics.score(predictors[_model.kind](_model), x, y,
                             n_classes=len(_model.class_names))

    def both() -> dict[str, tuple[float, float]]:
        """{kind: (seconds, accuracy)} for both models, the way the page asks for them."""
        results = {}
        for kind, model in models.items():
            start = time.perf_counter()
            ev = evaluation((model.id, model.file.stat().st_mtime, len(y)), model)
            results[kind] = (time.perf_counter() - start, ev.accuracy)
        return results

    try:
        start = time.perf_counter()
        predictor.wait_ready()
        print(f"prediction worker start: {time.perf_counter() - start:6.2f} s "
              "(once per server)")
        first, cached = both(), both()
    finally:
        predictor.close()
    for kind, title in (("logreg", "Logistic Regression"), ("cnn", "CNN")):
        seconds, accuracy = first[kind]
        print(f"first evaluation, {title:<20} {seconds:6.2f} s  (accuracy {accuracy:.2%})")
    print(f"first evaluation, both:                {sum(s for s, _ in first.values()):6.2f} s  "
          "(goal: <= 5 s)")
    print(f"cached evaluation, both:               {sum(s for s, _ in cached.values()) * 1000:6.1f} ms")


PAGE_RUN = """
import sys, time
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({home!r}, default_timeout=300)
t = time.perf_counter(); at.switch_page("pages/compare.py").run(); first = time.perf_counter() - t
assert not at.exception, at.exception
assert not at.error, [e.value for e in at.error]
t = time.perf_counter(); at.run(); again = time.perf_counter() - t
print(first, again, at.caption[0].value)
"""


def page_seconds() -> None:
    """Part 2: the Compare page under AppTest, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DIGITLAB_MODELS": str(Path(tmp) / "models")}
        code = PAGE_RUN.format(root=str(ROOT), home=str(ROOT / "Home.py"))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, env=env)
    if out.returncode:
        print(out.stderr[-2000:])
        sys.exit("the page run failed")
    first, again, caption = out.stdout.strip().splitlines()[-1].split(" ", 2)
    print(f"Compare page, first run (worker start included): {float(first):6.2f} s")
    print(f"Compare page, rerun (everything cached):         {float(again):6.2f} s")
    print(f"  page says: {caption[:110]}")


def main() -> None:
    ds = data.load("mnist")
    print(f"# Compare benchmark, {date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"test set: {len(ds.y_test):,} images ({ds.description})")
    evaluation_seconds(ds.x_test, ds.y_test)
    page_seconds()


if __name__ == "__main__":
    main()
