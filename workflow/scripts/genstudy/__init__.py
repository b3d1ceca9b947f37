"""Pure functions behind the generalization study workflow.

TensorFlow is imported inside the functions that need it, never at a module's top level:
``runtime.configure_tensorflow`` imports and configures it for ``training`` and ``curvature`` (and
so for ``measures``, which calls ``curvature``), and ``model`` imports it in its Keras and
TensorFlow helpers. Importing any module is therefore numpy-only, so the Snakefile, cheap
rules and dry runs stay fast.
"""
