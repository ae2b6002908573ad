"""core.logreg: training in rounds of L-BFGS, and shifted copies for augmentation."""

import numpy as np

from core import data, logreg


def test_shifted_copies_move_each_image_one_pixel_each_way():
    x = np.zeros((2, 28, 28), np.uint8)
    x[:, 10, 10] = 255
    xs, ys = logreg.shifted_copies(x, np.array([3, 7]))
    assert xs.shape == (10, 28, 28) and ys.tolist() == [3, 7] * 5
    spots = {tuple(np.argwhere(image)[0]) for image in xs}
    assert spots == {(10, 10), (9, 10), (11, 10), (10, 9), (10, 11)}


def test_rounds_continue_where_the_last_one_stopped():
    ds = data.load("mnist")
    x, y = ds.x_train[:3000], ds.y_train[:3000]
    model = logreg.build(C=0.1)
    rounds = []
    logreg.fit_rounds(model, x, y, ds.x_test[:1000], ds.y_test[:1000], 4,
                      lambda point, _: rounds.append(point))
    losses = [r["loss"] for r in rounds]
    assert [r["epoch"] for r in rounds] == [1, 2, 3, 4]
    assert losses[1] < losses[0] and losses[-1] < losses[0]   # warm starts: never from scratch
    assert rounds[-1]["val_accuracy"] > 0.8


def test_rounds_run_blas_on_one_thread_and_give_the_threads_back():
    """A round's time must be its rows / a speed for the speed check to predict a large run:
    OpenBLAS's threads waiting for each other cost a round 0.2-0.3 s whatever its rows."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_threads()
    ds = data.load("mnist")
    during = []
    logreg.fit_rounds(logreg.build(C=0.1), ds.x_train[:500], ds.y_train[:500], ds.x_test[:100],
                      ds.y_test[:100], 2, lambda point, _: during.append(blas_threads()),
                      points_per_round=2)
    assert during == [{logreg.BLAS_THREADS}] * 4     # inside rounds and at their ends
    assert blas_threads() == before
