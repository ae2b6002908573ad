"""Batch normalisation's statistics recomputed from the training images ("precise BN").

While training, a BatchNormalization layer normalises with each batch's own mean and variance
and keeps running averages (momentum 0.9, Airbench 0.6) for inference: validation, test and
LiteRT. The averages start at mean 0, variance 1; after a short run they still carry much of
that start and of batches the weights have long left behind. Measured (MNIST, Fast, 1 epoch,
before this module): 500 images (4 steps) reached 54 % training accuracy but 12 % validation
and 11.35 % test; 3,000 images (22 steps) 89 % training, 11.3 % test. Recomputing the
statistics over training images with the finished weights makes inference score what the
weights learned (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021, call this precise BN).

Importing this module imports TensorFlow: only core.cnn imports it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

IMAGES = 512    # training images the statistics are computed from (all of a smaller run's)
# Measured (MNIST, Fast, 1 epoch): statistics from 256, 512, 2,048 or all training images
# gave the same validation accuracy to 0.02 points, at 1,000 and at 60,000 images.
BATCH = 256     # images per forward pass


class PopulationStatistics:
    """A sample of the training images, and what sets every BatchNormalization layer's moving
    mean and variance to those of its input over that sample (augmentation off, as when
    scoring). A model without batch normalisation is left as it is, and so is a frozen layer
    (core.transfer: it keeps the statistics of the CNN it came from)."""

    def __init__(self, x: np.ndarray, seed: int = 0, images: int = IMAGES):
        """`x`: the training images, N x H x W x C (uint8, or float in [0, 1])."""
        import tensorflow as tf

        pick = np.random.default_rng(seed).permutation(len(x))[:images]
        self.images = tf.constant(np.asarray(x)[np.sort(pick)])
        self.scale = 1 / 255 if self.images.dtype == tf.uint8 else 1.0
        self.model, self.frozen, self.moments = None, [], None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def apply(self, model: keras.Model) -> None:
        """Set the model's batch-normalisation statistics to the sample's (in place)."""
        norms = [layer for layer in batch_norms(model) if layer.trainable]   # frozen: kept
        if not norms or not len(self):
            return
        frozen = [not layer.trainable for layer in batch_norms(model)]
        if model is not self.model or frozen != self.frozen:   # traced once per model and freeze
            self.model, self.frozen, self.moments = model, frozen, self.traced_moments(model)
        per_batch = []
        for start in range(0, len(self), BATCH):
            end = min(start + BATCH, len(self))
            per_batch.append((end - start, [(m.numpy(), v.numpy())
                                            for m, v in self.moments(start, end)]))
        for i, layer in enumerate(norms):
            mean, variance = pooled([(n, stats[i]) for n, stats in per_batch])
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign(variance.astype(np.float32))

    def traced_moments(self, model: keras.Model):
        """A tf.function: the mean and variance of each BatchNormalization layer's input over
        images [start, end), every layer normalising with those batch moments (as in training)
        and every other layer in inference mode (no augmentation, no dropout)."""
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32)] * 2)
        def moments(start, end):
            x = tf.cast(self.images[start:end], tf.float32) * self.scale
            found = []
            for layer in model.layers:
                if isinstance(layer, layers.BatchNormalization) and layer.trainable:
                    mean, variance = tf.nn.moments(x, axes=list(range(len(x.shape) - 1)))
                    found.append((mean, variance))
                    x = tf.nn.batch_normalization(x, mean, variance, layer.beta, layer.gamma,
                                                  layer.epsilon)
                else:
                    x = layer(x, training=False)
            return found
        return moments


def batch_norms(model: keras.Model) -> list[layers.BatchNormalization]:
    """The model's BatchNormalization layers, in order (the recipes keep them at the top level)."""
    return [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]


def pooled(parts: list[tuple[int, tuple[np.ndarray, np.ndarray]]]) -> tuple[np.ndarray, ...]:
    """Mean and variance of the whole from (count, (mean, variance)) of its parts."""
    counts = np.array([n for n, _ in parts], dtype=np.float64)[:, None]
    means = np.array([m for _, (m, _) in parts], dtype=np.float64)
    variances = np.array([v for _, (_, v) in parts], dtype=np.float64)
    total = counts.sum()
    mean = (counts * means).sum(0) / total
    return mean, (counts * (variances + (means - mean) ** 2)).sum(0) / total
