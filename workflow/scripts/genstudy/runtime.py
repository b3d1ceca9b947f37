"""TensorFlow's process-wide settings: threads from the rule, op determinism, quiet start-up."""
from __future__ import annotations

import os

_CONFIGURED = False


def configure_tensorflow(threads: int = 1):
    """Import TF with ``threads`` intra-op threads, one inter-op thread, op determinism on.

    Must run before TF executes anything; later calls only return the module.
    """
    global _CONFIGURED
    # C++ INFO and WARNING lines (CPU features, oneDNN notices) are start-up noise in every log.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if not _CONFIGURED:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(max(1, int(threads)))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # already initialised by an earlier caller in this process
        tf.config.experimental.enable_op_determinism()
        _CONFIGURED = True
    return tf
