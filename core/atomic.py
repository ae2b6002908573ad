"""Files saved all or nothing, and the locks that keep two sessions' changes from crossing.

A save writes a temp file beside its target, fsyncs it and renames it over the target, so a
crash at any moment leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path

STALE_TMP_S = 3600      # a temp file this old is left over from a killed save
TMP_PATTERN = ".*.tmp"  # the names write_atomic gives its temp files

_locks: dict[str, threading.RLock] = {}
server_lock = threading.RLock()     # making and removing datasets: counts and limits stay true


def dataset_lock(key: str) -> threading.RLock:
    """One lock per dataset: two sessions adding at once do not lose each other's examples."""
    with server_lock:
        return _locks.setdefault(key, threading.RLock())


def write_atomic(path: Path, content: bytes) -> None:
    """Write a temp file beside `path`, fsync it, then rename it over `path` (all or nothing)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_tmp(folder: Path) -> None:
    """Temp files and folders a killed save left behind (never those of a save going on now)."""
    for tmp in folder.glob(TMP_PATTERN) if folder.is_dir() else ():
        try:
            if time.time() - tmp.stat().st_mtime <= STALE_TMP_S:
                continue
            if tmp.is_dir():
                shutil.rmtree(tmp)
            else:
                tmp.unlink()
        except OSError:
            continue
