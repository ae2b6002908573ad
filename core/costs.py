"""How long a training job takes on this machine: a cost model measured here (pure, no processes).

    seconds = fixed + units x (per_unit + images / speed)

- `speed`: training images per second once training runs, per core.kinds.speed_key (image shape,
  model, recipe, augmentation). Only measurements at a size where fixed costs do not dominate
  set it: the speed check's, or a finished job's steady part (its epochs after the first) on at
  least MIN_SPEED_IMAGES images. A smaller job's speed is used only while nothing better is known.
- `per_unit`: what each epoch (a Logistic Regression's round) costs whatever its images: an
  L-BFGS round's own work, the curve points' scoring. Small jobs and the speed check teach it.
- `fixed`: what a job costs once: starting its process, loading the data (and TensorFlow), the
  first epoch's compile, exporting, scoring the test set, saving. Every finished job measures its
  own: its whole time less its units at the model's per-unit cost and speed.
Each quantity is the weighted mean of its last KEEP observations; their spread (at least SPREAD)
makes the range an estimate is shown with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.datasets import info
from core.kinds import Spec, speed_key

KEEP = 3                   # observations of each quantity kept: the machine's load changes
SPREAD = 0.15              # a range is at least this share either side of each measured part
MIN_SPEED_IMAGES = 5000    # a job teaches the speed only with this many images an epoch
CHECK = "check"            # the source of the speed check's observations


@dataclass
class Observation:
    value: float
    weight: float          # seconds of timing behind it
    at_size: bool = True   # measured where fixed costs do not dominate


def mean(observations: list[Observation]) -> float:
    total = sum(o.weight for o in observations)
    return sum(o.value * o.weight for o in observations) / total


def bounds(observations: list[Observation]) -> tuple[float, float]:
    """(low, high) of what was observed, widened to at least ±SPREAD around their mean."""
    middle = mean(observations)
    values = [o.value for o in observations]
    return min(min(values), middle * (1 - SPREAD)), max(max(values), middle * (1 + SPREAD))


@dataclass
class CostModel:
    """What this machine's jobs cost, learnt from the speed check and from finished jobs."""

    speeds: dict[str, float] = field(default_factory=dict)   # speed key -> images/s
    startup_s: float | None = None   # seconds to import TensorFlow (the speed check's)
    seen: dict[tuple[str, str], list[Observation]] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)  # kind key -> seconds to begin

    # ------------------------------------------------------------ reading

    def progress(self, specs: list[Spec]) -> tuple[int, int]:
        """(how many of these jobs' speed keys are measured, how many there are)."""
        keys = {speed_key(s) for s in specs}
        return len(keys & self.speeds.keys()), len(keys)

    def _observed(self, what: str, key: str) -> list[Observation]:
        return self.seen.get((what, key), [])

    def _fixed(self, key: str, kind_key: str) -> list[Observation]:
        """Fixed costs observed for this speed key, else for any model of its kind and shape."""
        return self._observed("fixed", key) or self._observed("fixed", kind_key)

    def parts(self, spec: Spec) -> list[tuple[float, float, float]] | None:
        """(fixed, per_unit, speed) expected, then at the low and at the high end of the
        range, or None before the speed is measured."""
        key, kind_key = speed_key(spec), kind_key_of(spec)
        speed = self.speeds.get(key)
        if speed is None:
            return None
        fixed = self._fixed(key, kind_key)
        default_fixed = (self.startup_s or 0.0) if spec.kind == "cnn" else 0.0
        f = (mean(fixed), *bounds(fixed)) if fixed else (default_fixed,) * 3
        unit = self._observed("per_unit", key)
        u = (mean(unit), *bounds(unit)) if unit else (0.0,) * 3
        speeds = [o for o in self._observed("speed", key) if o.at_size] or [Observation(speed, 1)]
        s_low, s_high = bounds(speeds)
        return [(f[0], u[0], speed), (f[1], u[1], s_high), (f[2], u[2], s_low)]

    def estimate(self, spec: Spec, images: int | None) -> tuple[float, float, float] | None:
        """(expected, low, high) seconds of job `spec` on `images` an epoch, launch to saved,
        or None before its speed is measured (or when `images` is not known)."""
        found = None if images is None or spec.kind not in ("logreg", "cnn") else self.parts(spec)
        if found is None:
            return None
        expected, low, high = (fixed + spec.epochs * (per_unit + images / speed)
                               for fixed, per_unit, speed in found)
        return expected, low, high

    # ------------------------------------------------------------ learning

    def _add(self, what: str, key: str, observation: Observation) -> None:
        kept = self.seen.setdefault((what, key), [])
        kept.append(observation)
        del kept[:-KEEP]

    def _set_speed(self, key: str) -> None:
        observed = self._observed("speed", key)
        self.speeds[key] = mean([o for o in observed if o.at_size] or observed)

    def learn_start(self, kind_key: str, seconds: float) -> None:
        """How long a job of a kind (and image shape) takes to begin: process, data, TensorFlow."""
        self.started[kind_key] = seconds

    def learn_check_event(self, dataset: str, event: dict, since_launch: float) -> None:
        """Learn from a speed check's event (core.events.Speed) on `dataset`'s image shape; its
        start-ups are timed from launch by the server's clock: process and data, then TensorFlow."""
        kind_key_ = kind_key(dataset, event["kind"])
        if "key" in event:
            self.learn_check(event["key"], kind_key_, event["images_per_s"], event["timed_s"],
                             event["per_unit_s"], event["extra_s"])
        elif event["kind"] == "cnn":
            self.startup_s = event["startup_s"]
            ready = self.started.get(kind_key(dataset, "logreg"), 0.0)
            self.learn_start(kind_key_, ready + event["startup_s"])
        else:
            self.learn_start(kind_key_, since_launch)

    def learn_check(self, key: str, kind_key: str, images_per_s: float, timed_s: float,
                    per_unit_s: float, extra_s: float) -> None:
        """The speed check's measurement of one speed key; `extra_s` is what the model costs
        once beyond starting (its first epoch's compile, exporting and scoring)."""
        fixed_s = self.started.get(kind_key, 0.0) + extra_s
        self._add("speed", key, Observation(images_per_s, max(timed_s, 1e-3)))
        self._set_speed(key)
        self._add("per_unit", key, Observation(per_unit_s, max(timed_s, 1e-3)))
        self._add("fixed", key, Observation(fixed_s, 1.0))
        if not self._observed("fixed", kind_key):
            self._add("fixed", kind_key, Observation(fixed_s, 1.0))

    def learn_job(self, spec: Spec, images: int, history: list[dict], job_seconds: float) -> None:
        """What a finished job of `images` an epoch, curve points `history` (epoch, time since
        training began) and `job_seconds` from launch to saved teaches: a speed only from its
        steady part on enough images, else the per-epoch cost; and its fixed costs."""
        key, kind_key = speed_key(spec), kind_key_of(spec)
        steady = steady_part(history)
        if steady is not None and images:
            units, seconds = steady
            unit_s = seconds / units
            at_size = images >= MIN_SPEED_IMAGES
            if at_size or key not in self.speeds:
                per_unit = mean(self._observed("per_unit", key)) if at_size and \
                    self._observed("per_unit", key) else 0.0
                speed = images / max(unit_s - per_unit, unit_s / 2)
                self._add("speed", key, Observation(speed, seconds, at_size))
                self._set_speed(key)
            else:
                per_unit = max(0.0, unit_s - images / self.speeds[key])
                self._add("per_unit", key, Observation(per_unit, seconds))
        found = self.parts(spec)
        if found is not None and history:
            _, per_unit, speed = found[0]
            fixed = max(0.0, job_seconds - history[-1]["epoch"] * (per_unit + images / speed))
            for where in (key, kind_key):
                self._add("fixed", where, Observation(fixed, 1.0))


def kind_key_of(spec: Spec) -> str:
    return kind_key(spec.dataset, spec.kind)


def kind_key(dataset: str, kind: str) -> str:
    """What a job's start-up depends on: its kind and the shape of its images ("28x28x1:cnn")."""
    return "x".join(map(str, info(dataset).shape)) + ":" + kind


def steady_part(history: list[dict]) -> tuple[float, float] | None:
    """(epochs, seconds) of a run's curve after its first epoch (after its first half, for a
    one-epoch run): the time the first epoch's compile or first L-BFGS steps do not distort."""
    if len(history) < 2:
        return None
    last = history[-1]
    begin_at = 1.0 if last["epoch"] >= 2 else last["epoch"] / 2
    begin = next((p for p in history if p["epoch"] >= begin_at - 1e-9), None)
    if begin is None or begin is last or last["time"] <= begin["time"]:
        return None
    return last["epoch"] - begin["epoch"], last["time"] - begin["time"]


def times(estimate: tuple[float, float, float] | None, seconds: float) -> dict:
    """A run's estimated and real seconds (launch to saved), as its meta.json keeps them."""
    return {"estimated_seconds": estimate and estimate[0],
            "estimated_range": estimate and list(estimate[1:]), "job_seconds": seconds}
