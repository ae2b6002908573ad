"""The layers of each CNN recipe (core.kinds.RECIPES), for any number of classes, and the
augmentation layers.

Importing this module imports TensorFlow, so only worker processes import it (through core.cnn).
"""

from __future__ import annotations

import keras
from keras import layers

from core.kinds import RECIPES


def augmentation(kind: str, side: int) -> keras.Sequential:
    """Random changes of the training images, new every batch, active only while training.

    "rotate-shift-zoom" (digits): rotations up to ±15°, shifts and zooms up to ±10 %.
    "flip-shift" (photos): left-right flips and shifts of up to 4 pixels.
    """
    if kind == "rotate-shift-zoom":
        steps = [layers.RandomRotation(15 / 360, fill_mode="constant"),
                 layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                 layers.RandomZoom(0.1, fill_mode="constant")]
    else:
        steps = [layers.RandomFlip("horizontal"),
                 layers.RandomTranslation(4 / side, 4 / side, fill_mode="constant")]
    return keras.Sequential(steps, name="augmentation")


def fast(classes: int) -> list[layers.Layer]:
    """Cheap layers that learn fast: 39,898 parameters, ~99 % in 2 epochs (Classic needs ~10).

    A stride-2 5x5 convolution halves the image first, so the costlier convolutions work
    on 14x14; batch normalisation lets a one-cycle schedule use a high learning rate from
    the first step. BatchNorm momentum as in `deeper`.
    """
    return [*fast_convolutions(), layers.Flatten(), output(classes)]


def fast_convolutions(last: int = 64) -> list[layers.Layer]:
    """Fast's three convolutions, each with batch normalisation and ReLU: 5 x 5 x `last` out."""
    return [*normalised(layers.Conv2D(16, 5, strides=2, padding="same", use_bias=False)),
            *normalised(layers.Conv2D(32, 3, padding="same", use_bias=False)),
            layers.MaxPooling2D(2), *normalised(layers.Conv2D(last, 3, use_bias=False))]


def normalised(layer: layers.Layer) -> list[layers.Layer]:
    """`layer` (without a bias: batch normalisation has its own), batch normalisation, ReLU."""
    return [layer, layers.BatchNormalization(momentum=0.9), layers.Activation("relu")]


def sprint(classes: int) -> list[layers.Layer]:
    """Fast's convolutions (the last with 48 filters), then a 256-unit dense layer with batch
    normalisation: 330,010 parameters, ~99.3 % on MNIST after one epoch (trained with label
    smoothing, peak learning rate 0.01).

    The dense layer adds 0.31 M multiply-adds an image to the convolutions' 1.33 M; with label
    smoothing it is what takes one epoch past 99 % (Fast's layers alone, at the same settings,
    end at 99.0-99.2 %). The last convolution's 48 filters instead of Fast's 64 keep an epoch
    at about Fast's cost, as accurate as 64 (docs/choices.md).
    """
    return [*fast_convolutions(last=48), layers.Flatten(),
            *normalised(layers.Dense(256, use_bias=False)),
            output(classes)]


def classic(classes: int) -> list[layers.Layer]:
    """keras.io's `mnist_convnet`: 34,826 parameters, ~99 % on full MNIST."""
    return [
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        output(classes),
    ]


def deeper(classes: int) -> list[layers.Layer]:
    """Two conv blocks of two convolutions each, with batch normalisation.

    BatchNorm's momentum is 0.9, not Keras' 0.99: with a few thousand images an epoch
    has ~30 steps, too few for 0.99's running statistics to settle before evaluation.
    """
    def block(filters):
        return [layers.Conv2D(filters, 3, padding="same", use_bias=False),
                layers.BatchNormalization(momentum=0.9), layers.Activation("relu"),
                layers.Conv2D(filters, 3, padding="same", use_bias=False),
                layers.BatchNormalization(momentum=0.9), layers.Activation("relu"),
                layers.MaxPooling2D(2)]
    return [*block(32), *block(64), layers.Flatten(), layers.Dropout(0.4),
            layers.Dense(128, activation="relu"), layers.Dropout(0.4),
            output(classes)]


def airbench(classes: int) -> list[layers.Layer]:
    """airbench93's network (Keller Jordan, 2024) for 32 x 32 colour photos: 0.57 M weights.

    A 2 x 2 convolution, then three groups (64, 128, 128 filters) of convolution, max-pool,
    batch normalisation, activation, convolution, batch normalisation, activation; a last
    3 x 3 max-pool and one dense layer. airbench also whitens the first layer's input
    patches, smooths the labels and averages flipped and shifted test images; this recipe
    keeps the network and trains it the way the app trains every CNN (Adam, one-cycle).
    ReLU stands in for airbench's GELU: on 2 CPU cores it trains 15 % faster and holds
    ~250 MB less while training (README, "Choices, measured").
    """
    def group(filters):
        return [layers.Conv2D(filters, 3, padding="same", use_bias=False), layers.MaxPooling2D(2),
                layers.BatchNormalization(momentum=0.6), layers.Activation("relu"),
                layers.Conv2D(filters, 3, padding="same", use_bias=False),
                layers.BatchNormalization(momentum=0.6), layers.Activation("relu")]
    return [layers.Conv2D(24, 2, padding="valid"), layers.Activation("relu"),
            *group(64), *group(128), *group(128), layers.MaxPooling2D(3), layers.Flatten(),
            output(classes)]


def output(classes: int) -> layers.Dense:
    """The last layer of every recipe: one probability per class of the dataset (10 for MNIST,
    2-10 for a dataset a person makes)."""
    return layers.Dense(classes, activation="softmax")


BODIES = {  # recipe -> its layers for a dataset of `classes` classes
    "Fast": fast, "Sprint": sprint, "Classic": classic, "Deeper": deeper,
    "Airbench": airbench}
assert BODIES.keys() == RECIPES.keys(), "every recipe needs its layers here"
