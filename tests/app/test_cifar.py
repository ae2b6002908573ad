"""CIFAR-10 before it is downloaded: the address chooses it, and a failed download says why."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import HOME


@pytest.fixture
def no_cifar_yet(tmp_path, monkeypatch):
    """An empty download cache, and a download address where nothing answers."""
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setenv("DIGITLAB_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("CIFAR10_URL", "http://127.0.0.1:9/cifar-10-binary.tar.gz")  # refused


def open_home_on_cifar() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=30)
    at.query_params["dataset"] = "cifar10"
    return at.run()


def test_the_address_chooses_cifar_and_the_page_offers_its_download(no_cifar_yet):
    at = open_home_on_cifar()
    assert not at.exception
    assert at.sidebar.selectbox(key="dataset").value == "cifar10"
    assert any("CIFAR-10 (colour photos) is not available here yet" in i.value for i in at.info)
    assert [b.label for b in at.button] == ["CIFAR-10: 162 MB — Download"]


def test_a_download_that_cannot_connect_says_so_and_can_be_tried_again(no_cifar_yet):
    at = open_home_on_cifar()
    start = time.monotonic()
    at.button(key="get-cifar10").click().run()
    while not at.error and time.monotonic() - start < 10:
        time.sleep(0.2)
        at.run()                                  # what the page's polling does
    assert time.monotonic() - start < 7           # offline gives up within 5 s
    assert "Cannot reach 127.0.0.1" in at.error[0].value
    assert "ask whoever runs this app" in at.error[0].value   # what a student can do
    runner = next(e for e in at.expander if e.label == "If you run this app")
    assert any("CIFAR10_PATH" in m.value for m in runner.markdown)   # and whoever runs it
    again = at.button(key="get-cifar10")
    assert again.label == "Try again" and again.proto.type == "secondary"
    assert at.sidebar.selectbox(key="dataset").options[2] == "CIFAR-10 (download failed)"
    other = open_home_on_cifar()                  # another person's session says the same
    assert "Cannot reach 127.0.0.1" in other.error[0].value
    assert other.button(key="get-cifar10").label == "Try again"


def test_the_sidebar_says_which_datasets_need_a_download(no_cifar_yet):
    at = open_home_on_cifar()
    options = at.sidebar.selectbox(key="dataset").options
    assert options[0] == "MNIST (handwritten digits)"
    assert options[2] == "CIFAR-10 (download, 162 MB)"
    assert at.button(key="get-cifar10").proto.type == "primary"
