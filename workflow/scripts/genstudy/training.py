"""Training to the stopping points, as compiled TensorFlow.

One call of the compiled function runs up to ``chunk_epochs`` epochs entirely in the
graph: the per-epoch shuffle, the mini-batch Adam updates, the exact evaluation of
the new weights on the whole subset and the test set, the acc1 snapshot and the
loss0 stop. Python only sees the chunk's history, logs progress and saves a
resumable state, so a killed job loses at most one chunk.

Determinism: op determinism is on, and the shuffle of epoch e is a stateless
function of (seed, e), so the random state is just the epoch counter and a resumed
run repeats the uninterrupted one bit for bit.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .arrays import PARAM_NAMES, FileContractError, load_npz, save_npz

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc")


@dataclass(frozen=True)
class TrainSettings:
    learning_rate: float = 1e-3
    batch_size: int = 128
    max_epochs: int = 3000
    target_loss: float = 1e-5
    seed: int = 0
    chunk_epochs: int = 100
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7  # Keras' Adam default


@dataclass
class TrainResult:
    history: np.ndarray  # rows of HISTORY_COLUMNS, epoch 0 = the initial weights
    final_params: dict
    final_epoch: int
    acc1_epoch: int | None
    acc1_params: dict | None
    loss0_epoch: int | None
    batches_per_epoch: int
    resumed_from_epoch: int = 0
    extra: dict = field(default_factory=dict)


_CONFIGURED = False


def configure_tensorflow(threads: int = 1):
    """Import TF with ``threads`` intra-op threads, one inter-op thread, op determinism on.

    Must run before TF executes anything; later calls only return the module.
    """
    global _CONFIGURED
    import os

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


def tf_cross_entropy(tf, z, y_onehot):
    """Mean-able per-example CE = softplus(logsumexp_{j≠y}(z_j − z_y)); see model.cross_entropy."""
    z_y = tf.reduce_sum(z * y_onehot, axis=1, keepdims=True)
    gaps = z - z_y - y_onehot * tf.constant(1e30, z.dtype)
    return tf.nn.softplus(tf.reduce_logsumexp(gaps, axis=1))


def tf_logits(tf, weights, x):
    h = x
    d = len(weights) // 2
    for i in range(d):
        h = tf.matmul(h, weights[2 * i]) + weights[2 * i + 1]
        if i < d - 1:
            h = tf.nn.relu(h)
    return h


def settings_fingerprint(settings: TrainSettings, arrays) -> str:
    """Identifies the job a resume state belongs to (settings and input bytes)."""
    h = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


class _Trainer:
    """The compiled training loop of one run.

    Input pixels that are zero in every training example (MNIST's border: ~20% of
    them) are left out of the training arithmetic. This is exact, not an
    approximation: their rows of W1 get a gradient of exactly 0, so Adam's m and v
    stay 0 and the update lr·m/(√v + ε) is exactly 0: those rows keep their initial
    values. Their fixed contribution to the test logits, x_test[:, idle] @ W1[idle],
    is computed once. Checkpoints and the resumable state hold the full matrices.
    """

    def __init__(self, tf, params0, x, y, x_test, y_test, s: TrainSettings):
        self.tf, self.s = tf, s
        n = len(x)
        self.n, self.n_test = n, len(x_test)
        self.n_full, self.rem = divmod(n, s.batch_size)
        self.batches_per_epoch = self.n_full + (1 if self.rem else 0)
        f32 = tf.float32
        self.W1_full0 = np.asarray(params0["W1"], np.float32)
        self.active = np.flatnonzero(np.any(np.asarray(x) != 0, axis=0))
        idle = np.setdiff1d(np.arange(x.shape[1]), self.active)
        self.x = tf.constant(np.asarray(x, np.float32)[:, self.active])
        self.y = tf.constant(y, tf.int32)
        self.y1h = tf.one_hot(self.y, 10, dtype=f32)
        # Train and test stacked once, so the exact evaluation is one forward pass.
        x_eval = np.concatenate([x, x_test]).astype(np.float32)
        self.x_eval = tf.constant(x_eval[:, self.active])
        self.eval_offset = tf.constant(x_eval[:, idle] @ self.W1_full0[idle])  # zero for training rows
        self.y_eval1h = tf.one_hot(np.concatenate([y, y_test]).astype(np.int32), 10, dtype=f32)
        self.y_eval = tf.constant(np.concatenate([y, y_test]).astype(np.int32))
        self.w = [tf.Variable(self._compact(k, params0[k]), dtype=f32, name=k) for k in PARAM_NAMES]
        self.m = [tf.Variable(tf.zeros_like(v)) for v in self.w]
        self.v = [tf.Variable(tf.zeros_like(v)) for v in self.w]
        self.acc1_w = [tf.Variable(v) for v in self.w]
        self.step = tf.Variable(0, dtype=tf.int64)
        self.epoch = tf.Variable(0, dtype=tf.int32)
        self.acc1_epoch = tf.Variable(0, dtype=tf.int32)  # 0 = not reached
        self.loss0_epoch = tf.Variable(0, dtype=tf.int32)
        # XLA fuses each step's many small elementwise ops (Adam on six tensors).
        self.run_chunk = tf.function(self._run_chunk, jit_compile=True)
        self.evaluate = tf.function(self._evaluate)

    # --- graph pieces -------------------------------------------------------
    def _loss(self, xb, yb1h):
        return tf_cross_entropy(self.tf, tf_logits(self.tf, self.w, xb), yb1h)

    def _adam_step(self, xb, yb1h):
        tf, s = self.tf, self.s
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self._loss(xb, yb1h))
        grads = tape.gradient(loss, self.w)
        self.step.assign_add(1)
        t = tf.cast(self.step, tf.float32)
        lr_t = s.learning_rate * tf.sqrt(1.0 - s.beta_2**t) / (1.0 - s.beta_1**t)
        for w, m, v, g in zip(self.w, self.m, self.v, grads):
            m.assign_add((g - m) * (1.0 - s.beta_1))
            v.assign_add((tf.square(g) - v) * (1.0 - s.beta_2))
            w.assign_sub(lr_t * m / (tf.sqrt(v) + s.epsilon))

    def _evaluate(self):
        """Exact (train_loss, train_acc, test_loss, test_acc) of the current weights."""
        tf = self.tf
        h = tf.nn.relu(tf.matmul(self.x_eval, self.w[0]) + self.w[1] + self.eval_offset)
        z = tf_logits(tf, self.w[2:], h)
        losses = tf.cast(tf_cross_entropy(tf, z, self.y_eval1h), tf.float64)
        correct = tf.cast(tf.equal(tf.argmax(z, axis=1, output_type=tf.int32), self.y_eval), tf.int32)
        n = self.n
        train_correct = tf.reduce_sum(correct[:n])
        return (
            tf.reduce_mean(losses[:n]),
            train_correct,
            tf.reduce_mean(losses[n:]),
            tf.reduce_sum(correct[n:]),
        )

    def _run_chunk(self, last_epoch):
        tf, s = self.tf, self.s
        b = s.batch_size
        rows = tf.TensorArray(tf.float64, size=s.chunk_epochs, element_shape=[len(HISTORY_COLUMNS)])
        i = tf.constant(0)
        while self.epoch < last_epoch and self.loss0_epoch == 0:
            e = self.epoch + 1
            perm = tf.argsort(tf.random.stateless_uniform([self.n], seed=tf.stack([s.seed, e])))
            xs, ys = tf.gather(self.x, perm), tf.gather(self.y1h, perm)
            if self.n_full:
                xs_full = tf.reshape(xs[: self.n_full * b], (self.n_full, b, -1))
                ys_full = tf.reshape(ys[: self.n_full * b], (self.n_full, b, 10))
                # A graph loop, not unrolled: XLA compiles it in half the time and runs it faster.
                for k in tf.range(self.n_full):
                    self._adam_step(xs_full[k], ys_full[k])
            if self.rem:
                self._adam_step(xs[self.n_full * b :], ys[self.n_full * b :])
            train_loss, train_correct, test_loss, test_correct = self._evaluate()
            if self.acc1_epoch == 0 and train_correct == self.n:
                self.acc1_epoch.assign(e)
                for snap, w in zip(self.acc1_w, self.w):
                    snap.assign(w)
            if train_loss <= s.target_loss:
                self.loss0_epoch.assign(e)
            self.epoch.assign(e)
            row = tf.stack([
                tf.cast(e, tf.float64),
                train_loss,
                tf.cast(train_correct, tf.float64) / self.n,
                test_loss,
                tf.cast(test_correct, tf.float64) / self.n_test,
            ])
            rows = rows.write(i, row)
            i += 1
        return rows.stack(), i

    # --- state ----------------------------------------------------------------
    def _compact(self, name, value):
        return np.asarray(value)[self.active] if name == "W1" else value

    def _full(self, name, value, fill):
        if name != "W1":
            return value
        out = np.array(fill, dtype=value.dtype, copy=True)
        out[self.active] = value
        return out

    def state_arrays(self) -> dict:
        out = {}
        for name, group in (("w", self.w), ("m", self.m), ("v", self.v), ("acc1", self.acc1_w)):
            fill = self.W1_full0 if name in ("w", "acc1") else np.zeros_like(self.W1_full0)
            for k, var in zip(PARAM_NAMES, group):
                out[f"{name}_{k}"] = self._full(k, var.numpy(), fill)
        out.update(step=self.step.numpy(), epoch=self.epoch.numpy(),
                   acc1_epoch=self.acc1_epoch.numpy(), loss0_epoch=self.loss0_epoch.numpy())
        return out

    def restore(self, st: dict):
        for name, group in (("w", self.w), ("m", self.m), ("v", self.v), ("acc1", self.acc1_w)):
            for k, var in zip(PARAM_NAMES, group):
                var.assign(self._compact(k, st[f"{name}_{k}"]))
        self.step.assign(st["step"])
        self.epoch.assign(st["epoch"])
        self.acc1_epoch.assign(st["acc1_epoch"])
        self.loss0_epoch.assign(st["loss0_epoch"])

    def params(self, group) -> dict:
        return {k: self._full(k, v.numpy(), self.W1_full0) for k, v in zip(PARAM_NAMES, group)}


def _history_row0(trainer) -> np.ndarray:
    tl, tc, el, ec = (t.numpy() for t in trainer.evaluate())
    return np.array([[0.0, tl, tc / trainer.n, el, ec / trainer.n_test]])


def train_to_targets(params0, x, y, x_test, y_test, settings: TrainSettings,
                     state_path=None, log=print, threads: int = 1) -> TrainResult:
    """Adam on mini-batches until the exact training loss is ≤ target_loss or max_epochs.

    Records the first epoch whose exact training accuracy is 1 (acc1, with a copy of
    its weights) and the first with loss ≤ target (loss0, where training stops).
    With ``state_path`` the state is saved there every chunk and picked up again
    by a rerun of the same job; it is removed once training ends.
    """
    tf = configure_tensorflow(threads)
    s = settings
    x = np.asarray(x, np.float32)
    x_test = np.asarray(x_test, np.float32)
    y = np.asarray(y, np.int64)
    y_test = np.asarray(y_test, np.int64)
    trainer = _Trainer(tf, params0, x, y, x_test, y_test, s)
    fingerprint = settings_fingerprint(s, [params0[k] for k in PARAM_NAMES] + [x, y, x_test, y_test])
    history = _history_row0(trainer)
    resumed_from = 0
    state_path = Path(state_path) if state_path else None
    if state_path and state_path.exists():
        try:
            st = load_npz(state_path, ["fingerprint", "history", "epoch"])
            if str(st["fingerprint"]) == fingerprint:
                trainer.restore(st)
                history = st["history"]
                resumed_from = int(st["epoch"])
                log(f"resumed from {state_path} at epoch {resumed_from}")
            else:
                log(f"ignoring {state_path}: it belongs to other settings or inputs")
        except FileContractError as exc:
            log(f"ignoring unreadable resume state: {exc}")
    next_log = (resumed_from // 100 + 1) * 100
    first_chunk = True
    while int(trainer.epoch.numpy()) < s.max_epochs and int(trainer.loss0_epoch.numpy()) == 0:
        last = min(int(trainer.epoch.numpy()) + s.chunk_epochs, s.max_epochs)
        started = time.perf_counter()
        rows, count = trainer.run_chunk(tf.constant(last, tf.int32))
        rows = rows.numpy()[: int(count)]
        if first_chunk:
            # timing goes to the log only, never into outputs: reruns stay byte-identical
            log(f"first chunk incl. XLA compilation: {time.perf_counter() - started:.2f} s")
            first_chunk = False
        if len(rows):
            history = np.concatenate([history, rows.reshape(-1, len(HISTORY_COLUMNS))])
        epoch = int(trainer.epoch.numpy())
        if state_path:
            save_npz(state_path, fingerprint=np.array(fingerprint), history=history, **trainer.state_arrays())
        if epoch >= next_log or trainer.loss0_epoch.numpy() or epoch >= s.max_epochs:
            r = history[-1]
            log(f"epoch {epoch:5d}  train loss {r[1]:.3e} acc {r[2]:.4f}  test loss {r[3]:.3e} acc {r[4]:.4f}")
            next_log = (epoch // 100 + 1) * 100
    acc1 = int(trainer.acc1_epoch.numpy())
    loss0 = int(trainer.loss0_epoch.numpy())
    return TrainResult(
        history=history,
        final_params=trainer.params(trainer.w),
        final_epoch=int(trainer.epoch.numpy()),
        acc1_epoch=acc1 or None,
        acc1_params=trainer.params(trainer.acc1_w) if acc1 else None,
        loss0_epoch=loss0 or None,
        batches_per_epoch=trainer.batches_per_epoch,
        resumed_from_epoch=resumed_from,
    )
