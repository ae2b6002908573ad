"""A dataset a person made in one file: a zip of one folder per class in and out (Keras'
`image_dataset_from_directory` layout), and an .npz out.

    letters.zip:   a/1.png  b/2.jpg ...     or, in a single top folder:   letters/a/1.png ...

Everything is checked before a pixel is decoded: the zip's own size, its number of files,
the sizes its members declare (zipfile never returns more than that), paths that climb out,
nested archives, files outside class folders. Then every image is decoded (core.images:
image bombs refused) and prepared like the dataset's kind. A refusal names the file and
changes nothing. Exported zips name each file by its example's id, in the order the examples
were added, so a downloaded zip uploaded back gives the same examples, ids and classes (in
their order), and the same split unless examples had been deleted before the download.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from core import datasets, images
from core.own_datasets import (
    MAX_EXAMPLES,
    MAX_NAME,
    MAX_UPLOAD_BYTES,
    LimitError,
    OwnDataset,
    OwnDatasetError,
    checked_classes,
    checked_name,
    create,
    discard,
    examples,
    get,
    mine,
)
from core.own_examples import add_prepared, class_index, decoded, prepared

MAX_FILES = MAX_EXAMPLES
MAX_MEMBER_BYTES = MAX_UPLOAD_BYTES          # what one member may declare, uncompressed
MAX_TOTAL_BYTES = 10 * MAX_UPLOAD_BYTES      # what all members may declare together (200 MB)
JUNK = re.compile(r"(^|/)(__MACOSX/|\._)|(^|/)(\.DS_Store|Thumbs\.db|desktop\.ini)$")
ARCHIVE_ENDINGS = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")
UTF8_FLAG, ENCRYPTED_FLAG = 0x800, 0x1
EXPORT_IMAGE = ".png"
DEFAULT_TITLE = "Imported"


@dataclass(frozen=True)
class Imported:
    """What an import did: the dataset, examples added, and those it had already (skipped)."""

    dataset: OwnDataset
    added: int
    skipped: int


# ---------------------------------------------------------------- reading a zip's listing

def member_name(member: zipfile.ZipInfo) -> str:
    """A member's path as its maker wrote it: UTF-8 even when the zip did not say so, "/"
    between folders, accents composed (macOS writes "é" as two characters)."""
    name = member.filename
    if not member.flag_bits & UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def _checked_member(member: zipfile.ZipInfo, name: str) -> tuple[str, ...]:
    """The folders and file name of one member, or OwnDatasetError naming it."""
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise OwnDatasetError(f"{name}: its path leads out of the zip's folder; refused.")
    if name.lower().endswith(ARCHIVE_ENDINGS):
        raise OwnDatasetError(f"{name}: an archive inside the zip; put its images in the zip "
                              "itself.")
    if member.flag_bits & ENCRYPTED_FLAG:
        raise OwnDatasetError(f"{name}: it is encrypted (password-protected); refused.")
    if member.file_size > MAX_MEMBER_BYTES:
        raise OwnDatasetError(f"{name}: it unpacks to {member.file_size / 2**20:,.1f} MB; one "
                              f"image may be {MAX_MEMBER_BYTES // 2**20} MB at most.")
    return parts


def listing(zf: zipfile.ZipFile) -> list[tuple[tuple[str, ...], zipfile.ZipInfo]]:
    """The zip's files and folders (system junk left out), checked before any is read."""
    entries, files, total = [], 0, 0
    for member in zf.infolist():
        name = member_name(member)
        parts = _checked_member(member, name)
        if JUNK.search(name) or not parts:
            continue
        entries.append((parts, member))
        files += not member.is_dir()
        total += member.file_size
        if files > MAX_FILES:
            raise LimitError(f"The zip holds more than {MAX_FILES:,} files; a dataset "
                                  f"holds {MAX_EXAMPLES:,} examples at most.")
    if total > MAX_TOTAL_BYTES:
        raise OwnDatasetError(f"The zip's files unpack to {total / 2**20:,.0f} MB; "
                              f"{MAX_TOTAL_BYTES // 2**20} MB at most (a zip bomb?).")
    if not files:
        raise OwnDatasetError("The zip holds no files: put one folder of images per class in it.")
    return entries


def layout(entries) -> tuple[str | None, dict[str, list[tuple[str, zipfile.ZipInfo]]]]:
    """(the single top folder or None, {class folder: [(path, member)]}) in the zip's order;
    an empty class folder is a class without examples yet."""
    files = [parts for parts, member in entries if not member.is_dir()]
    tops = {parts[0] for parts, _ in entries}
    top = next(iter(tops)) if len(tops) == 1 and all(len(p) >= 3 for p in files) else None
    classes: dict[str, list] = {}
    for parts, member in entries:
        inner = parts[1:] if top else parts
        path = "/".join(parts)
        if member.is_dir():
            if len(inner) == 1:
                classes.setdefault(inner[0].strip(), [])
            continue
        if len(inner) == 1:
            raise OwnDatasetError(f"{path}: not inside a class folder. Put each image in the "
                                  "folder of its class (a/1.png, b/2.png, ...).")
        if len(inner) > 2:
            raise OwnDatasetError(f"{path}: in a folder inside a class folder. Put each image "
                                  "directly in the folder of its class.")
        classes.setdefault(inner[0].strip(), []).append((path, member))
    return top, classes


def open_zip(content: bytes, file_name: str) -> zipfile.ZipFile:
    """The upload as a zip, or OwnDatasetError (too big, not a zip)."""
    file_name = file_name or "The upload"
    if len(content) > MAX_UPLOAD_BYTES:
        raise LimitError(f"{file_name} is {len(content) / 2**20:.1f} MB; one upload is "
                              f"{MAX_UPLOAD_BYTES // 2**20} MB at most.")
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise OwnDatasetError(f"{file_name} is not a zip file that can be read.") from None


# ---------------------------------------------------------------- importing

def _read(zf: zipfile.ZipFile, path: str, member: zipfile.ZipInfo) -> bytes:
    """One member's bytes (at most what it declared), or OwnDatasetError naming it."""
    try:
        content = zf.read(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
        raise OwnDatasetError(f"{path}: it cannot be unpacked ({e}).") from None
    if content.startswith(ARCHIVE_MAGIC):
        raise OwnDatasetError(f"{path}: an archive inside the zip; put its images in the zip "
                              "itself.")
    return content


def _prepared(zf, classes, kind: str) -> list[tuple[str, str, np.ndarray]]:
    """(class, file stem, example) for every image, or OwnDatasetError naming the first bad one."""
    out = []
    for name, members in classes.items():
        for path, member in members:
            pixels = decoded(path, _read(zf, path, member))
            out.append((name, PurePosixPath(path).stem, prepared(kind, pixels, path)))
    return out


def _target(classes, top, person, kind, name, into, file_name) -> tuple[OwnDataset | None, str]:
    """The dataset examples go to (None: one to make) and its kind; refusals before any change."""
    if into:
        ds = mine(into, person)
        unknown = [c for c in classes if c not in ds.class_names]
        if unknown:
            raise OwnDatasetError(f"The zip's folders {', '.join(unknown)} are not classes of "
                                  f"“{ds.name}” ({', '.join(ds.class_names)}).")
        return ds, ds.kind
    checked_classes(classes)
    checked_name(_title(name, top, file_name))
    if kind not in datasets.OWN_KINDS:
        raise OwnDatasetError(f"Choose the kind of dataset the zip makes: "
                              f"{' or '.join(datasets.OWN_KINDS)}.")
    return None, kind


def _title(name: str | None, top: str | None, file_name: str) -> str:
    """The new dataset's name: the one given, else the zip's top folder's or file's (cut short)."""
    return name or (top or PurePosixPath(file_name).stem or DEFAULT_TITLE)[:MAX_NAME].strip()


def _fingerprint(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()


def import_zip(content: bytes, person: str, kind: str | None = None, name: str | None = None,
               into: str | None = None, confirm: bool = False,
               file_name: str = "") -> Imported:
    """A zip of class folders as a new dataset of `person`'s (`kind` and `name`: else the top
    folder's or the file's name), or added `into` their dataset of the same classes (examples
    it has already are skipped). OwnDatasetError naming the file (LimitError, NeedsConsent)."""
    with open_zip(content, file_name) as zf:
        top, classes = layout(listing(zf))
        ds, kind = _target(classes, top, person, kind, name, into, file_name)
        found = _prepared(zf, classes, kind)
    if ds is None:
        ds = create(_title(name, top, file_name), kind, list(classes), person, confirm)
        try:
            return _add_new(ds, found, person)
        except Exception:
            discard(ds.key)         # nothing changed: the new dataset goes again
            raise
    return _add_new(ds, found, person)


def _add_new(ds: OwnDataset, found, person: str) -> Imported:
    """Add the examples `ds` does not hold yet (the same pixels in the same class)."""
    ex = examples(ds.key)
    seen = {(int(y), _fingerprint(x)) for x, y in zip(ex.x, ex.y)}
    labels, xs, ids = [], [], []
    for class_name, stem, x in found:
        key = (class_index(ds, class_name), _fingerprint(x))
        if key not in seen:        # only what it had before: the zip's own repeats stay
            labels.append(key[0])
            xs.append(x)
            ids.append(stem)
    if xs:
        add_prepared(ds.key, person, labels, xs, ids)
    return Imported(get(ds.key), len(xs), len(found) - len(xs))


# ---------------------------------------------------------------- exporting

def download_name(ds: OwnDataset, ending: str) -> str:
    """A file name for a download of `ds`: its name, letters and digits kept (accents too)."""
    stem = re.sub(r"[^\w\- ]+", "_", ds.name).strip() or "dataset"
    return stem + ending


def export_zip(key: str) -> bytes:
    """Dataset `key` as a zip: <name>/<class>/<example id>.png, in the order they were added."""
    ds, ex = get(key), examples(key)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, class_name in enumerate(ds.class_names):
            zf.writestr(f"{ds.name}/{class_name}/", b"")  # empty classes keep their folder
            for x, example_id in zip(ex.x[ex.y == i], ex.ids[ex.y == i]):
                zf.writestr(f"{ds.name}/{class_name}/{example_id}{EXPORT_IMAGE}",
                            images.encode_png(x))
    return buf.getvalue()


def export_npz(key: str) -> bytes:
    """Dataset `key` as an .npz: x_train, y_train, x_test, y_test (its split), class_names."""
    ds, ex = get(key), examples(key)
    buf = io.BytesIO()
    np.savez_compressed(buf, x_train=ex.x[~ex.test], y_train=ex.y[~ex.test].astype(np.uint8),
                        x_test=ex.x[ex.test], y_test=ex.y[ex.test].astype(np.uint8),
                        class_names=np.array(ds.class_names))
    return buf.getvalue()
