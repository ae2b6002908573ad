"""Your data, one class at a time: add examples to it (drawn on the canvas, taken with the
camera, uploaded), see each one as it was kept, and a gallery of its examples, each deletable.

The examples are prepared and stored by core.own_examples; this module only draws the page
and says what happened. Every refusal is the core's sentence, and changes nothing.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core import images, own_datasets, own_examples
from core.datasets import OWN_KINDS
from core.own_datasets import OwnDataset, OwnDatasetError
from pages import common

CANVAS = 280                 # px, as on the Draw page
BRUSH = 20                   # px: a stroke like the Draw page's default
GALLERY_PAGE = 40            # examples shown at once in a class's gallery ("Show more")
ZOOM = 2                     # each example shown at twice its size, pixels kept square
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
NOTE = "own_note"            # in session_state: what the last change did, shown after the rerun
NOTE_SHOWN = 12              # examples the note shows as kept (the last added, when more)
WAYS = {"draw": "Draw", "camera": "Camera", "files": "Upload images"}


# ---------------------------------------------------------------- what happened

def say_later(text: str, kept: list[np.ndarray] | None = None, place: str = "class") -> None:
    """Keep a sentence (and the examples as they were kept) for the next run to show at
    `place`: "top" of the page, or by the "class" being added to."""
    st.session_state[NOTE] = (place, text, kept or [])


def said(place: str) -> None:
    """Show what the last change did, once, where it belongs: in a box drawn on every run,
    so the parts below keep their place (a tab chosen below stays chosen)."""
    box = st.container()
    if st.session_state.get(NOTE, ("",))[0] == place:
        _, text, kept = st.session_state.pop(NOTE)
        box.success(text, icon=":material/check_circle:")
        if kept:
            box.image([zoomed(x) for x in kept[-NOTE_SHOWN:]], width=ZOOM * kept[0].shape[1])


@contextmanager
def refusals():
    """Show a refusal of the core (OwnDatasetError) as its own sentence; nothing changed."""
    try:
        yield
    except OwnDatasetError as e:
        st.error(str(e), icon=":material/block:")


def zoomed(x: np.ndarray) -> np.ndarray:
    """An example enlarged ZOOM times with its pixels square (a browser would blur it)."""
    return images.pixelated(x, ZOOM * max(x.shape[:2]))


def counter(name: str) -> int:
    """A number in session_state that grows each time a widget must start afresh."""
    return st.session_state.get(f"fresh-{name}", 0)


def fresh(name: str) -> None:
    """The widget keyed by `counter(name)` starts empty on the next run (a cleared canvas)."""
    st.session_state[f"fresh-{name}"] = counter(name) + 1


# ---------------------------------------------------------------- adding

def report(ds: OwnDataset, index: int, ids: list[str]) -> None:
    """Say what was added to class `index` and where it went (train or test), as it was
    kept; then rerun, so the counts and the gallery show it."""
    ex = own_datasets.examples(ds.key)
    new = np.isin(ex.ids, ids)
    tested, n = int((new & ex.test).sum()), len(ids)
    where = (f"kept for testing: training never sees {'it' if n == 1 else 'them'}"
             if tested == n else "kept for training" if not tested else
             f"{tested} kept for testing, {n - tested} for training")
    name = common.plain(ds.class_names[index])
    shown = "As kept:" if n <= NOTE_SHOWN else f"The last {NOTE_SHOWN} as kept:"
    say_later(f"Added {n} example{'s' * (n > 1)} to ‘{name}’, {where}. {shown}",
              list(ex.x[new]))
    st.rerun()


def draw_part(ds: OwnDataset, index: int, me: str) -> None:
    """The canvas; "Add to <class>" keeps the drawing (read like MNIST) and clears it."""
    name = common.plain(ds.class_names[index])   # as typed, in Markdown
    st.caption(f"Draw one ‘{name}’ in the black box, big and centred, then press **Add to "
               f"‘{name}’**: the box clears for the next one.")
    left, right = st.columns([1, 1], gap="medium")
    with left:
        canvas = st_canvas(stroke_width=BRUSH, stroke_color="#ffffff",
                           background_color="#000000", width=CANVAS, height=CANVAS,
                           drawing_mode="freedraw", return_image_data=True,
                           key=f"own-canvas-{counter('canvas')}")
        row = st.container(horizontal=True)
        add = row.button(f"Add to ‘{name}’", type="primary", icon=":material/add:",
                         key="own-add-drawing")
        if row.button("Clear", icon=":material/ink_eraser:", key="own-clear"):
            fresh("canvas")
            st.rerun()
    image = canvas.image_data
    if image is None:
        image = np.zeros((CANVAS, CANVAS), np.uint8)      # not drawn on yet
    with right:
        preview(ds.kind, image)
    if add:
        with refusals():
            ids = own_examples.add_images(ds.key, index, [image], me, ["The drawing"])
            fresh("canvas")
            report(ds, index, ids)


def preview(kind: str, image: np.ndarray) -> None:
    """What the drawing would be kept as (nothing while the canvas is empty)."""
    if not image[..., :3].any():
        return
    try:
        kept = own_examples.prepared(kind, image, "The drawing")
    except OwnDatasetError as e:
        st.caption(str(e))
        return
    st.image(images.pixelated(kept, 140), width=140,
             caption="It will be kept like this: cropped to the ink and centred in 28 x 28, "
                     "as MNIST's digits were.")


def camera_part(ds: OwnDataset, index: int, me: str) -> None:
    """One photo per click of the camera's button; kept at once, then the camera is live again."""
    name = common.plain(ds.class_names[index])
    shot = st.camera_input(f"Take a photo of one ‘{name}’", key=f"own-camera-{counter('camera')}")
    if shot is not None:
        with refusals():
            ids = own_examples.add_files(ds.key, index, [("The photo", shot.getvalue())], me)
            fresh("camera")
            report(ds, index, ids)


def files_part(ds: OwnDataset, index: int, me: str) -> None:
    """Many image files at once, all added to the class or none (the refusal names the file)."""
    name = common.plain(ds.class_names[index])
    most = own_datasets.MAX_UPLOAD_BYTES // 2**20        # the widget says its limit per file
    files = st.file_uploader(f"Images of ‘{name}’ (PNG, JPEG, …; many at once, {most} MB "
                             "together at most)", IMAGE_TYPES,
                             accept_multiple_files=True, key=f"own-files-{counter('files')}")
    if files and st.button(f"Add {len(files)} image{'s' * (len(files) > 1)} to ‘{name}’",
                           type="primary", icon=":material/upload:", key="own-add-files"):
        with refusals():
            ids = own_examples.add_files(ds.key, index, [(f.name, f.getvalue()) for f in files],
                                         me)
            fresh("files")
            report(ds, index, ids)


def add_part(ds: OwnDataset, index: int, me: str) -> None:
    """The ways to add examples to class `index` (drawing only for sketches)."""
    # Sketches are drawn first; photos uploaded first (the camera asks the browser's leave)
    ways = ["draw", "camera", "files"] if OWN_KINDS[ds.kind].digits else ["files", "camera"]
    way = st.radio("Add examples by", ways, format_func=WAYS.get, horizontal=True,
                   key=f"own-way-{ds.kind}")
    {"draw": draw_part, "camera": camera_part, "files": files_part}[way](ds, index, me)


# ---------------------------------------------------------------- the gallery

def gallery(ds: OwnDataset, index: int, mine: bool, me: str) -> None:
    """Class `index`'s examples, the newest first, each marked train or test; its owner may
    delete each one."""
    ex = own_datasets.examples(ds.key)
    found = np.flatnonzero(ex.y == index)[::-1]
    name = common.plain(ds.class_names[index])
    if not len(found):
        st.caption(f"No examples of ‘{name}’ yet.")
        return
    st.caption("Newest first. Under each, the part it went to: *train* (the models learn from "
               "it) or *test* (kept apart to score them).")
    shown_key = f"own-shown-{ds.key}-{index}"
    limit = st.session_state.get(shown_key, GALLERY_PAGE)
    side = ZOOM * max(ds.shape[:2])
    grid = st.container(horizontal=True, gap="small")
    for i in found[:limit]:
        cell = grid.container(width=max(side, 72), gap=None)
        cell.image(zoomed(ex.x[i]), width=side, caption="test" if ex.test[i] else "train")
        if mine and cell.button("Delete", icon=":material/delete:", type="tertiary",
                                key=f"own-delete-{ex.ids[i]}", help="Delete this example"):
            with refusals():
                own_examples.delete_example(ds.key, str(ex.ids[i]), me)
                say_later(f"Deleted an example of ‘{name}’.")
                st.rerun()
    rest = len(found) - limit
    if rest > 0 and st.button(f"Show {min(rest, GALLERY_PAGE)} more of {rest}",
                              key=f"own-more-{ds.key}-{index}"):
        st.session_state[shown_key] = limit + GALLERY_PAGE
        st.rerun()


def class_part(ds: OwnDataset, mine: bool, me: str) -> None:
    """Choose a class; add examples to it (its owner) and see its gallery."""
    totals = {name: a + b for name, (a, b) in own_datasets.counts(ds).items()}
    # Names alone: a label that changed (a count in it) would send the choice back to the first
    index = st.radio("Class", range(len(ds.class_names)), horizontal=True,
                     key=f"own-class-{ds.key}",
                     format_func=lambda i: common.plain(ds.class_names[i]))
    name, n = common.plain(ds.class_names[index]), totals[ds.class_names[index]]
    if mine:
        st.subheader(f"Add to ‘{name}’")
        add_part(ds, index, me)
        said("class")
    st.subheader(f"‘{name}’: its {n} example{'s' * (n != 1)}")
    gallery(ds, index, mine, me)


if __name__ == "__main__":  # a helper, not a page: opened by URL before any session ran Home.py
    common.through_home()
