"""Train page under AppTest: where a CNN starts (transfer learning, core.transfer) is offered
for a person's sketch dataset with a Deeper, said in a sentence, and not offered on MNIST; on a
person's photo dataset, from the most accurate CIFAR-10 CNN in the store, or a sentence saying
how to get one."""

import json

from core import transfer
from tests.app.test_own_data import ME, made, open_as, own_root  # noqa: F401 (a fixture)


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_sketch_dataset_offers_a_deeper_cnn_from_the_built_in_and_says_which():
    ds = made()
    at = open_as(ME, page="pages/train.py", dataset=ds.key, timeout=90)
    at.button_group[0].set_value("cnn").run()
    assert ("Transfer learning: to start from the built-in MNIST CNN, choose Deeper, its recipe."
            in captions(at))
    at.radio(key=f"train_recipe-{ds.key}").set_value("Deeper").run()
    start = at.radio(key=f"start_from-{ds.key}")
    assert start.value == transfer.SCRATCH and start.options == list(transfer.OPTIONS.values())
    assert "**Transfer learning**: Starting a model from one trained" in start.help
    assert "Starts from scratch (random weights)." in captions(at)
    start.set_value(transfer.FINE_TUNE).run()
    assert ("Starts from the built-in MNIST CNN's convolutions, frozen for the first 7 epochs, "
            "then all fine-tuned at 0.1 x the learning rate.") in captions(at)
    at.slider(key="epochs-Deeper").set_value(1).run()
    assert "Fine-tuning needs 2 epochs or more" in captions(at)
    assert "frozen throughout" in captions(at)
    assert not at.exception


def test_mnist_offers_no_start_but_scratch():
    at = open_as(ME, page="pages/train.py", timeout=90)
    at.button_group[0].set_value("cnn").run()
    at.radio(key="train_recipe-mnist").set_value("Deeper").run()
    assert not [r for r in at.radio if r.key == "start_from-mnist"]
    assert "transfer learning" not in captions(at)


def photo_dataset():
    """An empty 3-class photo dataset of ME's (the Train page's settings need no examples)."""
    from core import own_datasets

    return own_datasets.create("Snaps", "photo", ["cat", "dog", "cup"], ME)


def stored_cifar10_cnn(root, name: str, accuracy: float) -> None:
    """A CIFAR-10 CNN (Airbench) in the store, with the files listing and choosing it read."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({
        "kind": "cnn", "dataset": "cifar10", "test_accuracy": accuracy,
        "settings": {"recipe": "Airbench"}, "created_at": "2026-12-01T10:00:00+00:00"}))
    for file in ("model.tflite", "model.keras"):
        (folder / file).write_bytes(b"")


def test_a_photo_dataset_without_a_cifar10_cnn_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    ds = photo_dataset()
    at = open_as(ME, page="pages/train.py", dataset=ds.key, timeout=90)
    at.button_group[0].set_value("cnn").run()
    assert transfer.GET_A_BASE in captions(at)
    assert "Train a CNN on CIFAR-10 first" in transfer.GET_A_BASE
    assert not [r for r in at.radio if r.key == f"start_from-{ds.key}"]
    assert not at.exception


def test_a_photo_dataset_offers_the_most_accurate_cifar10_cnn_and_names_it(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path / "models"))
    stored_cifar10_cnn(tmp_path / "models", "cnn-cifar10-worse", 0.802)
    stored_cifar10_cnn(tmp_path / "models", "cnn-cifar10-best", 0.931)
    ds = photo_dataset()
    at = open_as(ME, page="pages/train.py", dataset=ds.key, timeout=90)
    at.button_group[0].set_value("cnn").run()
    start = at.radio(key=f"start_from-{ds.key}")   # Airbench, the photos' default recipe
    assert start.options == ["From scratch",
                             "From the CIFAR-10 CNN trained here (Airbench, 93.1 %), fine-tuned",
                             "From the CIFAR-10 CNN trained here (Airbench, 93.1 %), frozen"]
    start.set_value(transfer.FINE_TUNE).run()
    assert ("Starts from the convolutions of the CIFAR-10 CNN trained here (Airbench, 93.1 %), frozen for "
            "the first 5 epochs, then all fine-tuned at 0.1 x the learning rate.") in captions(at)
    at.radio(key=f"train_recipe-{ds.key}").set_value("Fast").run()
    assert ("Transfer learning: to start from the CIFAR-10 CNN trained here (Airbench, 93.1 %), choose "
            "Airbench, its recipe.") in captions(at)
    assert not at.exception
