"""The model modules on colour images: CIFAR-10's 32 x 32 x 3 wherever MNIST's 28 x 28 went."""

import numpy as np
import pytest

from core import charts, datasets, explain, images, logreg
from core.kinds import Spec, recipe_spec, speed_key

SHAPE = datasets.DATASETS["cifar10"].shape


def photo(h: int = 120, w: int = 200) -> np.ndarray:
    """A landscape RGB 'photo': red on the left half, blue on the right, a white square mid."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, : w // 2, 0] = 200
    image[:, w // 2:, 2] = 200
    image[h // 2 - 10:h // 2 + 10, w // 2 - 10:w // 2 + 10] = 255
    return image


def test_a_photo_becomes_one_dataset_image_of_the_right_shape():
    colour = images.as_dataset_image(photo(), SHAPE)
    assert colour.shape == (32, 32, 3) and colour.dtype == np.uint8
    assert colour[16, 16].min() > 200                     # the centre square is the middle
    assert colour[16, 2, 0] > 150 and colour[16, 29, 2] > 150   # red left, blue right, cropped
    grey = images.as_dataset_image(np.full((50, 50, 3), 230, np.uint8), (28, 28, 1))
    assert grey.shape == (28, 28)


def test_a_grey_photo_gets_a_light_subject_on_a_dark_ground_as_fashion_mnist_has():
    shirt = np.full((90, 90), 240, np.uint8)              # a dark shirt on a light table
    shirt[20:70, 25:65] = 40
    dark_ground = images.as_dataset_image(shirt, (28, 28, 1))
    assert dark_ground[0, 0] < 30 and dark_ground[14, 14] > 200
    already = images.as_dataset_image(255 - shirt, (28, 28, 1))
    np.testing.assert_array_equal(already, dark_ground)   # left as it is


def test_logreg_weights_and_evidence_in_colour():
    rng = np.random.default_rng(0)
    w = logreg.Weights(rng.normal(size=(10, 32 * 32 * 3)).astype(np.float32),
                       rng.normal(size=10).astype(np.float32), np.arange(10))
    assert logreg.weight_images(w, SHAPE).shape == (10, 32, 32, 3)
    x = rng.random(SHAPE, dtype=np.float32)
    for cls in range(10):
        terms = explain.evidence(w.coef_, x, cls)
        assert terms.shape == (32, 32)                    # the three channels added up
        score = x.reshape(-1) @ w.coef_[cls] + w.intercept_[cls]
        assert terms.sum() == pytest.approx(score - w.intercept_[cls], abs=1e-3)
    assert logreg.predict_proba(w, (x * 255).astype(np.uint8)[None]).shape == (1, 10)


def test_occlusion_of_a_colour_image_covers_every_place_with_its_fill():
    seen = []

    def predict(batch):
        seen.append(batch)
        return np.full((len(batch), 10), 0.1)

    image = np.random.default_rng(1).random(SHAPE, dtype=np.float32)
    fill = image.mean(axis=(0, 1))
    maps = explain.occlusion(predict, image, fill)
    assert maps.shape == (10, 32, 32)
    assert len(seen[0]) == 1 + 15 * 15                     # the image, then every 4 x 4 place
    np.testing.assert_allclose(seen[0][1, :4, :4], np.broadcast_to(fill, (4, 4, 3)))


def test_colour_filters_and_weights_are_drawn_as_colour_images():
    kernels = np.random.default_rng(2).normal(size=(24, 2, 2, 3)).astype(np.float32)
    figure = charts.first_layer_filters(kernels, "t", "n")
    assert figure.data[0].type == "image"
    z = np.asarray(figure.data[0].z)
    assert z.shape == (3 * 3 - 1, 8 * 3 - 1, 3) and (z[2] == 255).all()   # white gutters
    weights = charts.logreg_weights(np.zeros((10, 32, 32, 3)), datasets.DATASETS["cifar10"]
                                    .class_names, "t", "n")
    assert [trace.type for trace in weights.data] == ["image"] * 10


def test_speed_is_kept_per_image_shape():
    assert speed_key(recipe_spec("Airbench", "cifar10")) == "32x32x3:cnn/Airbench/augment"
    assert speed_key(Spec("logreg", "fashion_mnist")) == speed_key(Spec("logreg", "mnist"))


@pytest.fixture
def small_cifar(tmp_path, monkeypatch):
    """A small made-up CIFAR-10 in the official format, as CIFAR10_PATH."""
    from core import cifar
    from tests import cifar_synth
    archive = tmp_path / "cifar-10-binary.tar.gz"
    cifar.write(archive, *cifar_synth.make(600, 200))
    monkeypatch.setenv("CIFAR10_PATH", str(archive))   # the worker inherits it


def test_both_kinds_train_on_colour_and_are_served(runner, small_cifar):
    from pathlib import Path

    from core import serving, store
    lr = runner.wait(runner.start(Spec("logreg", "cifar10", epochs=2)).id, timeout=120)
    assert lr.status == "done", lr.error
    assert lr.learned.shape == (10, 32, 32, 3)                # weight images in colour, live
    cnn = runner.wait(runner.start(recipe_spec("Airbench", "cifar10", epochs=1)).id, timeout=180)
    assert cnn.status == "done", cnn.error
    assert cnn.learned.shape == (24, 2, 2, 3)                 # first-layer filters in colour
    served = serving.Serving()
    try:
        x = np.random.default_rng(0).integers(0, 256, (5, *SHAPE), dtype=np.uint8)
        for job in (lr, cnn):
            model = store.get(job.model_id, Path(runner.models_root))
            assert model.shape == SHAPE and model.meta["input_shape"] == list(SHAPE)
            probs = served.predict_proba(model, x)
            assert probs.shape == (5, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
        inside = served.inside(model, x[0])
        assert inside.filters.shape == (24, 2, 2, 3) and len(inside.layers) == 7
    finally:
        served.predictor.close()
