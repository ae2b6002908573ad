"""core.cifar (CIFAR-10's binary format) and core.download (one shared, checked download)."""

import errno
import hashlib
import http.server
import io
import socket
import tarfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core import cifar, download
from core.data import DataError
from tests import cifar_synth

NAME = "cifar-10-binary.tar.gz"


# ---------------------------------------------------------------- the format, by hand

def hand_made_batch(first_label: int) -> bytes:
    """Three records, all zero but the labels, record 0's first red byte and three of record 1."""
    records = np.zeros((3, 3073), np.uint8)
    records[:, 0] = [first_label, 7, 9]
    records[0, 1] = 100 + first_label              # tells the batches apart
    records[1, 1 + 5 * 32 + 7] = 200               # red plane, row 5, column 7
    records[1, 1 + 1024 + 10 * 32 + 3] = 77        # green plane, row 10, column 3
    records[1, 1 + 2048 + 31 * 32 + 31] = 9        # blue plane, row 31, column 31
    return records.tobytes()


def hand_made_files() -> dict[str, bytes]:
    """The six batch files, data_batch_i starting with label i and test_batch with 0."""
    files = {f"data_batch_{i}.bin": hand_made_batch(i) for i in range(1, 6)}
    files["test_batch.bin"] = hand_made_batch(0)
    return files


def write_by_hand(where: str, tmp_path: Path) -> Path:
    """The hand-made files as a flat folder, a nested folder or a .tar.gz (shuffled order)."""
    files = hand_made_files()
    if where == "tar":
        path = tmp_path / NAME
        with tarfile.open(path, "w:gz") as tar:
            for name in ["readme.html", "test_batch.bin", "data_batch_3.bin", "data_batch_1.bin",
                         "data_batch_5.bin", "data_batch_2.bin", "data_batch_4.bin"]:
                content = files.get(name, b"<html></html>")
                info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        return path
    folder = tmp_path / "set"
    inner = folder / "cifar-10-batches-bin" if where == "nested" else folder
    inner.mkdir(parents=True)
    for name, content in files.items():
        (inner / name).write_bytes(content)
    return folder


@pytest.mark.parametrize("where", ["flat", "nested", "tar"])
def test_known_bytes_land_at_their_row_column_and_channel(tmp_path, where):
    x_train, y_train, x_test, y_test = cifar.read(write_by_hand(where, tmp_path))
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    for x in (x_train, x_test):
        assert x[1, 5, 7, 0] == 200 and x[1, 10, 3, 1] == 77 and x[1, 31, 31, 2] == 9
        assert x[1].sum() == 200 + 77 + 9 and x[2].sum() == 0
    assert y_train.tolist() == [1, 7, 9, 2, 7, 9, 3, 7, 9, 4, 7, 9, 5, 7, 9]  # batches in order
    assert x_train[::3, 0, 0, 0].tolist() == [101, 102, 103, 104, 105] and x_test[0, 0, 0, 0] == 100
    assert y_test.tolist() == [0, 7, 9]


@pytest.mark.parametrize("suffix", [".tar.gz", ""])
def test_write_read_round_trip(tmp_path, suffix):
    arrays = cifar_synth.make(60, 20)
    target = tmp_path / f"set{suffix}"
    cifar.write(target, *arrays)
    got = cifar.read(target)
    for a, b in zip(got, arrays):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.uint8 and a.flags.c_contiguous and not a.flags.writeable
    x_train, y_train, x_test, y_test = cifar.read(target, train_images=False)
    assert x_train is None
    np.testing.assert_array_equal(y_train, arrays[1])
    np.testing.assert_array_equal(x_test, arrays[2])


def test_write_is_reproducible(tmp_path):
    first = cifar_synth.tarball(tmp_path / "a.tar.gz", 20, 10)
    assert cifar_synth.tarball(tmp_path / "b.tar.gz", 20, 10) == first


# ---------------------------------------------------------------- what is refused

def test_a_size_that_is_not_whole_records_names_the_file(tmp_path):
    folder = write_by_hand("flat", tmp_path)
    with open(folder / "data_batch_2.bin", "ab") as f:
        f.write(b"\0")
    with pytest.raises(DataError, match=r"data_batch_2\.bin.*9,220 bytes.*3,073"):
        cifar.read(folder)


def test_a_label_above_9_names_the_file(tmp_path):
    folder = write_by_hand("flat", tmp_path)
    raw = bytearray((folder / "test_batch.bin").read_bytes())
    raw[3073] = 10
    (folder / "test_batch.bin").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"test_batch\.bin: record 1 has label 10"):
        cifar.read(folder)


def test_a_missing_batch_names_the_file(tmp_path):
    folder = write_by_hand("flat", tmp_path)
    (folder / "data_batch_4.bin").unlink()
    with pytest.raises(DataError, match=r"data_batch_4\.bin: missing"):
        cifar.read(folder)
    cifar.write(tmp_path / "four.tar.gz", *cifar_synth.make(40, 10), batches=4)
    with pytest.raises(DataError, match=r"four\.tar\.gz: no data_batch_5\.bin inside"):
        cifar.read(tmp_path / "four.tar.gz")


def test_not_gzip_truncated_or_absent_names_the_file(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"<html>Not Found</html>")
    with pytest.raises(DataError, match=r"junk\.tar\.gz: not a readable \.tar\.gz.*gzip"):
        cifar.read(junk)
    whole = write_by_hand("tar", tmp_path).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    for end in (len(whole) // 2, len(whole) - 8):     # half of it; all but the gzip trailer
        cut.write_bytes(whole[:end])
        with pytest.raises(DataError, match=r"cut\.tar\.gz: truncated"):
            cifar.read(cut)
    corrupt = tmp_path / "corrupt.tar.gz"
    cifar_synth.tarball(corrupt, 50, 10)
    whole = bytearray(corrupt.read_bytes())
    whole[len(whole) // 2: len(whole) // 2 + 100] = bytes(100)     # the gzip CRC notices
    corrupt.write_bytes(bytes(whole))
    with pytest.raises(DataError, match=r"corrupt\.tar\.gz"):
        cifar.read(corrupt)
    with pytest.raises(DataError, match=r"nowhere: no such file or folder"):
        cifar.read(tmp_path / "nowhere")


def test_synthetic_set_is_learnable_but_not_trivial():
    x_train, y_train, x_test, y_test = cifar_synth.make(2000, 500)
    assert np.bincount(y_train).tolist() == [200] * 10

    def features(x):   # 16x16 colour thumbnails and a bias: a linear model on pixels
        small = x.reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4)).reshape(len(x), -1) / 255
        return np.hstack([small, np.ones((len(x), 1))])

    a = features(x_train)
    w = np.linalg.solve(a.T @ a + 1.0 * np.eye(a.shape[1]), a.T @ np.eye(10)[y_train])
    accuracy = np.mean((features(x_test) @ w).argmax(1) == y_test)
    assert 0.35 < accuracy < 0.95, accuracy


# ---------------------------------------------------------------- the download

@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """A small synthetic CIFAR-10 tarball and its MD5."""
    path = tmp_path_factory.mktemp("www") / NAME
    md5 = cifar_synth.tarball(path, 80, 20)
    return SimpleNamespace(body=path.read_bytes(), md5=md5)


@pytest.fixture
def server(tarball):
    """A local web server playing www.cs.toronto.edu; `mode`: "ok", "cut", "stall" or "slow"."""
    state = SimpleNamespace(mode="ok", gets=0, lock=threading.Lock(), **vars(tarball))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with state.lock:
                state.gets += 1
            body = state.body
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if state.mode in ("cut", "stall"):  # promises all, sends half, closes
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    time.sleep(1.0 if state.mode == "stall" else 0)
                elif state.mode == "slow":
                    for i in range(0, len(body), 8192):
                        self.wfile.write(body[i:i + 8192])
                        self.wfile.flush()
                        time.sleep(0.02)
                else:
                    self.wfile.write(body)
            except ConnectionError:
                pass                                 # the client hung up (cancel)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_port}/{NAME}"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "cache"
    path.mkdir()
    return path


def finished(d: download.Download) -> download.Download:
    assert d.wait(10), "the download did not end"
    return d


def test_download_lands_checked_and_is_then_trusted(server, folder):
    d = finished(download.start(server.url, folder / NAME, server.md5))
    assert d.state == "done" and d.error == ""
    assert hashlib.md5((folder / NAME).read_bytes()).hexdigest() == server.md5
    assert d.done_bytes == d.total_bytes == len(server.body) and d.fraction == 1.0
    assert [p.name for p in folder.iterdir()] == [NAME]      # no temporary file left
    again = download.start(server.url, folder / NAME, server.md5)
    assert again is not d and again.state == "done" and again.wait(0) and server.gets == 1
    assert download.fetch(server.url, folder / NAME, server.md5) == folder / NAME


def test_wrong_md5_keeps_nothing_and_a_new_start_tries_again(server, folder):
    d = finished(download.start(server.url, folder / NAME, "0" * 32))
    assert d.state == "failed" and "failed its MD5 check" in d.error and server.md5 in d.error
    assert "fingerprint" in d.error and d.error.endswith("Try again.")   # what it is, what to do
    assert d.progress_text() == d.error
    assert list(folder.iterdir()) == []
    with pytest.raises(download.DownloadError, match="MD5 check"):
        download.fetch(server.url, folder / NAME, "0" * 32)
    assert server.gets == 2
    d = finished(download.start(server.url, folder / NAME, server.md5))
    assert d.state == "done" and server.gets == 3


@pytest.mark.parametrize("mode", ["cut", "stall"])
def test_cut_connection_keeps_nothing(server, folder, mode, monkeypatch):
    server.mode = mode
    monkeypatch.setattr(download, "READ_TIMEOUT_S", 0.3)    # a stalled server counts as cut
    d = finished(download.start(server.url, folder / NAME, server.md5))
    assert d.state == "failed" and "cut after" in d.error and "nothing was kept" in d.error
    assert ("timed out" in d.error) == (mode == "stall")
    assert list(folder.iterdir()) == []


def test_full_disk_keeps_nothing(server, folder, monkeypatch):
    def full(self, out, block):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(download.Download, "_write", full)
    d = finished(download.start(server.url, folder / NAME, server.md5))
    assert d.state == "failed" and d.error.startswith("The disk is full") and str(folder) in d.error
    assert list(folder.iterdir()) == []


def test_cancel_keeps_nothing(server, folder):
    server.mode = "slow"
    d = download.start(server.url, folder / NAME, server.md5)
    deadline = time.monotonic() + 5
    while d.done_bytes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d.state == "running" and 0 < d.fraction < 1 and " of " in d.progress_text()
    d.cancel()
    finished(d)
    assert d.state == "cancelled" and d.error == "Cancelled; nothing was kept."
    assert list(folder.iterdir()) == []


def test_sessions_asking_at_once_share_one_download(server, folder):
    server.mode = "slow"
    barrier, got = threading.Barrier(3), []

    def ask():
        barrier.wait()
        got.append(download.start(server.url, folder / NAME, server.md5))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 3 and got[0] is got[1] is got[2]
    assert finished(got[0]).state == "done" and server.gets == 1


def test_offline_gives_up_within_the_connect_timeout(folder):
    silent = socket.socket()            # accepts connections in its backlog, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        began = time.monotonic()
        d = finished(download.start(f"http://127.0.0.1:{silent.getsockname()[1]}/{NAME}",
                                    folder / NAME, "0" * 32, hint="Or set CIFAR10_PATH."))
        assert time.monotonic() - began < download.CONNECT_TIMEOUT_S + 2
    finally:
        silent.close()
    assert d.state == "failed" and d.error.startswith("Cannot reach 127.0.0.1: no answer in 5 s.")
    assert d.error.endswith("Or set CIFAR10_PATH.")
    assert list(folder.iterdir()) == []


def test_progress_text_reads_like_a_sentence(tmp_path):
    d = download.Download("http://example.invalid/x", tmp_path / "x", "0" * 32, size=170_052_171)
    assert d.fraction == 0 and d.seconds_left is None and d.progress_text() == "0.0 of 162.2 MB"
    d.done_bytes, d.speed = int(42.1 * download.MB), 3.4 * download.MB
    assert d.progress_text() == "42.1 of 162.2 MB · 3.4 MB/s · about 35 s left"
    d.speed = 0.5 * download.MB
    assert d.progress_text().endswith("about 4 min left")
