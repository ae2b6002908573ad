"""core.trainers: how many jobs train at once from the machine's memory and cores, each
trainer's share of threads, and DIGITLAB_TRAINERS."""

import subprocess
import sys

import pytest

from core import trainers

GIB = trainers.GIB


@pytest.mark.parametrize("available, total, cores, expected", [
    (2.0, 2.7, 2, 1),     # Streamlit Community Cloud: 2.7 GB, 2 shared cores
    (3.5, 4.0, 8, 1),     # a 4 GB box trains one at a time, whatever its cores
    (7.0, 8.0, 2, 1),     # a 2-core laptop: each trainer wants 2 cores
    (7.0, 8.0, 4, 2),     # a 4-core laptop with 8 GB
    (2.5, 8.0, 8, 1),     # memory left after the server is what counts
    (3.6, 16.0, 16, 2),   # (3.6 - 0.5) / 1.5 = 2 trainers fit in memory
    (60.0, 64.0, 16, 8),  # a big box: cores decide
    (60.0, 64.0, 1, 1),   # never fewer than one
])
def test_the_trainers_a_machine_has(available, total, cores, expected):
    assert trainers.count(available * GIB, total * GIB, cores) == expected


def test_each_trainer_gets_its_share_of_the_cores():
    assert trainers.threads_each(cores=8, trainers=4) == 2
    assert trainers.threads_each(cores=2, trainers=1) == 2
    assert trainers.threads_each(cores=2, trainers=3) == 1


def test_digitlab_trainers_overrides_the_machine():
    machine = (60 * GIB, 64 * GIB, 16)
    assert trainers.configured({}, machine) == (8, 2)
    assert trainers.configured({"DIGITLAB_TRAINERS": "3"}, machine) == (3, 5)
    assert trainers.configured({"DIGITLAB_TRAINERS": " "}, machine) == (8, 2)
    for wrong in ("0", "two", "-1", "1.5"):
        with pytest.raises(ValueError, match="DIGITLAB_TRAINERS must be a whole number"):
            trainers.configured({"DIGITLAB_TRAINERS": wrong}, machine)


def test_the_speed_check_is_on_unless_switched_off():
    assert trainers.speed_check_on({}) and trainers.speed_check_on({"DIGITLAB_SPEED_CHECK": "on"})
    assert not trainers.speed_check_on({"DIGITLAB_SPEED_CHECK": " Off "})


def test_this_machine_is_measured():
    available, total, cores = trainers.measure()
    assert 0 < available <= total and cores >= 1


def test_a_worker_limits_its_threads_before_its_libraries_load():
    """In a fresh process (as a worker is): BLAS already loaded by NumPy is limited, and the
    variables TensorFlow and OpenMP read when they load are set."""
    code = ("import numpy, os; from core import trainers; trainers.limit_threads(1);"
            "from threadpoolctl import threadpool_info;"
            "print(max(p['num_threads'] for p in threadpool_info()),"
            " os.environ['TF_NUM_INTRAOP_THREADS'], os.environ['OMP_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=trainers.Path(__file__).resolve().parents[2], check=True).stdout
    assert out.split() == ["1", "1", "1"]
