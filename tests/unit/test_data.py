"""core.data: file formats, the source order, the embedded MNIST and the download path."""

import gzip
import hashlib
import http.server
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import data, datafiles, download



def tiny(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10


def write_folder(folder: Path, gz: bool = True) -> tuple[np.ndarray, ...]:
    x_train, y_train = tiny(30)
    x_test, y_test = tiny(10, seed=1)
    ext = ".gz" if gz else ""
    datafiles.write_idx(folder / f"train-images-idx3-ubyte{ext}", x_train)
    datafiles.write_idx(folder / f"train-labels-idx1-ubyte{ext}", y_train)
    datafiles.write_idx(folder / f"t10k-images-idx3-ubyte{ext}", x_test)
    datafiles.write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", y_test)
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
    for got, want in zip(datafiles.read_idx_folder(tmp_path, (28, 28)), expected):
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
        datafiles.read_idx_folder(tmp_path, (28, 28))


def test_not_gzip_names_the_file(tmp_path):
    bad = tmp_path / "x.gz"
    bad.write_bytes(b"this is not gzip")
    with pytest.raises(data.DataError, match=r"x\.gz: cannot be read"):
        datafiles.read_idx(bad)


def test_wrong_shape_npz_is_reported(tmp_path):
    path = tmp_path / "wrong.npz"
    np.savez(path, x_train=np.zeros((4, 32, 32), np.uint8), y_train=np.zeros(4),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2))
    with pytest.raises(data.DataError, match=r"wrong\.npz.*shape \(4, 32, 32\)"):
        datafiles.read_npz(path, (28, 28))


def test_corrupt_user_file_falls_through_to_next_source(tmp_path, offline, monkeypatch):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 garbage")
    monkeypatch.setenv("MNIST_PATH", str(bad))
    ds = data.load("mnist")
    assert ds.source == "canonical"
    assert any("broken.npz" in p for p in ds.problems)


def test_embedded_mnist_files_are_the_published_ones():
    for name, md5 in data.MNIST_MD5.items():
        with gzip.open(data.EMBEDDED_MNIST / f"{name}.gz") as f:
            assert hashlib.md5(f.read()).hexdigest() == md5, name


def test_mnist_is_the_canonical_70000_offline(offline):
    start = time.monotonic()
    ds = data.load("mnist")
    assert time.monotonic() - start < 5
    assert ds.source == "canonical" and not ds.problems
    assert ds.description.startswith("MNIST, 70,000 images, the canonical set by LeCun")
    assert (len(ds.y_train), len(ds.y_test)) == (60_000, 10_000)
    assert ds.x_train.shape[1:] == (28, 28) and ds.x_train.dtype == np.uint8
    assert np.bincount(ds.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert "tensorflow" not in sys.modules


@pytest.fixture
def debian_fashion(tmp_path, monkeypatch):
    """A small stand-in for Debian's dataset-fashion-mnist package."""
    folder = tmp_path / "debian-fashion"
    folder.mkdir()
    write_folder(folder)
    monkeypatch.setattr(data, "DEBIAN_FASHION", folder)


def test_fashion_offline_gives_up_fast_and_says_so(offline, debian_fashion):
    start = time.monotonic()
    ds = data.load("fashion_mnist")
    assert time.monotonic() - start < 5
    assert ds.source == "debian" and any(p.startswith("keras:") for p in ds.problems)


def test_unreachable_host_gives_up_within_timeout_and_is_not_retried(offline, debian_fashion,
                                                                    monkeypatch):
    # a socket that accepts but never answers: urlopen would hang without our deadline
    import socket
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    monkeypatch.setattr(data, "KERAS_URL", f"http://127.0.0.1:{server.getsockname()[1]}/")
    monkeypatch.setattr(download, "CONNECT_TIMEOUT_S", 2.0)
    start = time.monotonic()
    assert data.load("fashion_mnist").source == "debian"
    first = time.monotonic() - start
    start = time.monotonic()
    ds = data.load("fashion_mnist")
    assert 2.0 <= first < 4 and time.monotonic() - start < 1.5  # the second does not wait
    assert any("not retrying" in p for p in ds.problems)
    server.close()


def test_download_is_hash_checked_and_cached(tmp_path, offline, monkeypatch):
    """Online path, offline: a local HTTP server plays storage.googleapis.com."""
    served = tmp_path / "www"
    served.mkdir()
    arrays = write_folder(served)
    digests = {name: hashlib.md5((served / name).read_bytes()).hexdigest()
               for name in data.FASHION_MD5}

    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(served))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(data, "KERAS_URL", f"http://127.0.0.1:{httpd.server_port}/")
    monkeypatch.setattr(data, "DEBIAN_FASHION", Path("/nonexistent"))
    try:
        monkeypatch.setattr(data, "FASHION_MD5", {n: "0" * 32 for n in digests})  # wrong: refused
        with pytest.raises(data.DataError, match="MD5 check"):
            data.load("fashion_mnist")
        assert not any((data.keras_cache_dir() / "fashion-mnist").glob("*.gz"))

        monkeypatch.setattr(data, "FASHION_MD5", digests)
        monkeypatch.setattr(data, "_last_failure", {})
        ds = data.load("fashion_mnist")
        assert ds.source == "keras" and "Keras cache" in ds.description
        np.testing.assert_array_equal(ds.x_train, arrays[0])
    finally:
        httpd.shutdown()
    # cached: works again with the server gone
    assert data.load("fashion_mnist").source == "keras"


def test_nothing_works_raises_with_every_reason(offline, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION", Path("/nonexistent"))
    with pytest.raises(data.DataError, match="No source of fashion_mnist worked"):
        data.load("fashion_mnist")


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("cifar")


# ---------------------------------------------------------------- CIFAR-10 through load()

@pytest.fixture
def no_cifar(monkeypatch, tmp_path):
    """No CIFAR10_PATH and an empty download cache."""
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    monkeypatch.setenv("DIGITLAB_DATA", str(tmp_path / "cache"))


def test_cifar_is_not_there_until_downloaded_and_says_so(no_cifar):
    with pytest.raises(data.DataError, match="not downloaded yet.*cifar-10-binary.tar.gz"):
        data.load("cifar10")


@pytest.mark.parametrize("where", ["path", "cache"])
def test_cifar_loads_from_a_path_or_the_download_cache(no_cifar, tmp_path, monkeypatch, where):
    from tests import cifar_synth
    x_train, y_train, x_test, y_test = cifar_synth.make(60, 20)
    archive = data.downloaded("cifar10") if where == "cache" else tmp_path / "mine.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    from core import cifar
    cifar.write(archive, x_train, y_train, x_test, y_test)
    if where == "path":
        monkeypatch.setenv("CIFAR10_PATH", str(archive))
    ds = data.load("cifar10")
    assert ds.source == where and ds.shape == (32, 32, 3)
    assert ds.class_names[0] == "airplane" and ds.class_names[-1] == "truck"
    np.testing.assert_array_equal(ds.x_test, x_test)
    assert ds.x_train.shape == (60, 32, 32, 3) and not ds.x_test.flags.writeable
    served = data.load("cifar10", train_images=False)   # what the web server keeps
    assert served.x_train is None and len(served.y_train) == 60
    np.testing.assert_array_equal(served.y_train, y_train)


# ---------------------------------------------------------------- what the picker says

def test_availability_is_judged_from_the_disk(offline, no_cifar, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION", tmp_path / "no-debian")
    assert data.availability("mnist") == data.HERE                  # ships with the app
    assert data.availability("fashion_mnist") == data.DOWNLOAD      # tried when chosen
    assert data.availability("cifar10") == data.DOWNLOAD            # a person starts it
    with pytest.raises(data.DataError):
        data.load("fashion_mnist")                                  # offline: it failed
    assert data.availability("fashion_mnist") == data.MISSING       # so it cannot be had


def test_a_failed_download_says_so_until_someone_tries_again(no_cifar, monkeypatch):
    import socket

    from core import download

    target = data.downloaded("cifar10")
    refused = download.start("http://127.0.0.1:9/cifar-10-binary.tar.gz", target, "0" * 32)
    refused.wait(10)
    assert refused.state == "failed"
    assert data.availability("cifar10") == data.FAILED              # offline, most likely
    assert download.last_ended(target) is refused                   # every session sees it
    monkeypatch.setattr(download, "CONNECT_TIMEOUT_S", 0.5)
    with socket.socket() as silent:                                 # connects, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        again = download.start(f"http://127.0.0.1:{silent.getsockname()[1]}/c.tar.gz", target,
                               "0" * 32)
        assert data.availability("cifar10") == data.DOWNLOAD        # someone tries again
        again.cancel()
        assert again.wait(10) and again.state == "cancelled"
    assert data.availability("cifar10") == data.DOWNLOAD            # a cancel is no failure


def test_a_package_a_path_or_a_finished_download_makes_it_available(offline, no_cifar,
                                                                   debian_fashion, monkeypatch,
                                                                   tmp_path):
    assert data.availability("fashion_mnist") == data.HERE
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "nothing-there.tar.gz"))
    assert data.availability("cifar10") == data.DOWNLOAD            # a path to nothing
    data.downloaded("cifar10").parent.mkdir(parents=True)
    data.downloaded("cifar10").write_bytes(b"")
    assert data.availability("cifar10") == data.HERE


def test_without_training_images_only_their_labels_are_read(tmp_path):
    x_train, y_train, x_test, y_test = write_folder(tmp_path)
    got = datafiles.read_idx_folder(tmp_path, (28, 28), train_images=False)
    assert got[0] is None
    for array, want in zip(got[1:], (y_train, x_test, y_test)):
        np.testing.assert_array_equal(array, want)
    datafiles.write_idx(tmp_path / "train-images-idx3-ubyte.gz", x_train[:, :27])   # 27 rows
    with pytest.raises(data.DataError, match="train-images.*expected"):
        datafiles.read_idx_folder(tmp_path, (28, 28), train_images=False)
    datafiles.write_idx(tmp_path / "train-images-idx3-ubyte.gz", x_train[:29])       # one short
    with pytest.raises(data.DataError, match="29 images but 30 labels"):
        datafiles.read_idx_folder(tmp_path, (28, 28), train_images=False)


def test_a_small_class_keeps_one_image_on_each_side_of_a_split():
    """Four images of each of 3 classes, 10 % held out: one per class, where rounding gave none."""
    y = np.repeat(np.arange(3), 4)
    train, test = data.stratified_split(y, 0.1)
    assert sorted(y[test]) == [0, 1, 2] and len(train) == 9
    big = np.repeat(np.arange(10), 6000)
    assert len(data.stratified_split(big, 0.1)[1]) == 6000    # large sets: as before
