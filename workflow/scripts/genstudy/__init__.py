"""Pure functions behind the generalization study workflow.

Modules that need TensorFlow (``training``, ``curvature``) import it themselves;
everything else is numpy-only so cheap rules and dry runs stay fast.
"""
