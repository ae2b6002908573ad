"""Candidate CIFAR-10 CNN recipes on this CPU: training speed, and a sanity training.

    .venv/bin/python benchmarks/cifar_recipes.py                      # every candidate, batch 128 and 256
    .venv/bin/python benchmarks/cifar_recipes.py --only airbench_64,resnet9_q --batches 128,256,512
    .venv/bin/python benchmarks/cifar_recipes.py --only airbench_64 --aug padcrop  # or none / translate
    .venv/bin/python benchmarks/cifar_recipes.py --only airbench_64 --format channels_first
    TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python benchmarks/cifar_recipes.py --only airbench_64
    .venv/bin/python benchmarks/cifar_recipes.py --sanity airbench_64 --epochs 8 --batches 256

Speed: each candidate trains on random uint8 images of CIFAR-10's shape (N x 32 x 32 x 3) fed
through tf.data and cast to float in [0, 1] per batch, with its augmentation (random
horizontal flip, 4-pixel shift) inside the model, batch normalisation, and Adam on a
one-cycle schedule (linear warm-up, cosine decay), jit_compile=False. Images/s is timed after
a few warm-up batches; an epoch is 45,000 training images (CIFAR-10's 50,000 less a 10 %
validation split) plus scoring the 5,000 validation images; "epochs in 15 min" leaves room
for TensorFlow's start-up and the first batch's tracing.

Sanity (--sanity NAME): trains NAME for real on a learnable synthetic colour set of the same
shape (10 classes: 5 shapes x 2 colour families, random position, size, hue and background
noise; 45,000 train / 5,000 validation) and prints validation accuracy and seconds per epoch.

Columns: img/s (mean) and med (median step) of training; eval/s of scoring; min/ep for 45,000
training + 5,000 validation images; ep/15m; 1st s (first batch, tracing included); cpu (CPU
seconds this process got per wall second, 2.0 = both cores); oth (cores other processes used
meanwhile). The CPU is shared: each run first waits for a quiet CPU and is repeated when
others took more than 0.2 cores while it was timed.

Results here (2026-12-01, AMD EPYC Zen 5, 2 vCPUs, TF 2.21, batch 256, quiet CPU): airbench93's
net 960-975 img/s = 0.82 min/epoch (a real 11-epoch run: 52-54 s per epoch with validation,
up to 80 s when the host was busy); airbench94's 500-535; ResNet-9 at 1/4 width 1,520-1,650,
at 1/2 550, full 162; oneDNN off 0.47x, channels_first 0.68x, mixed_bfloat16 1.0x, ReLU for
GELU 1.15x, no BN 1.12x, batch 128 0.83x of batch 256, batch 512 1.0x.

Candidates and the published results they come from:
  resnet9_*   David Page, "How to train your ResNet 4: Architecture" (Myrtle.ai, 2018):
              94.1 % (median 94.08 % of 50) in 24 epochs and 93.7 % in 20 at full width
              (64-128-256-512), with 8x8 cutout; github.com/davidcpage/cifar10-fast.
              Widths here are scaled by 1/8 (e), 1/4 (q), 1/2 (h), 1; *_seq puts the same net in a
              Sequential through a Residual wrapper layer.
  airbench_*  Keller Jordan, "94% on CIFAR-10 in 3.29 Seconds on a Single GPU" (arXiv:2404.00498,
              2024) and github.com/KellerJordan/cifar10-airbench: widths 64-256-256 (airbench94,
              94.01 % in 9.9 epochs) and 64-128-128 (airbench93, 93.0 % in 11 epochs), both with
              whitening, label smoothing, Lookahead and test-time augmentation. Here the 2x2
              whitening conv is an ordinary trainable conv; _relu swaps GELU for ReLU.
  tf_tutorial TensorFlow's "Convolutional Neural Network (CNN)" tutorial (~70 % in 10 epochs,
              no augmentation, no BN), with BN added.
  keras_cnn   The old Keras example examples/cifar10_cnn.py (~75 % in 25 epochs, 79 % in 50),
              with BN added.
  resnet20    He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016), CIFAR
              ResNet-20: 91.25 % after 64k iterations at batch 128 (~164 epochs). Projection
              (1x1 conv) shortcuts here, where the paper pads with zeros.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

T_IMPORT = time.perf_counter()
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - T_IMPORT
TRAIN_IMAGES, VAL_IMAGES, BUDGET_S = 45_000, 5_000, 15 * 60
BN_MOMENTUM = 0.9  # as the app's MNIST recipes: few steps per epoch at large batches

FMT = "channels_last"  # set from --format before any model is built


def bn():
    return layers.BatchNormalization(axis=-1 if FMT == "channels_last" else 1,
                                     momentum=BN_MOMENTUM)


def conv(filters, size=3, padding="same", bias=False, **kw):
    return layers.Conv2D(filters, size, padding=padding, use_bias=bias, data_format=FMT, **kw)


def pool(size=2):
    return layers.MaxPooling2D(size, data_format=FMT)


def augmentation(kind: str) -> list[layers.Layer]:
    """Random horizontal flip and a shift of up to 4 pixels (zero fill), training only."""
    if kind == "none":
        return []
    flip = layers.RandomFlip("horizontal", data_format="channels_last")
    if kind == "translate":
        return [flip, layers.RandomTranslation(4 / 32, 4 / 32, fill_mode="constant",
                                               data_format="channels_last")]
    if kind == "padcrop":  # at inference RandomCrop takes the centre 32x32: the image itself
        return [flip, layers.ZeroPadding2D(4, data_format="channels_last"),
                layers.RandomCrop(32, 32, data_format="channels_last")]
    raise ValueError(kind)


def to_format() -> list[layers.Layer]:
    return [] if FMT == "channels_last" else [layers.Permute((3, 1, 2))]


def head() -> list[layers.Layer]:
    # under a mixed precision policy the softmax stays float32
    mixed = keras.mixed_precision.global_policy().name.startswith("mixed")
    return [layers.Dense(10, activation="softmax", dtype="float32" if mixed else None)]


# ------------------------------------------------------------------ candidate bodies

class Residual(layers.Layer):
    """x + f(x) for a list of layers f: lets a residual block sit in a Sequential."""

    def __init__(self, body: list[layers.Layer], **kw):
        super().__init__(**kw)
        self.body = body

    def build(self, input_shape):
        shape = input_shape
        for layer in self.body:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, x, training=None):
        y = x
        for layer in self.body:
            y = layer(y, training=training)
        return x + y

    def compute_output_shape(self, input_shape):
        return input_shape


def cbr(filters):
    return [conv(filters), bn(), layers.Activation("relu")]


def resnet9_layers(w: float) -> list[layers.Layer]:
    """Page's ResNet-9 (post 4) as a Sequential list: prep, L1+res, L2, L3+res, pool, linear."""
    c = [max(1, round(64 * w * k)) for k in (1, 2, 4, 8)]
    return [*cbr(c[0]),
            *cbr(c[1]), pool(), Residual([*cbr(c[1]), *cbr(c[1])]),
            *cbr(c[2]), pool(),
            *cbr(c[3]), pool(), Residual([*cbr(c[3]), *cbr(c[3])]),
            layers.GlobalMaxPooling2D(data_format=FMT), *head()]


def resnet9_functional(w: float, inputs, x):
    c = [max(1, round(64 * w * k)) for k in (1, 2, 4, 8)]

    def seq(x, ls):
        for layer in ls:
            x = layer(x)
        return x
    x = seq(x, cbr(c[0]))
    x = seq(x, [*cbr(c[1]), pool()])
    x = layers.Add()([x, seq(x, [*cbr(c[1]), *cbr(c[1])])])
    x = seq(x, [*cbr(c[2]), pool()])
    x = seq(x, [*cbr(c[3]), pool()])
    x = layers.Add()([x, seq(x, [*cbr(c[3]), *cbr(c[3])])])
    x = seq(x, [layers.GlobalMaxPooling2D(data_format=FMT), *head()])
    return x


def gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


def airbench_layers(widths=(64, 256, 256), act="gelu", norm=True) -> list[layers.Layer]:
    """airbench's net: 2x2 'whitening' conv (24 ch), 3 groups of conv-pool-BN-act-conv-BN-act,
    3x3 max-pool, linear. (airbench initialises the 2x2 conv by patch whitening and freezes it;
    here it is an ordinary trainable conv with bias.)"""
    def group(f):
        n = bn if norm else (lambda: layers.Identity())
        return [conv(f), pool(), n(), layers.Activation(act),
                conv(f), n(), layers.Activation(act)]
    return [conv(24, 2, padding="valid", bias=True), layers.Activation(act),
            *group(widths[0]), *group(widths[1]), *group(widths[2]),
            pool(3), layers.Flatten(), *head()]


def tf_tutorial_layers() -> list[layers.Layer]:
    """tensorflow.org/tutorials/images/cnn (122,570 params there), BN after each conv."""
    def c(f):
        return [conv(f, padding="valid"), bn(), layers.Activation("relu")]
    return [*c(32), pool(), *c(64), pool(), *c(64), layers.Flatten(),
            layers.Dense(64, activation="relu"), *head()]


def keras_cnn_layers() -> list[layers.Layer]:
    """keras examples/cifar10_cnn.py (1.25 M params), BN after each conv."""
    def c(f, padding):
        return [conv(f, padding=padding), bn(), layers.Activation("relu")]
    return [*c(32, "same"), *c(32, "valid"), pool(), layers.Dropout(0.25),
            *c(64, "same"), *c(64, "valid"), pool(), layers.Dropout(0.25),
            layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dropout(0.5), *head()]


def resnet20_functional(inputs, x, n=3):
    x = layers.Activation("relu")(bn()(conv(16)(x)))
    for stage, f in enumerate((16, 32, 64)):
        for block in range(n):
            stride = 2 if stage > 0 and block == 0 else 1
            y = conv(f, strides=stride)(x)
            y = layers.Activation("relu")(bn()(y))
            y = bn()(conv(f)(y))
            if stride != 1:
                x = bn()(conv(f, 1, strides=stride)(x))
            x = layers.Activation("relu")(layers.Add()([x, y]))
    return head()[0](layers.GlobalAveragePooling2D(data_format=FMT)(x))


SEQUENTIAL = {
    "resnet9_e_seq": lambda: resnet9_layers(1 / 8),
    "resnet9_q_seq": lambda: resnet9_layers(1 / 4),
    "airbench_94": lambda: airbench_layers((64, 256, 256)),
    "airbench_93": lambda: airbench_layers((64, 128, 128)),
    "airbench_64": lambda: airbench_layers((32, 64, 64)),
    "airbench_64_relu": lambda: airbench_layers((32, 64, 64), act="relu"),
    "airbench_32": lambda: airbench_layers((16, 32, 32)),
    "airbench_48": lambda: airbench_layers((32, 96, 96)),
    "airbench_93_relu": lambda: airbench_layers((64, 128, 128), act="relu"),
    "airbench_93_gelu_tanh": lambda: airbench_layers((64, 128, 128), act=gelu_tanh),
    "airbench_93_nobn": lambda: airbench_layers((64, 128, 128), norm=False),
    "airbench_94_relu": lambda: airbench_layers((64, 256, 256), act="relu"),
    "tf_tutorial": tf_tutorial_layers,
    "keras_cnn": keras_cnn_layers,
}
FUNCTIONAL = {
    "resnet9_e": lambda i, x: resnet9_functional(1 / 8, i, x),
    "resnet9_q": lambda i, x: resnet9_functional(1 / 4, i, x),
    "resnet9_h": lambda i, x: resnet9_functional(1 / 2, i, x),
    "resnet9": lambda i, x: resnet9_functional(1, i, x),
    "resnet20": resnet20_functional,
}
DEFAULT = ["tf_tutorial", "keras_cnn", "resnet9_e", "resnet9_q", "resnet9_h", "resnet9_q_seq",
           "airbench_32", "airbench_64", "airbench_64_relu", "airbench_93", "airbench_94",
           "resnet20"]


def schedule(peak: float, steps: int):
    """One-cycle as the app's recipes: linear warm-up from peak/10 over 15 %, cosine to 0."""
    warmup = max(1, int(0.15 * steps))
    return keras.optimizers.schedules.CosineDecay(
        peak / 10, decay_steps=max(1, steps - warmup), warmup_target=peak, warmup_steps=warmup)


def optimizer(name: str, steps: int, peak: float | None = None):
    if name == "adam":
        return keras.optimizers.Adam(schedule(peak or 2e-3, steps))
    if name == "adamw":
        return keras.optimizers.AdamW(schedule(peak or 2e-3, steps), weight_decay=5e-4)
    # Page: SGD nesterov 0.9, peak 0.4 (per-example mean loss), L2 5e-4 through the momentum
    # (~5e-3 decoupled, as Keras applies it: wd * lr * w per step)
    return keras.optimizers.SGD(schedule(peak or 0.2, steps), momentum=0.9, nesterov=True,
                                weight_decay=5e-3)


def build(name: str, aug: str, opt: str, steps: int, peak: float | None = None,
          seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    pre = [*augmentation(aug), *to_format()]
    if name in SEQUENTIAL:
        model = keras.Sequential([keras.Input(shape=(32, 32, 3)), *pre, *SEQUENTIAL[name]()],
                                 name=name)
    else:
        inputs = keras.Input(shape=(32, 32, 3))
        x = inputs
        for layer in pre:
            x = layer(x)
        model = keras.Model(inputs, FUNCTIONAL[name](inputs, x), name=name)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer(opt, steps, peak),
                  metrics=["accuracy"], jit_compile=False)
    return model


def macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass (convs and dense layers only)."""
    total = 0

    def walk(layer, in_shape):
        nonlocal total
        if isinstance(layer, Residual):
            shape = in_shape
            for sub in layer.body:
                shape = walk(sub, shape)
            return in_shape
        out = layer.compute_output_shape(in_shape)
        if isinstance(layer, layers.Conv2D):
            k = layer.kernel.shape  # (kh, kw, cin, cout)
            spatial = out[1] * out[2] if FMT == "channels_last" else out[2] * out[3]
            total += spatial * k[0] * k[1] * k[2] * k[3]
        elif isinstance(layer, layers.Dense):
            total += layer.kernel.shape[0] * layer.kernel.shape[1]
        return out

    if isinstance(model, keras.Sequential):
        shape = (None, 32, 32, 3)
        for layer in model.layers:
            shape = walk(layer, shape)
    else:
        for layer in model.layers:
            if isinstance(layer, (layers.Conv2D, layers.Dense)):
                walk(layer, layer.input.shape)
    return total


def pipeline(x, y, batch, shuffle=False, seed=0):
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch).map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b)).prefetch(2)


def cpu_jiffies() -> tuple[int, int]:
    """(busy jiffies of the whole machine, jiffies of this process) from /proc."""
    with open("/proc/stat") as f:
        v = [int(a) for a in f.readline().split()[1:]]
    with open("/proc/self/stat") as f:
        mine = f.read().rsplit(")", 1)[1].split()
    return sum(v) - v[3] - v[4], int(mine[11]) + int(mine[12])


def others_cores(seconds: float = 1.0) -> float:
    """CPU cores used by other processes over `seconds` (the CPU is shared with others)."""
    a = cpu_jiffies()
    time.sleep(seconds)
    b = cpu_jiffies()
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / os.sysconf("SC_CLK_TCK") / seconds)


def wait_quiet(limit: float = 180.0, quiet: float = 0.15) -> float:
    """Wait (up to `limit` s) until other processes use < `quiet` cores for 2 s running."""
    start, calm = time.perf_counter(), 0
    while time.perf_counter() - start < limit:
        calm = calm + 1 if others_cores(1.0) < quiet else 0
        if calm >= 2:
            break
    return time.perf_counter() - start


class Timer(keras.callbacks.Callback):
    """Times training batches after `warm` of them; stops once `budget` seconds are timed."""

    def __init__(self, warm: int, budget: float):
        super().__init__()
        self.warm, self.budget, self.n, self.t0 = warm, budget, 0, None
        self.first = None
        self.steps = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.n += 1
        if self.n == 1:
            self.first = now - self.start
        if self.n == self.warm:
            self.t0, self.last, self.cpu0 = now, now, time.process_time()
            self.jiffies0 = cpu_jiffies()
        elif self.n > self.warm:
            self.steps.append(now - self.last)
            self.last = now
            if now - self.t0 >= self.budget:
                self.model.stop_training = True
                # CPU seconds this process got per wall second: ~2.0 = both cores, less = shared
                self.cpu_share = (time.process_time() - self.cpu0) / (now - self.t0)
                j = cpu_jiffies()
                self.others = max(0.0, ((j[0] - self.jiffies0[0]) - (j[1] - self.jiffies0[1]))
                                  / os.sysconf("SC_CLK_TCK") / (now - self.t0))


def measure(name: str, batch: int, aug: str, opt: str, seconds: float, warm: int = 4,
            gate: bool = True) -> dict:
    if gate:
        wait_quiet()
    keras.backend.clear_session()
    t = time.perf_counter()
    model = build(name, aug, opt, steps=10_000)
    build_s = time.perf_counter() - t
    n = batch * 8
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.int32)
    timer = Timer(warm, seconds)
    model.fit(pipeline(x, y, batch).repeat(), steps_per_epoch=100_000, epochs=1, verbose=0,
              callbacks=[timer])
    steps = np.array(timer.steps)
    train_ips = batch / np.median(steps)
    mean_ips = batch * len(steps) / steps.sum()
    # validation: forward passes over 5,000 images, batch 500, after one warm-up call
    xv = pipeline(x[: min(n, 2000)], y[: min(n, 2000)], 500)
    model.evaluate(xv.take(1), verbose=0)
    t = time.perf_counter()
    model.evaluate(xv, verbose=0)
    eval_ips = min(n, 2000) / (time.perf_counter() - t)
    epoch_s = TRAIN_IMAGES / mean_ips + VAL_IMAGES / eval_ips
    overhead = IMPORT_SECONDS + build_s + timer.first
    return {"name": name, "batch": batch, "aug": aug, "format": FMT,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
            "params": model.count_params(), "macs": macs(model), "steps_timed": len(steps),
            "train_ips": round(float(mean_ips), 1), "median_ips": round(float(train_ips), 1),
            "eval_ips": round(eval_ips, 1), "min_per_epoch": round(epoch_s / 60, 2),
            "first_batch_s": round(timer.first, 1), "cpu": round(timer.cpu_share, 2),
            "others": round(timer.others, 2), "epochs_15min":
                math.floor((BUDGET_S - overhead) / epoch_s)}


# ------------------------------------------------------------------ synthetic colour set

def colour_shapes(n: int, seed: int = 0):
    """10 learnable classes: 5 shapes (disc, square, triangle, ring, plus) x 2 colour families
    (warm: red-yellow hues; cool: green-blue hues); random centre, size, hue, and a noisy
    random-coloured background. Flipping or shifting by 4 pixels keeps the class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    shape, family = y % 5, y // 5
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    cx = rng.uniform(10, 22, (n, 1, 1)).astype(np.float32)
    cy = rng.uniform(10, 22, (n, 1, 1)).astype(np.float32)
    r = rng.uniform(5, 9, (n, 1, 1)).astype(np.float32)
    dx, dy = xx - cx, yy - cy
    s = shape[:, None, None]
    d = np.sqrt(dx ** 2 + dy ** 2)
    mask = np.where(s == 0, d <= r, False)
    mask |= np.where(s == 1, (np.abs(dx) <= 0.8 * r) & (np.abs(dy) <= 0.8 * r), False)
    mask |= np.where(s == 2, (dy <= 0.8 * r) & (dy >= -r + 2 * np.abs(dx)), False)
    mask |= np.where(s == 3, (d <= r) & (d >= 0.55 * r), False)
    mask |= np.where(s == 4, ((np.abs(dx) <= 0.3 * r) | (np.abs(dy) <= 0.3 * r))
                     & (np.abs(dx) <= r) & (np.abs(dy) <= r), False)
    hue = np.where(family == 0, rng.uniform(-0.08, 0.17, n), rng.uniform(0.33, 0.66, n)) % 1.0
    fg = hsv_to_rgb(hue, rng.uniform(0.6, 1.0, n), rng.uniform(0.6, 1.0, n))  # (n, 3)
    bg = rng.uniform(0.0, 0.5, (n, 1, 1, 3)) + rng.normal(0, 0.08, (n, 32, 32, 3))
    img = np.where(mask[..., None], fg[:, None, None, :] + rng.normal(0, 0.05, (n, 32, 32, 3)), bg)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8), y.astype(np.int32)


def hsv_to_rgb(h, s, v):
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    table = np.stack([np.stack(c, -1) for c in
                      [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]])
    return table[i, np.arange(len(h))]


def sanity(name: str, epochs: int, batch: int, aug: str, opt: str, peak: float | None) -> None:
    t = time.perf_counter()
    x, y = colour_shapes(TRAIN_IMAGES + VAL_IMAGES)
    print(f"synthetic colour shapes made in {time.perf_counter() - t:.1f} s; "
          f"class counts {np.bincount(y).tolist()}", flush=True)
    xt, yt, xv, yv = x[:TRAIN_IMAGES], y[:TRAIN_IMAGES], x[TRAIN_IMAGES:], y[TRAIN_IMAGES:]
    steps = epochs * math.ceil(TRAIN_IMAGES / batch)
    model = build(name, aug, opt, steps, peak)
    print(f"{name}: {model.count_params():,} params, {macs(model) / 1e6:.1f} M MACs, {opt} peak "
          f"{peak}, batch {batch}, {epochs} epochs, aug {aug}", flush=True)

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t, self.j = time.perf_counter(), cpu_jiffies()

        def on_epoch_end(self, epoch, logs=None):
            wall, j = time.perf_counter() - self.t, cpu_jiffies()
            others = ((j[0] - self.j[0]) - (j[1] - self.j[1])) / os.sysconf("SC_CLK_TCK") / wall
            mine = (j[1] - self.j[1]) / os.sysconf("SC_CLK_TCK")
            print(f"  epoch {epoch + 1:>2}: loss {logs['loss']:.3f} acc {logs['accuracy']:.3f}"
                  f"  val {logs['val_accuracy']:.3f}  {wall:.0f} s (validation included; "
                  f"this process {mine:.0f} CPU s, others {max(0.0, others):.2f} cores)",
                  flush=True)
    t = time.perf_counter()
    model.fit(pipeline(xt, yt, batch, shuffle=True), validation_data=pipeline(xv, yv, 500),
              epochs=epochs, verbose=0, callbacks=[Log()])
    total = time.perf_counter() - t
    print(f"total fit {total:.0f} s = {total / 60:.1f} min; with import "
          f"{(total + IMPORT_SECONDS) / 60:.1f} min", flush=True)


def main() -> None:
    global FMT
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(DEFAULT))
    parser.add_argument("--batches", default="128,256")
    parser.add_argument("--aug", default="translate", choices=["translate", "padcrop", "none"])
    parser.add_argument("--opt", default="adam", choices=["adam", "adamw", "sgd"])
    parser.add_argument("--peak", type=float, default=None)
    parser.add_argument("--format", default="channels_last",
                        choices=["channels_last", "channels_first"])
    parser.add_argument("--seconds", type=float, default=15.0, help="timed seconds per run")
    parser.add_argument("--policy", default=None, help="e.g. mixed_bfloat16 (AVX512-BF16 CPUs)")
    parser.add_argument("--no-gate", action="store_true", help="don't wait for a quiet CPU")
    parser.add_argument("--sanity", default=None, help="train this candidate on synthetic data")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--json", default=None, help="append result rows to this file")
    args = parser.parse_args()
    FMT = args.format
    if args.policy:
        keras.mixed_precision.set_global_policy(args.policy)
    batches = [int(b) for b in args.batches.split(",")]
    print(f"TF {tf.__version__}, Keras {keras.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores, oneDNN={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default')}, "
          f"import {IMPORT_SECONDS:.1f} s, format {FMT}, aug {args.aug}, opt {args.opt}, "
          f"policy {args.policy or 'float32'}", flush=True)
    if args.sanity:
        sanity(args.sanity, args.epochs, batches[0], args.aug, args.opt, args.peak)
        return
    print(f"{'candidate':<18}{'batch':>6}{'params':>10}{'MMACs':>8}{'img/s':>8}{'med':>7}"
          f"{'eval/s':>8}{'min/ep':>8}{'ep/15m':>7}{'1st s':>7}{'cpu':>6}{'oth':>6}", flush=True)
    for name in args.only.split(","):
        for batch in batches:
            try:
                for attempt in range(3):  # again if another process took CPU meanwhile
                    r = measure(name, batch, args.aug, args.opt, args.seconds,
                                gate=not args.no_gate)
                    if args.no_gate or r["others"] < 0.2:
                        break
                    print(f"{name:<18}{batch:>6}  (others used {r['others']:.2f} cores: "
                          f"{r['train_ips']:.0f} img/s discarded, again)", flush=True)
                r["policy"] = args.policy or "float32"
            except Exception as e:  # e.g. channels_first convs on CPU
                print(f"{name:<18}{batch:>6}  failed: {type(e).__name__}: {str(e)[:200]}",
                      flush=True)
                continue
            print(f"{name:<18}{batch:>6}{r['params']:>10,}{r['macs'] / 1e6:>8.1f}"
                  f"{r['train_ips']:>8.0f}{r['median_ips']:>7.0f}{r['eval_ips']:>8.0f}"
                  f"{r['min_per_epoch']:>8.2f}{r['epochs_15min']:>7}{r['first_batch_s']:>7.1f}"
                  f"{r['cpu']:>6.2f}{r['others']:>6.2f}",
                  flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
