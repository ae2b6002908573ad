"""The Keras CNNs: build, fit with progress, curve points and a stop flag, and export.

Importing this module imports TensorFlow, so only worker processes import it (core.worker).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of logs

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from core import events, transfer  # noqa: E402
from core.architectures import BODIES, augmentation  # noqa: E402
from core.batchnorm import PopulationStatistics  # noqa: E402
from core.datasets import info  # noqa: E402
from core.kinds import RECIPES, Spec  # noqa: E402


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False,
            seed: int = 0, classes: int | None = None):
    """A tf.data pipeline of (images in [0, 1], labels) batches, reshuffled every epoch; the
    labels one-hot over `classes` when it is given (see `label_classes`), else class numbers.

    TensorFlow keeps one copy of the images, as uint8 (a quarter of float32's size), and
    gathers each batch from it by index, made float when it is needed: what is shuffled
    is the indices (a shuffle buffer of 50,000 CIFAR-10 images would be another 150 MB).
    The caller can let its own arrays go once the pipeline is made.
    """
    import tensorflow as tf

    images = tf.constant(with_channels(np.asarray(x)))
    labels = tf.constant(np.asarray(y))
    scale = 1 / 255 if images.dtype == tf.uint8 else 1.0
    order = tf.data.Dataset.range(len(y))
    if shuffle:
        order = order.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)

    def label(i):
        found = tf.gather(labels, i)
        return found if classes is None else tf.one_hot(tf.cast(found, tf.int32), classes)
    return order.batch(batch_size).map(
        lambda i: (tf.cast(tf.gather(images, i), tf.float32) * scale, label(i))
    ).prefetch(2)


def label_classes(spec: Spec) -> int | None:
    """How many classes to one-hot a job's training labels over: its dataset's, when its
    recipe smooths labels (Keras smooths only one-hot labels); None keeps class numbers."""
    return len(info(spec.dataset).class_names) if RECIPES[spec.recipe].label_smoothing else None


TRAINING_LOSS = "crossentropy"   # a label-smoothed model's plain cross-entropy (`objective`)
VALIDATION_VALUES = 200_704   # pixel values in a validation batch: 256 MNIST images, 65 of CIFAR-10


def validation_batch_size(batch_size: int, shape: tuple[int, ...]) -> int:
    """Images per validation batch: as many as hold VALIDATION_VALUES, at least a training batch.

    Measured on 2 cores (with model.evaluate): 256 MNIST images a batch score the 6,000
    validation images ~25 % faster than 128, for ~10 MB more at the peak (Deeper); 512 held
    47 MB more (Deeper) and, at CIFAR-10's size, 170 MB more (Airbench), over its budget.
    """
    return max(batch_size, VALIDATION_VALUES // int(np.prod(shape)))


def with_channels(x: np.ndarray) -> np.ndarray:
    """N x H x W grey images as N x H x W x 1; colour ones (N x H x W x 3) as they are."""
    return x[..., None] if x.ndim == 3 else x


class Validation:
    """The validation images, and a compiled function that scores a model on all of them in
    batches of `batch_size`: the same numbers as `model.evaluate` on a `batches` pipeline,
    ~30 % faster between training batches (measured: no new tf.data iterator each time).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int):
        import tensorflow as tf

        self.images = tf.constant(with_channels(np.asarray(x)))   # uint8, as `batches` keeps them
        self.labels = tf.constant(np.asarray(y, dtype=np.int32))
        self.scale = 1 / 255 if self.images.dtype == tf.uint8 else 1.0
        self.batch_size, self.model, self.sums = batch_size, None, None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def scores(self, model: keras.Model) -> dict:
        """{"accuracy", "loss"} of `model` (inference mode) on all the validation images."""
        if model is not self.model:   # traced once per model
            self.model, self.sums = model, self.compiled_sums(model)
        loss = right = 0.0
        for start in range(0, len(self), self.batch_size):
            batch_loss, batch_right = self.sums(start, min(start + self.batch_size, len(self)))
            loss, right = loss + batch_loss, right + batch_right   # tensors: no wait per batch
        return {"accuracy": float(right) / len(self), "loss": float(loss) / len(self)}

    def compiled_sums(self, model: keras.Model):
        """A tf.function: summed cross-entropy and right answers of images [start, end)."""
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32)] * 2)
        def sums(start, end):
            x = tf.cast(self.images[start:end], tf.float32) * self.scale
            y = self.labels[start:end]
            proba = model(x, training=False)
            loss = keras.losses.sparse_categorical_crossentropy(y, proba)
            right = tf.equal(tf.argmax(proba, axis=1, output_type=tf.int32), y)
            return tf.reduce_sum(loss), tf.reduce_sum(tf.cast(right, tf.float32))
        return sums


def learning_rate(peak: float, schedule: str, steps: int):
    """Adam's learning rate: constant, or one-cycle (linear warm-up to `peak`, cosine to 0)."""
    if schedule == "constant":
        return peak
    warmup = max(1, int(0.15 * steps))
    return keras.optimizers.schedules.CosineDecay(
        peak / 10, decay_steps=max(1, steps - warmup), warmup_target=peak, warmup_steps=warmup)


def build(spec: Spec, steps: int = 1, base_file=None) -> keras.Model:
    """A compiled CNN of `spec.recipe` for `spec.dataset`'s images in [0, 1] and its classes,
    to train for `steps` batches; a transferred one starts from the convolutions of the CNN
    saved at `base_file` (a model.keras of its recipe), else of the built-in MNIST CNN."""
    keras.utils.set_random_seed(spec.seed)
    data = info(spec.dataset)
    extra = [augmentation(data.augmentation, data.shape[0])] if spec.augment else []
    body = BODIES[spec.recipe](len(data.class_names))
    model = keras.Sequential([keras.Input(shape=data.shape), *extra, *body],
                             name=f"cnn_{spec.recipe.lower()}")
    frozen = transfer.frozen_epochs(spec.start_from, spec.epochs)
    if spec.start_from != transfer.SCRATCH:
        copy_convolutions(load(base_file) if base_file else built_in(), model)
        set_frozen(model, True)
        steps = max(1, steps * frozen // spec.epochs)   # the schedule of the frozen part
    compile_for(model, spec, spec.learning_rate, steps)
    return model


def compile_for(model: keras.Model, spec: Spec, peak: float, steps: int) -> None:
    """Compile `model` with Adam at `peak` on `spec`'s schedule over `steps` batches."""
    optimizer = keras.optimizers.Adam(learning_rate(peak, spec.schedule, steps))
    # XLA (jit_compile=True) made these small CPU convnets ~5x slower here: keep it off.
    model.compile(optimizer=optimizer, jit_compile=False, **objective(spec))


def built_in() -> keras.Model:
    """The built-in MNIST CNN (core.transfer.BASE_MODEL), as trained and shipped."""
    from core.store import BUILTIN_ROOT

    return load(BUILTIN_ROOT / transfer.BASE_MODEL / transfer.BASE_FILE)


def load(path) -> keras.Model:
    """A CNN saved as model.keras, to copy its convolutions (not compiled: never trained)."""
    return keras.saving.load_model(path, compile=False)


def convolution_layers(model: keras.Model) -> list[layers.Layer]:
    """The model's convolutions and their batch normalisations, in order, up to the head."""
    return [layer for layer in model.layers
            if isinstance(layer, (layers.Conv2D, layers.BatchNormalization))
            and not isinstance(layer, layers.Dense)]


def copy_convolutions(source: keras.Model, target: keras.Model) -> None:
    """Copy the convolution blocks' weights (batch-normalisation statistics too) of `source`
    into `target`, a model of the same recipe; its head keeps its own fresh weights."""
    pairs = list(zip(convolution_layers(source), convolution_layers(target), strict=True))
    for old, new in pairs:
        new.set_weights(old.get_weights())


def set_frozen(model: keras.Model, frozen: bool) -> None:
    """Freeze (or free) the convolution blocks: frozen ones keep their weights, and their
    batch normalisation its statistics (Keras runs a frozen one in inference mode)."""
    for layer in convolution_layers(model):
        layer.trainable = not frozen


def objective(spec: Spec) -> dict:
    """The loss and metrics to compile `spec`'s model with: cross-entropy, label-smoothed
    when its recipe says so (on one-hot labels, see `label_classes`).

    The curves' training loss is then the plain cross-entropy, kept as the metric
    TRAINING_LOSS, so it compares with the validation loss; label smoothing's own loss
    cannot fall below the smoothed labels' entropy (0.50 at 0.1 over 10 classes).
    """
    smoothing = RECIPES[spec.recipe].label_smoothing
    if not smoothing:
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    return {"loss": keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
            "metrics": ["accuracy", keras.metrics.CategoricalCrossentropy(name=TRAINING_LOSS)]}


def first_conv(model: keras.Model) -> layers.Conv2D | None:
    """The model's first Conv2D layer, looking inside nested models (such as `augmentation`)."""
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            return layer
        found = first_conv(layer) if hasattr(layer, "layers") else None
        if found is not None:
            return found
    return None


def first_filters(model: keras.Model) -> np.ndarray | None:
    """The first Conv2D's kernels as float32 images: F x kh x kw for grey input, F x kh x kw x 3
    (RGB) for colour input.

    Keras keeps a kernel as (kh, kw, channels, F).
    """
    conv = first_conv(model)
    if conv is None:
        return None
    kernel = np.moveaxis(keras.ops.convert_to_numpy(conv.kernel), -1, 0)  # F x kh x kw x C
    return np.ascontiguousarray(kernel[..., 0] if kernel.shape[-1] == 1 else kernel,
                                dtype=np.float32)


class Progress(keras.callbacks.Callback):
    """Measures the curve points (core.events.points_per_epoch of them each epoch, evenly
    spaced in batches, the last at the epoch's end), reports progress between them and
    honours a stop flag.

    At each point the model's batch-normalisation statistics are recomputed from training
    images (`stats`, core.batchnorm), then it is scored on all the validation images `val`
    (a Validation): the last point, at the run's end, leaves the statistics it is saved with.
    training accuracy and loss are Keras' running metrics since the previous point (reset
    at each point; Keras itself resets them only at an epoch's start).
    `peek`, for benchmarks only, scores the model on held-out data at each epoch's end,
    outside the points' timed seconds; the app never passes it.
    """

    def __init__(self, emit: Callable[[events.Event], None], should_stop: Callable[[], bool],
                 epochs: int, steps: int, val: Validation, stats: PopulationStatistics,
                 every_s: float = 0.5, peek: Callable[[keras.Model], float] | None = None):
        super().__init__()
        self.emit, self.should_stop, self.peek, self.val = emit, should_stop, peek, val
        self.stats = stats
        self.epochs, self.steps, self.every_s = epochs, steps, every_s
        self.point_steps = set(events.point_steps(steps, events.points_per_epoch(epochs)))

    def on_train_begin(self, logs=None):
        if not hasattr(self, "start"):   # a fine-tuned run's second part goes on counting
            self.start, self.untimed = time.perf_counter(), 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.last_emit = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop():
            self.model.stop_training = True  # Keras ends the epoch after this batch
            return
        done = batch + 1
        if done in self.point_steps:
            self.emit(self.point(done, logs or {}))
            self.last_emit = time.perf_counter()
        elif time.perf_counter() - self.last_emit >= self.every_s:
            self.last_emit = time.perf_counter()
            self.emit(events.progress(self.epoch, done / self.steps))

    def point(self, done: int, logs: dict) -> events.Epoch:
        """The curve point after `done` batches of this epoch: training metrics, validation."""
        trained = {"accuracy": float(logs["accuracy"]),
                   "loss": float(logs.get(TRAINING_LOSS, logs["loss"]))}
        val = self.validate()
        point = {"epoch": self.epoch - 1 + done / self.steps, "time": self.seconds(), **trained,
                 "val_accuracy": val["accuracy"], "val_loss": val["loss"]}
        event = events.epoch(point, self.epochs, learned=first_filters(self.model))
        if self.peek and done == self.steps:
            started = time.perf_counter()
            event["peek_accuracy"] = self.peek(self.model)
            self.untimed += time.perf_counter() - started
        return event

    def validate(self) -> dict:
        """Accuracy and loss on all the validation images, with batch normalisation's
        statistics those of the training images now; training metrics start afresh."""
        self.stats.apply(self.model)
        scores = self.val.scores(self.model)
        self.model.reset_metrics()
        return scores

    def seconds(self) -> float:
        """Seconds since training began, validation included, benchmark peeks not."""
        return time.perf_counter() - self.start - self.untimed


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of images `model` classifies right (uint8 images, any number)."""
    proba = model.predict(batches(x, y, 1000), verbose=0)
    return float(np.mean(proba.argmax(1) == np.asarray(y)))


def export_lite(model: keras.Model, path) -> None:
    """Write the model's LiteRT (.tflite) export: what the app runs to answer (core.lite)."""
    model.export(str(path), format="litert", verbose=False)


def fit(model: keras.Model, train, val: Validation, stats: PopulationStatistics, epochs: int,
        steps: int, emit: Callable[[events.Event], None], should_stop: Callable[[], bool],
        peek=None, spec: Spec | None = None) -> None:
    """Train `model` on the `batches` pipeline `train` (`steps` batches an epoch), emitting
    progress and curve points validated on `val` (batch normalisation's statistics from
    `stats` at each); returns early when `should_stop()` turns true.

    A fine-tuned `spec` trains its first epochs with the convolutions frozen (as `build`
    left them), then frees them and trains the rest at FINE_TUNE_RATE x its learning rate.
    """
    progress = Progress(emit, should_stop, epochs, steps, val, stats, peek=peek)
    frozen = transfer.frozen_epochs(spec.start_from, epochs) if spec else 0
    first = frozen if 0 < frozen < epochs else epochs
    model.fit(train, epochs=first, verbose=0, callbacks=[progress],
              shuffle=False)  # batches() shuffles; Keras' own shuffle only warns for a Dataset
    if first == epochs or should_stop():
        return
    set_frozen(model, False)
    compile_for(model, spec, spec.learning_rate * transfer.FINE_TUNE_RATE,
                (epochs - first) * steps)
    model.fit(train, initial_epoch=first, epochs=epochs, verbose=0, callbacks=[progress],
              shuffle=False)
