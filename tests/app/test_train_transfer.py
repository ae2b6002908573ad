"""Train page under AppTest: where a CNN starts (transfer learning, core.transfer) is offered
for a person's sketch dataset with a Deeper, said in a sentence, and not offered on MNIST."""

from core import transfer
from tests.app.test_own_data import ME, made, open_as, own_root  # noqa: F401 (a fixture)


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_sketch_dataset_offers_a_deeper_cnn_from_the_built_in_and_says_which():
    ds = made()
    at = open_as(ME, page="pages/train.py", dataset=ds.key, timeout=90)
    at.button_group[0].set_value("cnn").run()
    assert "To start from the built-in MNIST CNN (transfer learning), choose Deeper" in captions(at)
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
