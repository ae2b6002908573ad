"""Downloads a person starts from a page, shared by every session of the server.

Sessions asking for the same target at once share one `Download` and its progress. It
writes a hidden temporary file beside the target, checks its MD5 and only then renames
it into place: a failure or a cancel leaves nothing behind, so a file that exists was checked.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

CONNECT_TIMEOUT_S = 5.0    # offline, the whole connection phase (DNS included) gives up this fast
READ_TIMEOUT_S = 30.0      # a server silent this long mid-download has cut the connection
BLOCK = 256 * 1024
MB = 1 << 20


class DownloadError(Exception):
    """A download did not finish; the message is a plain sentence saying why."""


class Download:
    """One file fetched by one worker thread; other threads only read its attributes."""

    def __init__(self, url: str, target: Path, md5: str, size: int | None = None, hint: str = ""):
        self.url, self.target, self.md5, self.hint = url, Path(target), md5.lower(), hint
        self.state = "running"          # then "done", "failed" or "cancelled"
        self.done_bytes, self.total_bytes = 0, size
        self.speed = 0.0                # bytes/s, smoothed
        self.error = ""
        self._cancelled, self._finished = threading.Event(), threading.Event()
        self._key = os.path.abspath(target)     # one running download per absolute path

    @property
    def fraction(self) -> float:
        """How far along, 0..1, for a progress bar."""
        if not self.total_bytes:
            return float(self.state == "done")
        return min(self.done_bytes / self.total_bytes, 1.0)

    @property
    def seconds_left(self) -> float | None:
        """Time to finish at the current speed; None while unknown."""
        if self.state == "running" and self.total_bytes and self.speed > 0:
            return max(self.total_bytes - self.done_bytes, 0) / self.speed
        return 0.0 if self.state == "done" else None

    def progress_text(self) -> str:
        """E.g. "42.1 of 162.2 MB · 3.4 MB/s · about 35 s left"; the error once it failed."""
        if self.state != "running":
            return self.error or f"{self._amount()} · done"
        parts = [self._amount()]
        if self.speed > 0:
            parts.append(f"{self.speed / MB:.1f} MB/s")
        if (left := self.seconds_left) is not None:
            parts.append(f"about {left:.0f} s left" if left < 90 else f"about {left / 60:.0f} min left")
        return " · ".join(parts)

    def cancel(self) -> None:
        """Stop the download, for everyone watching it; nothing is kept."""
        self._cancelled.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the download ends (or `timeout` s pass); True if it ended."""
        return self._finished.wait(timeout)

    def _amount(self) -> str:
        """How much has arrived, e.g. "12.0 of 162.2 MB"."""
        total = f" of {self.total_bytes / MB:.1f}" if self.total_bytes else ""
        return f"{self.done_bytes / MB:.1f}{total} MB"

    def _finish(self, state: str, error: str = "") -> None:
        """Publish the outcome and leave the registry, so a new start() tries again."""
        self.error, self.state = error, state
        with _lock:
            if _running.get(self._key) is self:
                del _running[self._key]
            _ended[self._key] = self
        self._finished.set()

    def _run(self) -> None:
        """The worker: download, then publish the outcome as a state and a plain sentence."""
        try:
            self._download()
            error = ""
        except DownloadError as e:
            error = str(e)
        except OSError as e:    # writing: a full disk, or a folder we may not write in
            need = (f"{self.total_bytes / MB:.0f} MB are needed" if self.total_bytes
                    else "no room is left")
            error = (f"The disk is full: {need} in {self.target.parent}; nothing was kept."
                     if e.errno == errno.ENOSPC else
                     f"Cannot write in {self.target.parent} ({e.strerror or e}); nothing was kept.")
        except Exception as e:  # noqa: BLE001 - anything else still ends the download plainly
            error = f"The download failed ({type(e).__name__}: {e}); nothing was kept."
        if error and self._cancelled.is_set():
            self._finish("cancelled", "Cancelled; nothing was kept.")
        else:
            self._finish("failed" if error else "done", error)

    def _download(self) -> None:
        """Fetch into a hidden temporary file beside the target, check it, rename it into place."""
        self.target.parent.mkdir(parents=True, exist_ok=True)
        with _open_url(self.url, self.hint) as response:
            length = response.headers.get("Content-Length", "")
            self.total_bytes = int(length) if length.isdigit() else self.total_bytes
            if self.total_bytes and shutil.disk_usage(self.target.parent).free < self.total_bytes:
                raise OSError(errno.ENOSPC, "not enough free space")  # say so now, not at 99 %
            fd, part = tempfile.mkstemp(prefix=f".{self.target.name}.part-", dir=self.target.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    md5 = self._copy(response, out)
                if self.total_bytes and self.done_bytes < self.total_bytes:
                    raise DownloadError(self._cut())
                if md5 != self.md5:
                    raise DownloadError(self._not_the_file(md5))
                os.replace(part, self.target)
            except BaseException:
                Path(part).unlink(missing_ok=True)
                raise

    def _copy(self, response, out) -> str:
        """Copy the body into `out` block by block, updating progress and speed; its MD5."""
        digest = hashlib.md5(usedforsecurity=False)
        window_start, window_bytes = time.monotonic(), 0
        while not self._cancelled.is_set():
            try:
                block = response.read1(BLOCK)
            except (OSError, http.client.HTTPException) as e:  # reset, or silent READ_TIMEOUT_S
                raise DownloadError(self._cut(f" ({e})")) from None
            if not block:
                return digest.hexdigest()
            self._write(out, block)
            digest.update(block)
            self.done_bytes += len(block)
            window_bytes += len(block)
            if (now := time.monotonic()) - window_start >= 0.5:
                rate = window_bytes / (now - window_start)
                self.speed = rate if self.speed == 0 else 0.7 * self.speed + 0.3 * rate
                window_start, window_bytes = now, 0
        raise DownloadError("cancelled")     # _run words it

    def _write(self, out, block: bytes) -> None:
        """Append one block to the temporary file."""
        out.write(block)

    def _not_the_file(self, md5: str) -> str:
        """The sentence for a file that arrived whole but is not the one expected."""
        return (f"The downloaded file failed its MD5 check, a fingerprint of its bytes (expected "
                f"{self.md5}, got {md5}): it is not the official file, so nothing was kept. "
                + (self.hint or "Try again."))

    def _cut(self, detail: str = "") -> str:
        """The sentence for a connection that ended before the whole file arrived."""
        return f"The download was cut after {self._amount()}{detail}; nothing was kept. Try again."


def _open_url(url: str, hint: str = ""):
    """urlopen whose whole connection phase, DNS included, ends within CONNECT_TIMEOUT_S."""
    box: dict = {}      # a late answer dies with it when the helper thread ends

    def connect() -> None:
        try:
            box["response"] = urllib.request.urlopen(url, timeout=READ_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - reported by the waiting thread below
            box["error"] = e

    thread = threading.Thread(target=connect, daemon=True, name="download-connect")
    thread.start()
    thread.join(CONNECT_TIMEOUT_S)
    if "response" in box:
        return box["response"]
    host, error = urllib.parse.urlsplit(url).hostname or url, box.get("error")
    advice = hint or "Check the internet connection and try again."
    if isinstance(error, urllib.request.HTTPError):
        raise DownloadError(f"{host} refused the download ({error.code} {error.reason}). {advice}")
    reason = getattr(error, "reason", error) or f"no answer in {CONNECT_TIMEOUT_S:.0f} s"
    reason = getattr(reason, "strerror", None) or reason   # "Connection refused", not "[Errno 111] ..."
    raise DownloadError(f"Cannot reach {host}: {reason}. {advice}")


_running: dict[str, Download] = {}     # absolute target path -> its running download
_ended: dict[str, Download] = {}       # absolute target path -> its last download that ended
_lock = threading.Lock()


def start(url: str, target: Path, md5: str, size: int | None = None, hint: str = "") -> Download:
    """The download of `url` into `target`: the running one, a finished one, or a new one.

    An existing `target` is trusted without hashing it again: only a checked file is
    ever renamed into place. `hint` replaces the last sentence of "cannot reach" errors.
    """
    download = Download(url, target, md5, size, hint)
    with _lock:
        if (running := _running.get(download._key)) is not None:
            return running
        if not download.target.is_file():
            _running[download._key] = download
            threading.Thread(target=download._run, daemon=True, name="download").start()
            return download
    download.done_bytes = download.total_bytes = download.target.stat().st_size
    download._finish("done")
    return download


def running(target: Path) -> Download | None:
    """The download into `target` that is running now, whoever started it."""
    with _lock:
        return _running.get(os.path.abspath(target))


def last_ended(target: Path) -> Download | None:
    """The last download into `target` that ended (done, failed or cancelled), whoever started
    it, when none runs now: every session can say how the last try went."""
    with _lock:
        key = os.path.abspath(target)
        return None if key in _running else _ended.get(key)


def last_failed(target: Path) -> bool:
    """Whether the last download into `target` failed (not cancelled), none running since:
    offline, most likely, so the dataset's menu can say so until someone tries again."""
    last = last_ended(target)
    return last is not None and last.state == "failed"


def fetch(url: str, target: Path, md5: str, size: int | None = None, hint: str = "") -> Path:
    """Download (or find) `target` and wait for it; raise DownloadError if it did not finish."""
    download = start(url, target, md5, size, hint)
    download.wait()
    if download.state != "done":
        raise DownloadError(download.error)
    return download.target
