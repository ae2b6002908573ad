"""Home page, run headless with Streamlit's AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def run_home() -> AppTest:
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=30)
    return at.run()


def test_home_names_the_dataset_and_its_source():
    at = run_home()
    assert not at.exception
    assert at.title[0].value.endswith("Digit Lab")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dataset"] == "MNIST"
    assert metrics["Training images"] == "60,000" and metrics["Test images"] == "10,000"
    sources = [b.value for b in at.success]
    assert any(s.startswith("MNIST, 70,000 images, the canonical set by LeCun") for s in sources)


def test_switching_dataset_keeps_the_page_working():
    at = run_home()
    at.sidebar.selectbox(key="dataset").select("fashion_mnist").run()
    assert not at.exception
    # Either Fashion-MNIST loaded from some source, or the page explains why not.
    loaded = any(m.value == "Fashion-MNIST" for m in at.metric)
    explained = any("not available" in e.value for e in at.error)
    assert loaded or explained
