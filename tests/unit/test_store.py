"""core.store: atomic saves, listing, refusing what it cannot trust."""

import json
import zipfile

import numpy as np
import pytest

from core import logreg, store

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def meta(kind="logreg", **extra):
    return {"kind": kind, "dataset": "mnist", "test_accuracy": 0.9, **extra}


def write_logreg(folder):
    import skops.io as sio
    model = logreg.build()
    model.max_iter = 100
    rng = np.random.default_rng(0)
    model.fit(rng.random((40, 784)), np.arange(40) % 10)
    sio.dump(model, folder / "model.skops")
    logreg.save_weights(model, folder / "model.npz")


@pytest.fixture
def roots(tmp_path):
    return tmp_path / "user", tmp_path / "builtin"


def test_save_list_get_delete(roots):
    user, builtin = roots
    saved = store.save(meta(), write_logreg, user)
    models, problems = store.list_models(user, builtin)
    assert [m.id for m in models] == [saved.id] and problems == []
    assert json.loads((saved.path / "meta.json").read_text())["created_at"]
    assert isinstance(store.load_logreg(saved), logreg.Weights)
    assert isinstance(store.load_skops(saved.path), type(logreg.build()))
    store.delete(saved.id, user)
    assert store.list_models(user, builtin)[0] == []


def test_a_failing_write_leaves_nothing_behind(roots):
    user, builtin = roots

    def half_write(folder):
        (folder / "model.npz").write_bytes(b"partial")
        raise KeyboardInterrupt("killed mid-save")

    with pytest.raises(KeyboardInterrupt):
        store.save(meta(), half_write, user)
    assert list(user.iterdir()) == []


def test_broken_folders_are_skipped_with_a_reason(roots):
    user, builtin = roots
    good = store.save(meta(), write_logreg, user)
    (user / "no-meta").mkdir()
    (user / "bad-json").mkdir()
    (user / "bad-json" / "meta.json").write_text("{not json")
    (user / "no-file").mkdir()
    (user / "no-file" / "meta.json").write_text(json.dumps(meta("cnn")))
    models, problems = store.list_models(user, builtin)
    assert [m.id for m in models] == [good.id]
    text = "\n".join(problems)
    assert "no-meta: no meta.json" in text
    assert "bad-json: meta.json is unreadable" in text
    assert "no-file: model.tflite is missing" in text


def test_builtins_come_first_and_are_read_only(roots, monkeypatch):
    user, builtin = roots
    builtin.mkdir(parents=True)
    shipped = store.save(meta(), write_logreg, builtin)
    mine = store.save(meta(), write_logreg, user)
    monkeypatch.setattr(store, "BUILTIN_ROOT", builtin)
    models, _ = store.list_models(user)
    assert [(m.id, m.builtin) for m in models] == [(shipped.id, True), (mine.id, False)]
    assert "built-in" in models[0].label
    with pytest.raises(store.StoreError, match="read-only"):
        store.delete(shipped.id, user)


def test_corrupt_skops_is_refused_clearly(roots):
    user, _ = roots
    saved = store.save(meta(), write_logreg, user)
    (saved.path / "model.skops").write_bytes(b"not a zip at all")
    with pytest.raises(store.StoreError, match="model.skops was refused"):
        store.load_skops(saved.path)


@pytest.mark.parametrize("arrays", [
    {"coef": np.array([object()], dtype=object), "intercept": np.zeros(10), "classes": np.arange(10)},
    {"coef": np.zeros((10, 10)), "intercept": np.zeros(10), "classes": np.arange(10)},
    {"intercept": np.zeros(10), "classes": np.arange(10)},
])
def test_weights_that_need_pickle_or_do_not_fit_are_refused(roots, arrays):
    user, _ = roots
    saved = store.save(meta(), write_logreg, user)
    with open(saved.file, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(store.StoreError, match="model.npz was refused"):
        store.load_logreg(saved)


def test_served_weights_predict_what_scikit_learn_predicts(roots):
    user, _ = roots
    saved = store.save(meta(), write_logreg, user)
    x = np.random.default_rng(1).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    ours = logreg.predict_proba(store.load_logreg(saved), x)
    theirs = logreg.predict_proba(store.load_skops(saved.path), x)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_skops_with_untrusted_types_is_refused(roots):
    """A skops file naming a type outside the defaults must not be loaded."""
    user, _ = roots
    saved = store.save(meta(), write_logreg, user)
    skops_file = saved.path / "model.skops"
    with zipfile.ZipFile(skops_file) as z:
        schema = json.loads(z.read("schema.json"))
        others = {n: z.read(n) for n in z.namelist() if n != "schema.json"}
    schema["__module__"], schema["__class__"] = "os", "system"
    with zipfile.ZipFile(skops_file, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
        for name, blob in others.items():
            z.writestr(name, blob)
    with pytest.raises(store.StoreError, match="refused"):
        store.load_skops(saved.path)


def test_the_oldest_user_models_go_first_beyond_the_cap(roots, monkeypatch):
    user, builtin = roots
    builtin.mkdir(parents=True)
    monkeypatch.setattr(store, "BUILTIN_ROOT", builtin)
    shipped = store.save(meta(), write_logreg, builtin)
    monkeypatch.setenv("DIGITLAB_MAX_MODELS", "2")
    ids = [store.save(meta(created_at=f"2026-01-0{i}T00:00:00+00:00"), write_logreg, user).id
           for i in range(1, 5)]
    kept = [m.id for m in store.list_models(user)[0]]
    assert kept == [shipped.id, ids[3], ids[2]]
