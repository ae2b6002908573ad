"""Home page, run headless with Streamlit's AppTest."""

import pytest


@pytest.fixture
def run_home(open_page):
    return lambda: open_page(timeout=30)


def test_home_names_the_dataset_and_its_source(run_home):
    at = run_home()
    assert not at.exception
    assert at.title[0].value.endswith("Digit Lab")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dataset"] == "MNIST"
    assert metrics["Training images"] == "60,000" and metrics["Test images"] == "10,000"
    sources = [b.value for b in at.success]
    assert any(s.startswith("MNIST, 70,000 images, the canonical set by LeCun") for s in sources)


def test_switching_dataset_keeps_the_page_working(run_home):
    at = run_home()
    at.sidebar.selectbox(key="dataset").select("fashion_mnist").run()
    assert not at.exception
    # Either Fashion-MNIST loaded from some source, or the page explains why not.
    loaded = any(m.value == "Fashion-MNIST" for m in at.metric)
    explained = any("not available" in e.value for e in at.error)
    assert loaded or explained
