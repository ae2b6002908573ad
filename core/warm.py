"""What every worker process finds already imported: the forkserver (core.processes) imports
this once, and each training, speed-check or upload worker forked from it starts in a tenth
of a second instead of spending 5-9 s of a core importing TensorFlow and scikit-learn.

Nothing here runs TensorFlow: its thread pools are made in the worker, after core.trainers
has set the worker's share of the cores.
"""

import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # before TensorFlow is first imported

import keras  # noqa: F401
import sklearn.linear_model  # noqa: F401
import skops.io  # noqa: F401

from core import cnn, upload_worker, worker  # noqa: F401

gc.freeze()   # what is imported stays out of the workers' garbage collections, its pages shared
