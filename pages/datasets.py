"""Your data: make a dataset of your own classes (named here, or a zip of class folders),
see its counts and what it still needs, add and delete examples (pages/dataset_examples.py),
share it, download it as a zip or an .npz, import a zip into it, delete it.

Everything it changes is core's (core.own_datasets, own_examples, own_zip): every refusal is
the core's sentence in an st.error, and nothing else changes.
"""

import streamlit as st

from core import own_datasets, own_zip
from core.datasets import DATASETS, DEFAULT, OWN_KINDS
from core.own_datasets import NeedsConsent, OwnDataset, OwnDatasetError
from pages import common, dataset_examples, picker
from pages.dataset_examples import refusals, said, say_later

common.through_home()

TRAIN_PAGE = "pages/train.py"
ASKING = "own_asking"        # in session_state: the action waiting for consent to make room


def kind_text(kind: str) -> str:
    """"Sketches: grey 28 x 28, drawn on the canvas, read like MNIST"."""
    k = OWN_KINDS[kind]
    h, w, c = k.shape
    how = "drawn on the canvas" if k.digits else "photographed or uploaded"
    return (f"{k.subject.split()[-1].capitalize()}: {'colour' if c == 3 else 'grey'} {h} x {w}, "
            f"{how}, read like {DATASETS[k.like].title}")


def intro() -> None:
    """What a dataset of one's own is, for someone new to it, and where to go next."""
    st.markdown(
        "Make a dataset of **your own classes** (letters, shapes, three kinds of leaves) and "
        "train both models on it. A **class** is one kind of thing the models learn to tell "
        f"apart; each needs {own_datasets.MIN_PER_CLASS} examples at least, and more make "
        "better models. About a fifth of each class's examples (at least "
        f"{own_datasets.MIN_TEST}) are set aside as its **test split**: training never sees "
        "them, so every score says how good a model is on examples it never saw, “on N test "
        "examples of your own”.")
    st.page_link(TRAIN_PAGE, label="When every class has enough: train both models on it",
                 icon=":material/model_training:")


def class_lines(text: str) -> list[str]:
    """Class names typed one per line (or on one line, between commas)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0].split(",") if len(lines) == 1 and "," in lines[0] else lines


def make(action, what: str) -> None:
    """Run `action(confirm)` (it makes a dataset); choose what it made in the sidebar. A full
    server asks first before it deletes a dataset trained in the last day (NeedsConsent)."""
    confirm = st.session_state.get(ASKING, (None,))[0] == what
    st.session_state.pop(ASKING, None)
    try:
        made = action(confirm)
    except NeedsConsent as e:
        st.session_state[ASKING] = (what, str(e))
        st.rerun()
    except OwnDatasetError as e:
        st.error(str(e), icon=":material/block:")
        return
    picker.choose(made.key)
    dataset_examples.fresh("new-form")         # the form starts empty for the next one
    say_later(f"Made “{made.name}”. Now add examples to each class.", place="top")
    st.rerun()


def consent(what: str, action) -> None:
    """The question a full server asks before it deletes a recently trained dataset."""
    asked, question = st.session_state.get(ASKING, (None, ""))
    if asked != what:
        return
    st.warning(question, icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Delete it and make mine", type="primary", key=f"consent-{what}"):
        make(action, what)
    if no.button("Cancel", key=f"consent-no-{what}"):
        st.session_state.pop(ASKING, None)
        st.rerun()


def by_hand(me: str) -> None:
    """A new dataset from a name, a kind and its class names."""
    form = dataset_examples.counter("new-form")
    name = st.text_input("Name", key=f"new-name-{form}", placeholder="e.g. Letters",
                         max_chars=own_datasets.MAX_NAME)
    kind = st.radio("Kind", list(OWN_KINDS), format_func=kind_text, key=f"new-kind-{form}")
    names = st.text_area(f"Class names, one per line ({own_datasets.MIN_CLASSES} to "
                         f"{own_datasets.MAX_CLASSES})", key=f"new-classes-{form}",
                         placeholder="e.g. circle\nsquare\ntriangle")
    action = lambda confirm: own_datasets.create(name, kind, class_lines(names), me, confirm)
    if st.button("Create", type="primary", icon=":material/add:", key="new-create"):
        make(action, "create")
    consent("create", action)


def from_zip(me: str) -> None:
    """A new dataset from a zip of one folder of images per class, in one upload."""
    upload = st.file_uploader("A zip with one folder of images per class (a/1.png, b/2.jpg, …: "
                              "the layout of Keras' image_dataset_from_directory)", ["zip"],
                              key=f"new-zip-{dataset_examples.counter('new-form')}")
    kind = st.radio("Kind", list(OWN_KINDS), format_func=kind_text, key="zip-kind")
    name = st.text_input("Name (left empty: the zip's)",
                         key=f"zip-name-{dataset_examples.counter('new-form')}",
                         max_chars=own_datasets.MAX_NAME)
    if upload is None:
        return
    action = lambda confirm: own_zip.import_zip(
        upload.getvalue(), me, kind, name.strip() or None, confirm=confirm,
        file_name=upload.name).dataset
    if st.button("Create from the zip", type="primary", icon=":material/folder_zip:",
                 key="zip-create"):
        make(action, "zip")
    consent("zip", action)


def new_dataset(me: str, expanded: bool) -> None:
    """The two ways to make a dataset, in a part that starts open when none is chosen."""
    with st.expander("Make a new dataset", expanded=expanded, icon=":material/add_circle:"):
        hand, zipped = st.tabs(["Name its classes", "From a zip of class folders"])
        with hand:
            by_hand(me)
        with zipped:
            from_zip(me)


def counts_part(ds: OwnDataset) -> None:
    """Examples per class (train / test), what training still needs, and unequal classes."""
    counts = own_datasets.counts(ds)
    rows = [f"| {common.plain(name)} | {a} | {b} | {a + b} |" for name, (a, b) in counts.items()]
    train, test = (sum(c[i] for c in counts.values()) for i in (0, 1))
    st.markdown("\n".join(["| Class | Train | Test | All |", "|---|--:|--:|--:|", *rows,
                           f"| **All** | **{train}** | **{test}** | **{train + test}** |"]))
    problem = own_datasets.training_problem(ds)
    if problem:
        st.warning(f"**Not ready to train.** {problem}", icon=":material/block:")
    else:
        st.success(f"Ready to train: scores will say “on {test} test examples of your own”.",
                   icon=":material/check_circle:")
        st.page_link(TRAIN_PAGE, label=f"Train both models on “{ds.name}”",
                     icon=":material/model_training:")
    if (unequal := own_datasets.imbalance_warning(ds)) is not None:
        st.warning(unequal, icon=":material/balance:")


def sharing_part(ds: OwnDataset, me: str) -> None:
    """The owner's "anyone with the link" switch, and the link."""
    shared = st.toggle("Anyone with the link may see it", value=ds.shared,
                       key=f"share-{ds.key}-{ds.shared}",
                       help="They may see it, train on it and download it; only you change it.")
    if shared != ds.shared:
        with refusals():
            own_datasets.set_shared(ds.key, shared, me)
            st.rerun()
    if ds.shared:
        st.caption("Its link (it opens this dataset for anyone):")
        st.code(f"{st.context.url or ''}?dataset={ds.key}", language=None)


def export_part(ds: OwnDataset) -> None:
    """Download it as a zip of class folders (the layout it takes back) or as an .npz."""
    row = st.container(horizontal=True)
    row.download_button("Download as zip", lambda: own_zip.export_zip(ds.key),
                        own_zip.download_name(ds, ".zip"), "application/zip",
                        icon=":material/folder_zip:", on_click="ignore", key="own-get-zip")
    row.download_button("Download as .npz", lambda: own_zip.export_npz(ds.key),
                        own_zip.download_name(ds, ".npz"), "application/octet-stream",
                        icon=":material/download:", on_click="ignore", key="own-get-npz",
                        help="x_train, y_train, x_test, y_test (this split) and class_names, "
                             "for numpy.load")


def import_part(ds: OwnDataset, me: str) -> None:
    """A zip of class folders added to this dataset (examples it has already are skipped)."""
    upload = st.file_uploader(f"Add a zip of class folders to “{ds.name}” (its folders named "
                              "like its classes; a zip downloaded here fits)", ["zip"],
                              key=f"own-import-{dataset_examples.counter('import')}")
    if upload is not None and st.button(f"Import into “{ds.name}”", icon=":material/upload:",
                                        key="own-import"):
        with refusals():
            done = own_zip.import_zip(upload.getvalue(), me, into=ds.key, file_name=upload.name)
            dataset_examples.fresh("import")
            skipped = f"; {done.skipped} it had already were skipped" if done.skipped else ""
            say_later(f"Imported {done.added} examples from {upload.name}{skipped}.",
                      place="top")
            st.rerun()


def delete_part(ds: OwnDataset, me: str) -> None:
    """Delete the dataset, once its owner confirmed."""
    asking = f"own-deleting-{ds.key}"
    if not st.session_state.get(asking):
        if st.button("Delete this dataset…", icon=":material/delete_forever:", key="own-delete"):
            st.session_state[asking] = True
            st.rerun()
        return
    n = sum(a + b for a, b in own_datasets.counts(ds).values())
    st.warning(f"Delete “{ds.name}” and its {n} examples for good? Download its zip first to "
               "keep a copy.", icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Delete for good", type="primary", key="own-delete-yes"):
        st.session_state.pop(asking, None)
        with refusals():
            own_datasets.delete(ds.key, me)
            picker.choose(DEFAULT)
            say_later(f"Deleted “{ds.name}”.", place="top")
            st.rerun()
    if no.button("Keep it", key="own-delete-no"):
        st.session_state.pop(asking, None)
        st.rerun()


def dataset_part(ds: OwnDataset, me: str) -> None:
    """One dataset: counts, its classes' examples, and what its owner may do with it."""
    mine = ds.owner == me
    st.header(ds.name)
    st.caption(f"{kind_text(ds.kind)} · {len(ds.class_names)} classes · "
               + ("yours" if mine else "shared by its owner: you may see it, train on it and "
                                       "download it"))
    counts_part(ds)
    dataset_examples.class_part(ds, mine, me)
    st.subheader("Keep it, share it")
    export_part(ds)
    if mine:
        sharing_part(ds, me)
        import_part(ds, me)
        delete_part(ds, me)


def chosen(me: str) -> OwnDataset | None:
    """The sidebar's dataset when it is one a person made and `me` may see, else None."""
    try:
        ds = own_datasets.get(common.chosen_name())
    except OwnDatasetError:
        return None
    return ds if own_datasets.may_see(ds, me) else None


def others(me: str, current: OwnDataset | None) -> None:
    """This person's other datasets, each a click away (the sidebar's menu has them too)."""
    theirs = [d for d in own_datasets.visible(me) if d.owner == me and d != current]
    if theirs:
        st.caption("Your other datasets:" if current else "Your datasets:")
        row = st.container(horizontal=True)
        for d in theirs:
            if row.button(d.name, key=f"own-open-{d.key}", icon=":material/dataset:"):
                picker.choose(d.key)
                st.rerun()


st.title("Your data")
me = common.session_id()
intro()
said("top")
current = chosen(me)
new_dataset(me, expanded=current is None or st.session_state.pop(picker.NEW_ASKED, False))
others(me, current)
if current is None:
    st.info("Make a dataset above, or choose one of yours in the sidebar's **Dataset** menu. "
            "It is kept with this tab's address: bookmark it to come back to your datasets.",
            icon=":material/info:")
else:
    dataset_part(current, me)
