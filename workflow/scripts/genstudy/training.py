"""Training to the stopping points, as compiled TensorFlow.

One call of the compiled function runs up to ``chunk_epochs`` epochs entirely in the
graph: the per-epoch shuffle, the mini-batch Adam updates, the exact evaluation of
the new weights on the whole subset and the test set, the acc1 and ce001 snapshots
and the loss0 stop. Python only sees the chunk's history, logs progress and saves a
resumable state, so a killed job loses at most one chunk.

The pieces: ``TrainData`` (a run's inputs), ``TrainState`` (every mutable
variable: weights, Adam moments, the acc1 and ce001 snapshots, counters), the graph functions
``adam_step``, ``evaluate``, ``train_epoch`` and ``run_chunk`` over those two,
``TrainProgram`` (the compiled loop over both, shared by the runs of a job with the same
shapes) and the serialisation of a state to full-size numpy arrays and back.

Determinism: op determinism is on, and the shuffle of epoch e is a stateless
function of (seed, e), so the random state is just the epoch counter and a resumed
run repeats the uninterrupted one bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .arrays import FileContractError, load_npz, save_npz
from .contract import CE_CHECKPOINT_LOSS, CHECKPOINTS, HISTORY_COLUMNS
from .model import InputCompaction, depth_of, ordered, param_names, tf_cross_entropy, tf_logits
from .runtime import configure_tensorflow


@dataclass(frozen=True)
class TrainSettings:
    """A run's training settings: the config's ``train`` keys (their defaults live in the schema
    only: ``with_defaults``), the run's seed, and Keras' Adam constants, which are not config."""

    learning_rate: float
    batch_size: int
    max_epochs: int
    target_loss: float
    chunk_epochs: int
    test_every: int = 1  # the histories' test columns at every k-th epoch (and every checkpoint)
    seed: int = 0  # the run's seed: a wildcard of the train rule
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7  # Keras' Adam default

    @classmethod
    def with_defaults(cls, **settings) -> TrainSettings:
        """The schema's defaults of ``train``, overridden by ``settings``."""
        from dataclasses import fields

        from .config import schema_defaults

        names = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in schema_defaults("train").items() if k in names}, **settings})


@dataclass
class TrainResult:
    history: np.ndarray  # rows of HISTORY_COLUMNS, epoch 0 = the initial weights
    final_params: dict
    final_epoch: int
    acc1_epoch: int | None
    acc1_params: dict | None
    loss0_epoch: int | None
    batches_per_epoch: int
    optimizer: dict  # Adam's final state, full size: m_{param}, v_{param}, step
    resumed_from_epoch: int = 0
    ce001_epoch: int | None = None
    ce001_params: dict | None = None


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: nothing of the run can be trusted."""


def check_finite(rows: np.ndarray, s: TrainSettings) -> None:
    bad = ~np.isfinite(rows[:, 1])
    if bad.any():
        epoch, value = int(rows[bad][0, 0]), rows[bad][0, 1]
        raise TrainingDiverged(
            f"training loss became {value} at epoch {epoch} with learning rate {s.learning_rate}: "
            "lower train.learning_rate; nothing of this run was written"
        )


def job_fingerprint(settings: TrainSettings, params0: dict, data: list, optimizer: dict | None) -> str:
    """Identifies the job a resume state belongs to: its settings and the bytes of its
    initial weights, data and carried optimizer state (none: an independent run)."""
    carried = [] if optimizer is None else [np.asarray(optimizer[k]) for k in sorted(optimizer)]
    # the state's layout is part of it: a state saved before a snapshot group existed is not resumed
    layout = {"settings": asdict(settings), "groups": TrainState.GROUPS, "ce": CE_CHECKPOINT_LOSS}
    h = hashlib.sha256(json.dumps(layout, sort_keys=True).encode())
    for a in ordered(params0) + list(data) + carried:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


# --- the graph's inputs and state ----------------------------------------------------


@dataclass(frozen=True)
class TrainData:
    """A run's inputs, as variables so that runs of the same shapes share one compiled loop:
    the compacted subset, train + test stacked for the exact evaluation (one forward pass)
    with the idle inputs' fixed first-layer offset, and the learning rate."""

    x: object
    y1h: object
    x_eval: object
    y_eval: object
    y_eval1h: object
    eval_offset: object
    learning_rate: object
    n: int
    n_test: int
    n_classes: int

    VARIABLES = ("x", "y1h", "x_eval", "y_eval", "y_eval1h", "eval_offset", "learning_rate")

    @staticmethod
    def arrays(compaction: InputCompaction, W1_full, x, y, x_test, y_test, n_classes: int, learning_rate) -> dict:
        """The values of ``VARIABLES`` for one run."""
        x_eval = np.concatenate([x, x_test]).astype(np.float32)
        y_eval = np.concatenate([y, y_test]).astype(np.int32)
        one_hot = np.eye(n_classes, dtype=np.float32)
        return dict(
            x=compaction.inputs(x),
            y1h=one_hot[y],
            x_eval=compaction.inputs(x_eval),
            y_eval=y_eval,
            y_eval1h=one_hot[y_eval],
            # zero for the training rows, whose idle inputs are zero by definition
            eval_offset=compaction.idle_offset(x_eval, W1_full),
            learning_rate=np.float32(learning_rate),
        )

    @classmethod
    def create(cls, tf, arrays: dict, n_test: int) -> TrainData:
        n, n_classes = arrays["y1h"].shape
        return cls(**{k: tf.Variable(arrays[k]) for k in cls.VARIABLES}, n=n, n_test=n_test, n_classes=n_classes)

    def assign(self, arrays: dict) -> None:
        for k in self.VARIABLES:
            getattr(self, k).assign(arrays[k])


@dataclass
class TrainState:
    """All mutable state of a run, as TF variables (compacted W1): weights w, Adam's
    moments m and v and step counter, the acc1 and ce001 snapshots, and the epoch counters."""

    w: list
    m: list
    v: list
    acc1_w: list
    ce001_w: list
    step: object
    epoch: object
    acc1_epoch: object  # 0 = not reached
    ce001_epoch: object  # 0 = not reached
    loss0_epoch: object  # 0 = not reached

    SNAPSHOTS = tuple(c for c in CHECKPOINTS if c != "loss0")  # copies of w; loss0 is where w stops
    GROUPS = ("w", "m", "v", *SNAPSHOTS)

    @classmethod
    def create(cls, tf, weights: dict, optimizer: dict | None = None):
        """State of the shapes of ``weights``, set as ``reset`` sets it."""
        names = param_names(depth_of(weights))
        w = [tf.Variable(tf.zeros(np.shape(weights[k]), tf.float32), name=k) for k in names]
        state = cls(
            w=w,
            m=[tf.Variable(tf.zeros_like(x)) for x in w],
            v=[tf.Variable(tf.zeros_like(x)) for x in w],
            acc1_w=[tf.Variable(tf.zeros_like(x)) for x in w],
            ce001_w=[tf.Variable(tf.zeros_like(x)) for x in w],
            step=tf.Variable(0, dtype=tf.int64),
            epoch=tf.Variable(0),
            acc1_epoch=tf.Variable(0),
            ce001_epoch=tf.Variable(0),
            loss0_epoch=tf.Variable(0),
        )  # int32
        state.reset(weights, optimizer)
        return state

    def reset(self, weights: dict, optimizer: dict | None = None) -> None:
        """A fresh run from ``weights``: Adam starts from ``optimizer`` (compacted m_*, v_*,
        step) when given, as the carry_optimizer protocol does, else from zero."""
        names = param_names(len(self.w) // 2)
        for k, w, m, v, acc1, ce001 in zip(names, self.w, self.m, self.v, self.acc1_w, self.ce001_w):
            for var in (w, acc1, ce001):
                var.assign(np.asarray(weights[k], np.float32))
            m.assign(optimizer[f"m_{k}"] if optimizer else np.zeros(w.shape, np.float32))  # float32 (optimizer_moments)
            v.assign(optimizer[f"v_{k}"] if optimizer else np.zeros(w.shape, np.float32))
        self.step.assign(0 if optimizer is None else int(optimizer["step"]))
        for counter in (self.epoch, self.acc1_epoch, self.ce001_epoch, self.loss0_epoch):
            counter.assign(0)

    def group(self, name: str) -> list:
        return {"w": self.w, "m": self.m, "v": self.v, "acc1": self.acc1_w, "ce001": self.ce001_w}[name]

    def counters(self) -> dict:
        return dict(
            step=self.step,
            epoch=self.epoch,
            acc1_epoch=self.acc1_epoch,
            ce001_epoch=self.ce001_epoch,
            loss0_epoch=self.loss0_epoch,
        )


# --- the graph -------------------------------------------------------------------------


def adam_step(tf, state: TrainState, s: TrainSettings, learning_rate, xb, yb1h):
    """One mini-batch step of Adam with Keras' update rule."""
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf_cross_entropy(tf_logits(state.w, xb), yb1h))
    grads = tape.gradient(loss, state.w)
    state.step.assign_add(1)
    t = tf.cast(state.step, tf.float32)
    lr_t = learning_rate * tf.sqrt(1.0 - s.beta_2**t) / (1.0 - s.beta_1**t)
    for w, m, v, g in zip(state.w, state.m, state.v, grads):
        m.assign_add((g - m) * (1.0 - s.beta_1))
        v.assign_add((tf.square(g) - v) * (1.0 - s.beta_2))
        w.assign_sub(lr_t * m / (tf.sqrt(v) + s.epsilon))


def evaluate_train(tf, state: TrainState, data: TrainData):
    """Exact (train_loss, train_correct) of the current weights: every epoch, since the
    checkpoints are decided on it."""
    z = tf_logits(state.w, data.x)
    losses = tf.cast(tf_cross_entropy(z, data.y1h), tf.float64)
    correct = tf.cast(tf.equal(tf.argmax(z, axis=1, output_type=tf.int32), data.y_eval[: data.n]), tf.int32)
    return tf.reduce_mean(losses), tf.reduce_sum(correct)


def evaluate(tf, state: TrainState, data: TrainData):
    """Exact (train_loss, train_correct, test_loss, test_correct) of the current weights, in one
    forward pass over the subset and the test set stacked."""
    z = tf_logits(state.w, data.x_eval, first_layer_offset=data.eval_offset)
    losses = tf.cast(tf_cross_entropy(z, data.y_eval1h), tf.float64)
    correct = tf.cast(tf.equal(tf.argmax(z, axis=1, output_type=tf.int32), data.y_eval), tf.int32)
    n = data.n
    return (
        tf.reduce_mean(losses[:n]),
        tf.reduce_sum(correct[:n]),
        tf.reduce_mean(losses[n:]),
        tf.reduce_sum(correct[n:]),
    )


def train_epoch(tf, state: TrainState, data: TrainData, s: TrainSettings, e):
    """Epoch ``e``: a stateless shuffle from (seed, e), full batches, then the partial one."""
    b = s.batch_size
    n_full, rem = divmod(data.n, b)
    perm = tf.argsort(tf.random.stateless_uniform([data.n], seed=tf.stack([s.seed, e])))
    xs, ys = tf.gather(data.x, perm), tf.gather(data.y1h, perm)
    if n_full:
        xs_full = tf.reshape(xs[: n_full * b], (n_full, b, -1))
        ys_full = tf.reshape(ys[: n_full * b], (n_full, b, data.n_classes))
        # A graph loop, not unrolled: XLA compiles it in half the time and runs it faster.
        for k in tf.range(n_full):
            adam_step(tf, state, s, data.learning_rate, xs_full[k], ys_full[k])
    if rem:
        adam_step(tf, state, s, data.learning_rate, xs[n_full * b :], ys[n_full * b :])


def run_chunk(tf, state: TrainState, data: TrainData, s: TrainSettings, last_epoch, max_epochs):
    """Epochs up to ``last_epoch`` or loss0; returns (history rows, how many were written).
    The test set is evaluated at every ``test_every``-th epoch, at each checkpoint and at
    ``max_epochs`` (where an unreached checkpoint's final weights are); elsewhere a row's
    test columns are NaN: not evaluated. None of this depends on the chunks."""
    rows = tf.TensorArray(tf.float64, size=s.chunk_epochs, element_shape=[len(HISTORY_COLUMNS)])
    i = tf.constant(0)
    while state.epoch < last_epoch and state.loss0_epoch == 0:
        e = state.epoch + 1
        train_epoch(tf, state, data, s, e)
        train_loss, train_correct = evaluate_train(tf, state, data)
        checkpoint = tf.constant(False)
        if state.acc1_epoch == 0 and train_correct == data.n:
            state.acc1_epoch.assign(e)
            checkpoint = tf.constant(True)
            for snap, w in zip(state.acc1_w, state.w):
                snap.assign(w)
        if state.ce001_epoch == 0 and train_loss <= CE_CHECKPOINT_LOSS:
            state.ce001_epoch.assign(e)
            checkpoint = tf.constant(True)
            for snap, w in zip(state.ce001_w, state.w):
                snap.assign(w)
        if train_loss <= s.target_loss:
            state.loss0_epoch.assign(e)
            checkpoint = tf.constant(True)
        state.epoch.assign(e)
        test_loss, test_acc = tf.constant(np.nan, tf.float64), tf.constant(np.nan, tf.float64)
        if checkpoint or e == max_epochs or e % s.test_every == 0:
            _, _, test_loss, test_correct = evaluate(tf, state, data)
            test_acc = tf.cast(test_correct, tf.float64) / data.n_test
        row = tf.stack(
            [tf.cast(e, tf.float64), train_loss, tf.cast(train_correct, tf.float64) / data.n, test_loss, test_acc]
        )
        rows = rows.write(i, row)
        i += 1
    return rows.stack(), i


# --- serialisation ----------------------------------------------------------------------


def state_arrays(state: TrainState, compaction: InputCompaction, W1_full0) -> dict:
    """The state as full-size numpy arrays (``{group}_{param}`` and the counters)."""
    out = {}
    zeros = np.zeros_like(W1_full0)
    for group in TrainState.GROUPS:
        fill = W1_full0 if group in ("w", *TrainState.SNAPSHOTS) else zeros
        values = {k: var.numpy() for k, var in zip(param_names(len(state.w) // 2), state.group(group))}
        for k, value in compaction.expand(values, fill).items():
            out[f"{group}_{k}"] = value
    out.update({k: var.numpy() for k, var in state.counters().items()})
    return out


def restore_state(state: TrainState, arrays: dict, compaction: InputCompaction) -> None:
    names = param_names(len(state.w) // 2)
    for group in TrainState.GROUPS:
        values = compaction.compact({k: arrays[f"{group}_{k}"] for k in names})
        for k, var in zip(names, state.group(group)):
            var.assign(values[k])
    for k, var in state.counters().items():
        var.assign(arrays[k])


def params_of(group: list, compaction: InputCompaction, W1_full0) -> dict:
    values = {k: v.numpy() for k, v in zip(param_names(len(group) // 2), group)}
    return compaction.expand(values, W1_full0)


def load_resume_state(path: Path | None, fingerprint: str, log):
    """The saved state of this very job (same settings and inputs), or None."""
    if not path or not path.exists():
        return None
    try:
        st = load_npz(path, ["fingerprint", "history", "epoch"])
    except FileContractError as exc:
        log(f"ignoring unreadable resume state: {exc}")
        return None
    if str(st["fingerprint"]) != fingerprint:
        log(f"ignoring {path}: it belongs to other settings or inputs")
        return None
    return st


# --- the run ----------------------------------------------------------------------------


def optimizer_moments(optimizer: dict | None, names) -> tuple[dict | None, np.ndarray | None]:
    """(the m_*/v_* arrays of a carried optimizer state, input rows whose W1 moments are
    nonzero): such rows must stay in the compacted problem, or Adam would not move them."""
    if optimizer is None:
        return None, None
    moments = {f"{g}_{k}": np.asarray(optimizer[f"{g}_{k}"], np.float32) for g in ("m", "v") for k in names}
    busy = np.any(moments["m_W1"] != 0, axis=1) | np.any(moments["v_W1"] != 0, axis=1)
    return {**moments, "step": int(optimizer["step"])}, busy


class TrainProgram:
    """A compiled loop with the variables it reads and writes. Every run whose inputs and
    state have its shapes, and whose settings are its settings but for the learning rate,
    assigns its values to the variables and runs it. A train job is one run, so this matters to
    processes that train several (``benchmark_speed``, the tests): they compile once per shape."""

    def __init__(self, tf, data: TrainData, state: TrainState, s: TrainSettings):
        self.data, self.state = data, state
        # XLA fuses each step's many small elementwise ops (Adam on every tensor).
        self.run_chunk = tf.function(lambda last, end: run_chunk(tf, state, data, s, last, end), jit_compile=True)
        self.evaluate = tf.function(lambda: evaluate(tf, state, data))

    @staticmethod
    def key(data_arrays: dict, weights: dict, s: TrainSettings) -> tuple:
        """What a program is shared by: the shapes and dtypes of its variables, and the settings
        its graph holds as constants (the learning rate and max_epochs are not among them)."""
        shapes = tuple((k, np.shape(a), np.asarray(a).dtype.str) for k, a in sorted({**data_arrays, **weights}.items()))
        return shapes, replace(s, learning_rate=None, max_epochs=None)


class CompiledRun:
    """One run on a compiled loop: its input compaction, and the program whose variables hold
    its data and state. ``programs`` (key: ``TrainProgram.key``) are the loops compiled by
    earlier runs of the process; a run of the same shapes reuses one, a new one is added."""

    def __init__(self, tf, params0, x, y, x_test, y_test, s: TrainSettings, optimizer=None, programs=None):
        self.tf, self.s = tf, s
        names = param_names(depth_of(params0))
        moments, busy = optimizer_moments(optimizer, names)
        self.compaction = InputCompaction.from_inputs(x, keep=busy)
        self.W1_full0 = np.asarray(params0["W1"], np.float32)
        n_classes = int(np.shape(params0[f"W{depth_of(params0)}"])[1])
        arrays = TrainData.arrays(self.compaction, self.W1_full0, x, y, x_test, y_test, n_classes, s.learning_rate)
        weights = self.compaction.compact(params0)
        carried = (
            None
            if moments is None
            else {
                **{f"{g}_W1": moments[f"{g}_W1"][self.compaction.active] for g in ("m", "v")},
                **{k: a for k, a in moments.items() if not k.endswith("_W1")},
            }
        )
        programs = {} if programs is None else programs
        key = TrainProgram.key(arrays, weights, s)
        self.reused = key in programs
        if self.reused:
            programs[key].data.assign(arrays)
            programs[key].state.reset(weights, carried)
        else:
            data, state = TrainData.create(tf, arrays, len(x_test)), TrainState.create(tf, weights, carried)
            programs[key] = TrainProgram(tf, data, state, key[1])
        program = programs[key]
        self.data, self.state, self.run_chunk, self.evaluate = (
            program.data,
            program.state,
            program.run_chunk,
            program.evaluate,
        )
        self.batches_per_epoch = -(-len(x) // s.batch_size)

    def compile(self) -> None:
        """Trace and XLA-compile the chunk function (unless an earlier run did) by a call that
        runs no epoch (its last epoch is the current one), so that compilation is timed apart
        from training."""
        self.run_chunk(*self.bounds(self.epoch()))

    def bounds(self, last: int) -> tuple:
        """The arguments of ``run_chunk``: its last epoch and the run's ``max_epochs``."""
        return self.tf.constant(last, self.tf.int32), self.tf.constant(self.s.max_epochs, self.tf.int32)

    def epoch(self) -> int:
        return int(self.state.epoch.numpy())

    def loss0_epoch(self) -> int:
        return int(self.state.loss0_epoch.numpy())

    def history_row0(self) -> np.ndarray:
        tl, tc, el, ec = (t.numpy() for t in self.evaluate())
        return np.array([[0.0, tl, tc / self.data.n, el, ec / self.data.n_test]])

    def params(self, group: list) -> dict:
        return params_of(group, self.compaction, self.W1_full0)

    def optimizer(self) -> dict:
        """Adam's current state at full size (the idle rows' moments are zero by construction)."""
        arrays = state_arrays(self.state, self.compaction, self.W1_full0)
        return {k: arrays[k] for k in arrays if k[:2] in ("m_", "v_")} | {"step": arrays["step"]}


def train_to_targets(
    params0,
    x,
    y,
    x_test,
    y_test,
    settings: TrainSettings,
    state_path=None,
    log=print,
    threads: int = 1,
    optimizer: dict | None = None,
    programs: dict | None = None,
) -> TrainResult:
    """Adam on mini-batches until the exact training loss is ≤ target_loss or max_epochs.

    Records the first epoch whose exact training accuracy is 1 (acc1, with a copy of
    its weights), the first with loss ≤ CE_CHECKPOINT_LOSS (ce001, with a copy) and the
    first with loss ≤ target (loss0, where training stops).
    ``optimizer`` (m_*, v_*, step) starts Adam where another run left it: the
    original experiment's protocol. With ``state_path`` the state is saved there every
    chunk and picked up again by a rerun of the same job; it is removed once training ends.
    ``programs`` (a dict, filled here) shares compiled loops between the runs of a process.
    """
    tf = configure_tensorflow(threads)
    s = settings
    started = time.perf_counter()
    x, x_test = np.asarray(x, np.float32), np.asarray(x_test, np.float32)
    y, y_test = np.asarray(y, np.int64), np.asarray(y_test, np.int64)
    run = CompiledRun(tf, params0, x, y, x_test, y_test, s, optimizer, programs)
    fingerprint = job_fingerprint(s, params0, [x, y, x_test, y_test], optimizer)
    history = run.history_row0()
    state_path = Path(state_path) if state_path else None
    saved = load_resume_state(state_path, fingerprint, log)
    resumed_from = 0
    if saved is not None:
        restore_state(run.state, saved, run.compaction)
        history, resumed_from = saved["history"], int(saved["epoch"])
        log(f"resumed from {state_path} at epoch {resumed_from}")
    run.compile()
    # the job's start-up for this run, apart from training: `make bench` sums these lines
    took = time.perf_counter() - started
    log(f"set up in {took:.2f} s on the loop of an earlier run" if run.reused else f"compiled in {took:.2f} s")
    history = _train_chunks(run, history, resumed_from, state_path, fingerprint, log)
    acc1, ce001, loss0 = int(run.state.acc1_epoch.numpy()), int(run.state.ce001_epoch.numpy()), run.loss0_epoch()
    return TrainResult(
        history=history,
        final_params=run.params(run.state.w),
        final_epoch=run.epoch(),
        acc1_epoch=acc1 or None,
        acc1_params=run.params(run.state.acc1_w) if acc1 else None,
        loss0_epoch=loss0 or None,
        batches_per_epoch=run.batches_per_epoch,
        optimizer=run.optimizer(),
        resumed_from_epoch=resumed_from,
        ce001_epoch=ce001 or None,
        ce001_params=run.params(run.state.ce001_w) if ce001 else None,
    )


def _train_chunks(run: CompiledRun, history, resumed_from: int, state_path, fingerprint: str, log):
    """Compiled chunks until loss0 or max_epochs; saves the state and logs progress."""
    s = run.s
    next_log = (resumed_from // 100 + 1) * 100
    started = time.perf_counter()
    while run.epoch() < s.max_epochs and run.loss0_epoch() == 0:
        last = min(run.epoch() + s.chunk_epochs, s.max_epochs)
        rows, count = run.run_chunk(*run.bounds(last))
        rows = rows.numpy()[: int(count)]
        if len(rows):
            rows = rows.reshape(-1, len(HISTORY_COLUMNS))
            check_finite(rows, s)
            history = np.concatenate([history, rows])
        epoch = run.epoch()
        if state_path:
            save_npz(
                state_path,
                fingerprint=np.array(fingerprint),
                history=history,
                **state_arrays(run.state, run.compaction, run.W1_full0),
            )
        if epoch >= next_log or run.loss0_epoch() or epoch >= s.max_epochs:
            log(progress_line(history, s.max_epochs, time.perf_counter() - started, epoch - resumed_from))
            next_log = (epoch // 100 + 1) * 100
    return history


def progress_line(history: np.ndarray, max_epochs: int, elapsed: float, epochs_done: int) -> str:
    """One log line: the last epoch of max_epochs with its exact training metrics, the test
    metrics of the last epoch that evaluated them, elapsed time and the most time left."""
    from .logs import format_duration

    row, tested = history[-1], history[~np.isnan(history[:, 3])][-1]
    left = elapsed / max(epochs_done, 1) * (max_epochs - int(row[0]))
    at = "" if tested[0] == row[0] else f" (epoch {int(tested[0])})"
    return (
        f"epoch {int(row[0]):5d} of {max_epochs}  train loss {row[1]:.3e} acc {row[2]:.4f}  "
        f"test loss {tested[3]:.3e} acc {tested[4]:.4f}{at}  elapsed {format_duration(elapsed)}, "
        f"at most {format_duration(left)} left"
    )
