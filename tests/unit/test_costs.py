"""core.costs: the cost model behind the Train page's estimates (seconds = fixed + epochs x
(per epoch + images / speed)), and what the speed check and finished jobs may change in it."""

import numpy as np
import pytest

from core import costs
from core.kinds import Spec, recipe_spec, speed_key

LR = Spec("logreg", "mnist", epochs=10, C=0.1)
KEY, KIND = speed_key(LR), costs.kind_key("mnist", "logreg")


def checked() -> costs.CostModel:
    """A model after a speed check of a Logistic Regression: 12,000 images/s, 0.3 s a round,
    2.7 s to start (process, data), 0.5 s more once (the first round)."""
    model = costs.CostModel()
    model.learn_start(KIND, 2.7)
    model.learn_check(KEY, KIND, 12_000.0, timed_s=1.0, per_unit_s=0.3, extra_s=0.5)
    return model


def rounds(n: int, round_s: float, first_s: float | None = None) -> list[dict]:
    """Curve points of a 10-round run whose rounds take `round_s` (the first `first_s`)."""
    first_s = round_s if first_s is None else first_s
    return [{"epoch": float(e), "time": first_s + (e - 1) * round_s} for e in range(1, n + 1)]


def test_the_estimate_is_fixed_costs_plus_rounds_of_per_round_and_per_image_time():
    expected, low, high = checked().estimate(LR, 54_000)
    assert expected == pytest.approx(2.7 + 0.5 + 10 * (0.3 + 54_000 / 12_000))
    assert low < expected < high


def test_nothing_is_estimated_before_the_speed_is_measured_or_without_a_size():
    assert costs.CostModel().estimate(LR, 54_000) is None
    assert checked().estimate(LR, None) is None
    assert checked().estimate(recipe_spec("Fast"), 54_000) is None   # another speed key


def test_the_range_is_at_least_the_spread_either_side_and_holds_what_was_observed():
    model = checked()
    expected, low, high = model.estimate(LR, 54_000)
    variable = 10 * 54_000 / 12_000
    assert expected - low >= variable * (1 - 1 / (1 + costs.SPREAD)) - 1e-9
    assert high - expected >= variable * (1 / (1 - costs.SPREAD) - 1) - 1e-9
    model.learn_job(LR, 5_400, rounds(10, 1.0), 13.0)        # a second, slower measurement
    expected2, _, high2 = model.estimate(LR, 54_000)
    assert expected2 > expected and high2 > high             # it moves to the slower one
    slowest = 54_000 / (1.0 - 0.3)
    assert high2 >= 10 * 54_000 / slowest                    # and holds it


def test_a_500_image_run_changes_the_60000_image_estimate_by_at_most_a_quarter():
    model = checked()
    before = model.estimate(LR, 54_000)[0]
    # measured here: 450 training images, rounds of ~0.33 s, 7.5 s from launch to saved
    model.learn_job(LR, 450, rounds(10, 0.33, first_s=0.49), 7.5)
    after = model.estimate(LR, 54_000)[0]
    assert abs(after - before) / before <= 0.25
    assert model.speeds[KEY] == pytest.approx(12_000.0)      # a small run never sets the speed
    # ... but it teaches what a run of its own size costs: the same run is now estimated right
    assert model.estimate(LR.replace(train_size=500), 450)[0] == pytest.approx(7.5, rel=0.1)


def test_a_large_run_sets_the_speed_from_its_steady_rounds_not_its_start():
    model = checked()
    # 54,000 images, rounds of 9 s after a first of 20 s (which the speed must not count)
    model.learn_job(LR, 54_000, rounds(10, 9.0, first_s=20.0), 20 + 9 * 9 + 3.0)
    steady = 54_000 / (9.0 - 0.3)
    assert model.speeds[KEY] == pytest.approx(costs.mean([
        costs.Observation(12_000.0, 1.0), costs.Observation(steady, 81.0)]))
    assert model.speeds[KEY] < 7_000                          # the 81 s timed outweigh 1 s
    real = 20 + 9 * 9 + 3.0
    assert model.estimate(LR, 54_000)[0] == pytest.approx(real, rel=0.25)


def test_a_small_run_gives_a_speed_only_while_nothing_better_is_known():
    model = costs.CostModel()
    model.learn_job(LR, 900, rounds(3, 0.4), 6.0)
    assert model.speeds[KEY] == pytest.approx(900 / 0.4)      # better than no estimate
    model.learn_check(KEY, KIND, 12_000.0, timed_s=1.0, per_unit_s=0.3, extra_s=0.5)
    assert model.speeds[KEY] == pytest.approx(12_000.0)       # the check's, at its size, wins


def test_only_the_last_observations_count():
    model = checked()
    for _ in range(costs.KEEP):
        model.learn_check(KEY, KIND, 6_000.0, timed_s=1.0, per_unit_s=0.3, extra_s=0.5)
    assert model.speeds[KEY] == pytest.approx(6_000.0)


def test_the_steady_part_leaves_out_the_first_epoch_or_a_one_epoch_runs_first_half():
    assert costs.steady_part(rounds(3, 1.0, first_s=5.0)) == (2.0, 2.0)
    one = [{"epoch": e / 4, "time": 3.0 + e} for e in range(1, 5)]
    assert costs.steady_part(one) == (0.5, 2.0)
    assert costs.steady_part(one[:1]) is None


def test_the_speed_checks_start_ups_add_up_and_a_cnn_waits_for_tensorflow():
    model = costs.CostModel()
    model.learn_check_event("mnist", {"type": "speed", "kind": "logreg", "startup_s": 1.0}, 2.5)
    model.learn_check_event("mnist", {"type": "speed", "kind": "cnn", "startup_s": 6.0}, 9.0)
    fast = recipe_spec("Fast")
    model.learn_check_event("mnist", {"type": "speed", "kind": "cnn", "key": speed_key(fast),
                                      "images_per_s": 5_000.0, "timed_s": 0.3,
                                      "per_unit_s": 0.0, "extra_s": 4.0}, 15.0)
    assert model.startup_s == 6.0
    assert model.estimate(fast, 5_000)[0] == pytest.approx(2.5 + 6.0 + 4.0 + 2 * 1.0)


def test_a_runs_times_are_kept_as_numbers_for_its_meta_json():
    assert costs.times((10.0, 8.0, 13.0), 11.5) == {
        "estimated_seconds": 10.0, "estimated_range": [8.0, 13.0], "job_seconds": 11.5}
    assert costs.times(None, 11.5)["estimated_seconds"] is None


def test_a_saved_run_keeps_its_estimate_and_real_time_for_the_runs_table(tmp_path):
    from core import runs, store
    from tests.fake_runs import save_run

    root = tmp_path / "models"
    save_run(root, "logreg")
    model = store.list_models(root, tmp_path / "none")[0][0]
    assert runs.estimate_vs_real(model) is None              # older runs did not record it
    store.add_to_meta(model.id, costs.times((52.4, 45.0, 60.0), 46.2), root=root)
    model = store.list_models(root, tmp_path / "none")[0][0]
    assert model.meta["estimated_range"] == [45.0, 60.0]
    assert runs.row(model)[runs.ESTIMATE] == "52 / 46"
    store.add_to_meta(model.id, costs.times(None, 7.0), root=root)
    assert runs.estimate_vs_real(store.list_models(root, tmp_path / "none")[0][0]) == "— / 7"


# ---------------------------------------------------------------- the speed check's LR rounds

def linear_rounds(monkeypatch, speed: float, per_round: float, first_extra: float) -> list[int]:
    """speed_check.logreg_rounds as one BLAS thread makes it (core.logreg.BLAS_THREADS): rounds
    that take `per_round` + rows / `speed`, the first `first_extra` more; the rows asked."""
    from core import speed_check

    asked = []

    def rounds(spec, x, y):
        asked.append(len(x))
        round_s = per_round + len(x) / speed
        return round_s + first_extra, round_s

    monkeypatch.setattr(speed_check, "logreg_rounds", rounds)
    return asked


def test_the_check_tells_a_rounds_own_cost_from_its_rows_and_so_predicts_all_54000(monkeypatch):
    from core import speed_check

    asked = linear_rounds(monkeypatch, speed=30_000.0, per_round=0.004, first_extra=0.05)
    rows = speed_check.speed_rows((28, 28, 1))
    x, y = np.zeros((rows, 28, 28), np.uint8), np.zeros(rows)
    speed, timed, per_round, extra = speed_check.logreg_speed(LR, x, y)
    assert asked == [rows // 10, rows]
    assert speed == pytest.approx(30_000.0) and per_round == pytest.approx(0.004)
    assert extra == pytest.approx(0.05)
    assert timed == pytest.approx(speed_check.SPEED_ROUNDS * (0.008 + (rows + rows // 10) / 30_000.0))
    model = costs.CostModel()
    model.learn_start(KIND, 2.7)
    model.learn_check(KEY, KIND, speed, timed, per_round, extra)
    real = 2.7 + 0.05 + 10 * (0.004 + 54_000 / 30_000.0)       # what such rounds add up to
    assert model.estimate(LR, 54_000)[0] == pytest.approx(real)


def test_an_augmented_check_times_as_many_rows_as_a_plain_one(monkeypatch):
    from core import speed_check

    asked = linear_rounds(monkeypatch, speed=30_000.0, per_round=0.004, first_extra=0.05)
    rows = speed_check.speed_rows((28, 28, 1))
    x, y = np.zeros((rows, 28, 28), np.uint8), np.zeros(rows)
    speed_check.logreg_speed(LR.replace(augment=True), x, y)
    assert asked == [rows // 5 // 10, rows // 5]                  # x 5 copies inside


def test_the_check_times_the_default_logistic_regression_first_and_again_last():
    from core import kinds, speed_check

    order = speed_check.check_order("mnist")
    default_lr = [c for c in order if speed_key(c) == speed_key(kinds.default_spec("logreg"))]
    assert order[0] == order[-1] == default_lr[0] and len(default_lr) == 2
    assert {speed_key(c) for c in order} == {speed_key(c) for c in kinds.speed_cases("mnist")}


def test_the_check_times_rows_that_do_not_fit_in_a_cpus_cache():
    from core import speed_check

    mnist, cifar = speed_check.speed_rows((28, 28, 1)), speed_check.speed_rows((32, 32, 3))
    assert mnist * 784 * 4 <= speed_check.SPEED_MIB * 2**20 < (mnist + 1) * 784 * 4
    assert mnist * 784 * 4 > 32 * 2**20                          # more than this CPU's L3 holds
    assert cifar * 3072 * 4 <= speed_check.SPEED_MIB * 2**20 < (cifar + 1) * 3072 * 4
    assert speed_check.speed_rows((28, 28)) == mnist                   # grey images without a channel


def test_an_augmented_recipe_is_its_own_speed_slowed_by_the_augmentations_cost_an_image():
    from core import kinds, speed_check

    classic = recipe_spec("Classic", augment=True)
    timed = {speed_key(recipe_spec("Fast")): (8_000.0, 0.2, 0.0, 1.0),
             speed_key(recipe_spec("Fast", augment=True)): (5_000.0, 0.3, 0.0, 1.2),
             speed_key(recipe_spec("Classic")): (2_000.0, 0.5, 0.0, 0.7)}
    per_image = 1 / 5_000 - 1 / 8_000                       # what augmenting costs an image
    speed, timed_s, per_epoch, once = speed_check.with_augmentation(classic, timed, "Fast")
    assert speed == pytest.approx(1 / (1 / 2_000 + per_image)) and timed_s == 0.3
    assert (per_epoch, once) == (0.0, 0.7)                  # Classic's own, not Fast's
    timed[speed_key(recipe_spec("Fast", augment=True))] = (9_000.0, 0.3, 0.0, 1.2)   # noise
    assert speed_check.with_augmentation(classic, timed, "Fast")[0] == 2_000.0    # never faster
    order = speed_check.check_order("mnist")
    augmented = [c.recipe for c in order if c.kind == "cnn" and c.augment]
    assert augmented[0] == kinds.default_recipe("mnist") == "Fast"   # timed before the rest
