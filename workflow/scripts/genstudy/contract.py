"""Names shared by the rules and the package: the file contract, without numpy.

The Snakefile imports this module at parse time, so it must stay free of numpy,
pandas and TensorFlow (a dry run must be instant, and must work with only
Snakemake installed).
"""

from __future__ import annotations

# Stopping points of every training run, in the order they are usually reached: the first
# epoch with training accuracy 1, the first with training cross-entropy <= CE_CHECKPOINT_LOSS
# (Dziugaite et al. 2020's stopping rule, where margins still vary between runs), and the
# first with training loss <= train.target_loss (where training stops).
CHECKPOINTS = ("acc1", "ce001", "loss0")
CE_CHECKPOINT_LOSS = 0.01

# The config's train keys a train job reads besides its run's axes.
TRAIN_SETTINGS = ("max_epochs", "target_loss", "chunk_epochs", "test_every")

# Per-epoch history of a run (epoch 0 = the initial weights).
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc")

# Arrays of a training-subset file.
SUBSET_KEYS = ("x", "y", "y_true", "index")
