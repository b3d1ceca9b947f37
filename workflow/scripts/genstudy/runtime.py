"""TensorFlow's process-wide settings: threads from the rule, op determinism, quiet start-up."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

_CONFIGURED = False

# Lines TensorFlow prints at start-up whatever TF_CPP_MIN_LOG_LEVEL says (they are written
# before absl's logging is initialised): noise in every job's log.
STARTUP_NOISE = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning",
)


@contextlib.contextmanager
def quiet_startup():
    """Hold back file descriptor 2 while TensorFlow starts, then pass on every line that
    is not known start-up noise (so real warnings and errors still reach the log)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not any(noise in line for noise in STARTUP_NOISE):
                    sys.stderr.write(line)
            sys.stderr.flush()


# TensorFlow's __init__ imports Keras' optimizers eagerly (for SavedModel registration, which
# no job here uses), and with them all of Keras and scikit-learn, in every job. That import is
# wrapped in ``except ImportError``, so a None entry in sys.modules skips it.
KERAS_PRELOAD = "keras.src.optimizers"


@contextlib.contextmanager
def without_keras_preload():
    """Import TensorFlow without the Keras it preloads; Keras stays importable afterwards."""
    blocked = KERAS_PRELOAD not in sys.modules
    if blocked:
        sys.modules[KERAS_PRELOAD] = None
    try:
        yield
    finally:
        if blocked and sys.modules.get(KERAS_PRELOAD, 0) is None:
            del sys.modules[KERAS_PRELOAD]


def configure_tensorflow(threads: int = 1):
    """Import TF with ``threads`` intra-op threads, one inter-op thread, op determinism on.

    Must run before TF executes anything; later calls only return the module.
    """
    global _CONFIGURED
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if _CONFIGURED:
        import tensorflow as tf

        return tf
    with quiet_startup(), without_keras_preload():
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(max(1, int(threads)))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # already initialised by an earlier caller in this process
        tf.config.experimental.enable_op_determinism()
        for gpu in tf.config.list_physical_devices("GPU"):
            # jobs sharing a GPU each take what they use, not most of its memory
            tf.config.experimental.set_memory_growth(gpu, True)
        tf.constant(0.0).numpy()  # starts the runtime, which prints its own notices
    _CONFIGURED = True
    return tf
