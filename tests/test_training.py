from dataclasses import replace

import numpy as np
import pytest

from genstudy.model import cross_entropy, glorot_uniform_init, logits
from genstudy.training import TrainSettings, optimizer_moments, train_to_targets

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def problem(mnist5k_pool):
    x, y, xt, yt = mnist5k_pool
    params0 = glorot_uniform_init([784, 16, 16, 10], 0)
    return params0, x[:48], y[:48], xt[:100], yt[:100]


def check_history_is_exact(result, params0, x, y, xt, yt):
    """Epoch 0 of the history is the exact loss/accuracy of the initial weights."""
    z = logits(params0, x, np.float32)
    assert result.history[0, 1] == pytest.approx(cross_entropy(z, y).mean(), rel=1e-4)
    assert result.history[0, 2] == pytest.approx(np.mean(z.argmax(1) == y))


def test_stops_at_first_epoch_with_loss_at_target(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=2000, target_loss=1e-2, seed=0, chunk_epochs=37)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    h = r.history
    assert r.loss0_epoch == r.final_epoch == int(h[-1, 0]) and h[-1, 1] <= 1e-2
    assert np.all(h[1:-1, 1] > 1e-2)  # no earlier epoch was at the target
    assert np.array_equal(h[:, 0], np.arange(len(h)))
    first_acc1 = int(h[np.argmax(h[:, 2] == 1.0), 0])
    assert r.acc1_epoch == first_acc1 and np.all(h[1:first_acc1, 2] < 1.0)
    # the final weights really have the recorded exact loss and accuracy
    z = logits(r.final_params, x, np.float64)
    assert cross_entropy(z, y).mean() == pytest.approx(h[-1, 1], rel=1e-3)
    zt = logits(r.final_params, xt, np.float64)
    assert np.mean(zt.argmax(1) == yt) == pytest.approx(h[-1, 4])
    za = logits(r.acc1_params, x, np.float64)
    assert np.all(za.argmax(1) == y)
    assert r.batches_per_epoch == 3
    check_history_is_exact(r, params0, x, y, xt, yt)
    # pixels that are zero in every training image get no gradient: their W1 rows keep
    # the initial values exactly, and the others do move
    idle = ~np.any(x != 0, axis=0)
    assert 50 < idle.sum() < 784
    assert np.array_equal(r.final_params["W1"][idle], params0["W1"][idle])
    assert np.all(np.any(r.final_params["W1"][~idle] != params0["W1"][~idle], axis=1))


def test_ce001_snapshot_is_the_first_epoch_with_training_loss_at_most_one_hundredth(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=2000, target_loss=1e-3, seed=1, chunk_epochs=23)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    h = r.history
    first = int(h[np.argmax(h[:, 1] <= 0.01), 0])
    assert r.ce001_epoch == first and first < r.loss0_epoch and np.all(h[1:first, 1] > 0.01)
    z = logits(r.ce001_params, x, np.float64)
    assert cross_entropy(z, y).mean() == pytest.approx(h[first, 1], rel=1e-3)


def test_unreached_target_stops_at_max_epochs(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=5, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    assert r.loss0_epoch is None and r.acc1_epoch is None and r.ce001_epoch is None
    assert r.final_epoch == 5 and len(r.history) == 6


def test_same_settings_same_numbers_and_seed_matters(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=30, target_loss=1e-9, seed=3, chunk_epochs=7)
    a = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    b = train_to_targets(
        params0, x, y, xt, yt, TrainSettings.with_defaults(**{**s.__dict__, "chunk_epochs": 30}), log=lambda m: None
    )
    c = train_to_targets(
        params0, x, y, xt, yt, TrainSettings.with_defaults(**{**s.__dict__, "seed": 4}), log=lambda m: None
    )
    assert np.array_equal(a.history, b.history, equal_nan=True)  # chunking does not change the numbers
    assert all(np.array_equal(a.final_params[k], b.final_params[k]) for k in a.final_params)
    assert not np.array_equal(a.final_params["W1"], c.final_params["W1"])


def test_partial_last_batch_is_used(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=20, max_epochs=3, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x[:45], y[:45], xt, yt, s, log=lambda m: None)
    assert r.batches_per_epoch == 3


class Killed(Exception):
    pass


def test_resume_from_saved_state_matches_uninterrupted_run(problem, tmp_path):
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=260, target_loss=1e-9, chunk_epochs=50, seed=1)
    full = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    state = tmp_path / "state.npz"

    def die_at_first_progress_line(msg):
        if msg.startswith("epoch"):
            raise Killed(msg)  # the state of epoch 100 was saved just before this line

    with pytest.raises(Killed):
        train_to_targets(params0, x, y, xt, yt, s, state_path=state, log=die_at_first_progress_line)
    assert state.exists()
    messages = []
    resumed = train_to_targets(params0, x, y, xt, yt, s, state_path=state, log=messages.append)
    assert resumed.resumed_from_epoch == 100 and messages[0].startswith("resumed from")
    assert np.array_equal(resumed.history, full.history, equal_nan=True)
    assert all(np.array_equal(resumed.final_params[k], full.final_params[k]) for k in full.final_params)
    assert resumed.acc1_epoch == full.acc1_epoch
    assert all(np.array_equal(resumed.acc1_params[k], full.acc1_params[k]) for k in full.acc1_params)
    # a state from other settings is ignored, not resumed
    other = TrainSettings.with_defaults(**{**s.__dict__, "learning_rate": 2e-3, "max_epochs": 3})
    msgs = []
    r = train_to_targets(params0, x, y, xt, yt, other, state_path=state, log=msgs.append)
    assert r.resumed_from_epoch == 0 and any("ignoring" in m for m in msgs)


def test_recorded_test_metrics_are_those_of_the_saved_weights_on_the_full_test_images(problem):
    """The loop leaves out pixels that are idle in the training subset and adds their fixed
    contribution to the test logits; the recorded test metrics must equal a plain numpy
    evaluation of the checkpoint on the full-dimensional test images."""
    params0, x, y, xt, yt = problem
    idle = ~np.any(x != 0, axis=0)
    inked = np.any(xt[:, idle] != 0, axis=1)
    assert inked.mean() > 0.1  # many test images have ink where no training image has any
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=80, target_loss=1e-9, seed=2, chunk_epochs=40)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    for params, epoch in ((r.final_params, r.final_epoch), (r.acc1_params, r.acc1_epoch)):
        z = logits(params, xt, np.float64)
        row = r.history[epoch]
        assert row[0] == epoch
        assert row[4] == pytest.approx(np.mean(z.argmax(1) == yt))
        assert row[3] == pytest.approx(cross_entropy(z, yt).mean(), rel=1e-4)
        zi = logits(params, xt[inked], np.float64)
        assert not np.allclose(zi, logits({**params, "W1": np.where(idle[:, None], 0, params["W1"])}, xt[inked]))


def test_the_test_set_every_k_epochs_changes_no_number_but_the_history_s_gaps(problem):
    """With test_every = k the test columns are evaluated at every k-th epoch, at each
    checkpoint and at max_epochs, and are NaN elsewhere; every other number (the training
    columns, the checkpoints and their weights, Adam's state) and every test value that is
    evaluated equal those of the run that evaluates every epoch, to the bit."""
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=300, target_loss=1e-3, seed=5, chunk_epochs=40)
    every = train_to_targets(params0, x, y, xt, yt, replace(s, test_every=1), log=lambda m: None)
    sparse = train_to_targets(params0, x, y, xt, yt, replace(s, test_every=7), log=lambda m: None)
    assert np.array_equal(every.history[:, :3], sparse.history[:, :3])
    for name in ("final_params", "acc1_params", "ce001_params", "optimizer"):
        a, b = getattr(every, name), getattr(sparse, name)
        assert all(np.array_equal(a[k], b[k]) for k in a), name
    checkpoints = {every.acc1_epoch, every.ce001_epoch, every.loss0_epoch}
    assert None not in checkpoints and every.loss0_epoch < s.max_epochs
    evaluated = ~np.isnan(sparse.history[:, 3])
    expected = {e for e in range(len(sparse.history)) if e % 7 == 0} | checkpoints
    assert set(np.flatnonzero(evaluated)) == expected
    assert np.array_equal(sparse.history[evaluated], every.history[evaluated])
    assert not np.isnan(every.history).any()
    # a run that stops at max_epochs has its test columns there
    short = train_to_targets(params0, x, y, xt, yt, replace(s, max_epochs=10, test_every=7), log=lambda m: None)
    reached = {e for e in (short.acc1_epoch, short.ce001_epoch) if e}
    assert short.loss0_epoch is None and set(np.flatnonzero(~np.isnan(short.history[:, 3]))) == {0, 7, 10} | reached


def numpy_adam(params0, x, y, steps, lr, beta_1=0.9, beta_2=0.999, eps=1e-7):
    """Full-batch Adam in numpy with Keras' rule, gradients by hand-written backprop of a
    one-hidden-layer ReLU network and the mean cross-entropy (float64)."""
    w = {k: np.asarray(v, np.float64).copy() for k, v in params0.items()}
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    onehot = np.eye(w["W2"].shape[1])[y]
    for t in range(1, steps + 1):
        z1 = x @ w["W1"] + w["b1"]
        h = np.maximum(z1, 0)
        z2 = h @ w["W2"] + w["b2"]
        p = np.exp(z2 - z2.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz2 = (p - onehot) / len(x)
        dz1 = (dz2 @ w["W2"].T) * (z1 > 0)
        g = {"W2": h.T @ dz2, "b2": dz2.sum(0), "W1": x.T @ dz1, "b1": dz1.sum(0)}
        lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for k in w:
            m[k] += (g[k] - m[k]) * (1 - beta_1)
            v2[k] += (g[k] ** 2 - v2[k]) * (1 - beta_2)
            w[k] -= lr_t * m[k] / (np.sqrt(v2[k]) + eps)
    return w


def test_adam_follows_keras_rule_step_by_step(mnist5k_pool):
    """Against an independent numpy Adam (bias correction, moments, ε), full batch so that
    no shuffle is involved; float64 inputs are taken as float32 like any others."""
    x, y, xt, yt = mnist5k_pool
    x, y = x[::97][:40].astype(np.float64), y[::97][:40]  # the pool is in class order: take every class
    params0 = glorot_uniform_init([784, 12, 10], 1)
    s = TrainSettings.with_defaults(learning_rate=0.01, batch_size=40, max_epochs=4, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x, y, xt[::50].astype(np.float64), yt[::50], s, log=lambda m: None)
    assert len(set(y)) == 10
    expected = numpy_adam(params0, x.astype(np.float32).astype(np.float64), y, 4, 0.01)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(r.final_params[k], expected[k], rtol=2e-4, atol=2e-6)
    assert r.optimizer["step"] == 4 and r.optimizer["step"].dtype == np.int64


def test_adam_follows_keras_optimizers_adam_itself(mnist5k_pool):
    """The same full-batch steps taken by ``keras.optimizers.Adam`` (its default β1, β2 and ε, the
    learning rate of the run) on TensorFlow variables, gradients by tf.GradientTape: the weights
    and Adam's step count agree with the training loop's."""
    import keras
    import tensorflow as tf

    x, y, xt, yt = mnist5k_pool
    x, y = x[::97][:40], y[::97][:40]
    params0 = glorot_uniform_init([784, 12, 10], 3)
    s = TrainSettings.with_defaults(learning_rate=0.01, batch_size=40, max_epochs=5, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x, y, xt[::50], yt[::50], s, log=lambda m: None)
    names = ("W1", "b1", "W2", "b2")
    w = [tf.Variable(np.asarray(params0[k], np.float32)) for k in names]
    adam = keras.optimizers.Adam(learning_rate=0.01)
    xb, yb = tf.constant(np.asarray(x, np.float32)), tf.constant(np.asarray(y, np.int32))
    for _ in range(5):
        with tf.GradientTape() as tape:
            z = tf.nn.relu(xb @ w[0] + w[1]) @ w[2] + w[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=z))
        adam.apply_gradients(zip(tape.gradient(loss, w), w))
    for k, v in zip(names, w):
        np.testing.assert_allclose(r.final_params[k], v.numpy(), rtol=1e-4, atol=1e-6)
    assert int(adam.iterations.numpy()) == r.optimizer["step"] == 5


def test_a_carried_optimizer_continues_the_run_it_came_from(mnist5k_pool):
    """Six full-batch epochs equal three, then three more from the saved weights and Adam
    state: what the carry_optimizer protocol relies on."""
    x, y, xt, yt = mnist5k_pool
    x, y, xt, yt = x[::97][:40], y[::97][:40], xt[::50], yt[::50]
    params0 = glorot_uniform_init([784, 12, 10], 2)
    settings = dict(learning_rate=0.01, batch_size=40, target_loss=1e-9, seed=0)
    whole = train_to_targets(
        params0, x, y, xt, yt, TrainSettings.with_defaults(max_epochs=6, **settings), log=lambda m: None
    )
    first = train_to_targets(
        params0, x, y, xt, yt, TrainSettings.with_defaults(max_epochs=3, **settings), log=lambda m: None
    )
    second = train_to_targets(
        first.final_params,
        x,
        y,
        xt,
        yt,
        TrainSettings.with_defaults(max_epochs=3, **settings),
        log=lambda m: None,
        optimizer=first.optimizer,
    )
    for k in whole.final_params:
        np.testing.assert_allclose(second.final_params[k], whole.final_params[k], rtol=1e-5, atol=1e-7)
    for k in whole.optimizer:
        np.testing.assert_allclose(second.optimizer[k], whole.optimizer[k], rtol=1e-5, atol=1e-9)
    fresh = train_to_targets(
        first.final_params, x, y, xt, yt, TrainSettings.with_defaults(max_epochs=3, **settings), log=lambda m: None
    )
    assert not np.allclose(fresh.final_params["W2"], whole.final_params["W2"], rtol=1e-3)  # Adam's state matters


def assert_same_run(a, b):
    """Two TrainResults with the same numbers, to the bit."""
    assert (a.final_epoch, a.acc1_epoch, a.ce001_epoch, a.loss0_epoch) == (
        b.final_epoch,
        b.acc1_epoch,
        b.ce001_epoch,
        b.loss0_epoch,
    )
    assert np.array_equal(a.history, b.history, equal_nan=True)
    for name in ("final_params", "acc1_params", "ce001_params", "optimizer"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None) and all(np.array_equal(x[k], y[k]) for k in x or {}), name


def test_runs_of_the_same_shapes_share_one_compiled_loop_and_keep_their_numbers(problem):
    """Other labels, another learning rate and a carried optimizer on the same images reuse
    the first run's compiled loop; every run's numbers equal those of the run on its own."""
    params0, x, y, xt, yt = problem
    s = TrainSettings.with_defaults(batch_size=16, max_epochs=60, target_loss=1e-3, seed=1, chunk_epochs=25)
    shuffled = np.random.default_rng(0).permutation(y)
    cases = [
        dict(y=y, settings=s),
        dict(y=shuffled, settings=replace(s, learning_rate=3 * s.learning_rate)),
        dict(y=shuffled, settings=s),
    ]
    programs, lines = {}, []
    shared = [
        train_to_targets(params0, x, c["y"], xt, yt, c["settings"], log=lines.append, programs=programs) for c in cases
    ]
    alone = [train_to_targets(params0, x, c["y"], xt, yt, c["settings"], log=lambda m: None) for c in cases]
    for a, b in zip(shared, alone):
        assert_same_run(a, b)
    assert shared[0].acc1_epoch != shared[1].acc1_epoch  # the runs differ: nothing leaked between them
    assert len(programs) == 1
    assert [line.split(" in ")[0] for line in lines if " in " in line] == ["compiled", "set up", "set up"]
    # Adam carried from the first run onto its first 40 examples: fewer examples, a loop of its own
    carried = dict(optimizer=shared[0].optimizer, log=lambda m: None)
    on_shared = train_to_targets(params0, x[:40], y[:40], xt, yt, s, programs=programs, **carried)
    assert_same_run(on_shared, train_to_targets(params0, x[:40], y[:40], xt, yt, s, **carried))
    assert len(programs) == 2
    again = train_to_targets(params0, x[:40], shuffled[:40], xt, yt, s, programs=programs, log=lambda m: None)
    assert_same_run(again, train_to_targets(params0, x[:40], shuffled[:40], xt, yt, s, log=lambda m: None))
    steps = on_shared.final_epoch * on_shared.batches_per_epoch
    assert on_shared.optimizer["step"] == shared[0].optimizer["step"] + steps
    assert again.optimizer["step"] == again.final_epoch * again.batches_per_epoch  # Adam from zero again


def test_progress_is_logged_every_hundred_epochs_and_at_the_end(problem):
    params0, x, y, xt, yt = problem
    lines = []
    train_to_targets(
        params0,
        x,
        y,
        xt,
        yt,
        TrainSettings.with_defaults(batch_size=48, max_epochs=250, target_loss=1e-9, chunk_epochs=50),
        log=lines.append,
    )
    import re

    assert [int(re.match(r"epoch\s+(\d+) of 250", line).group(1)) for line in lines if line.startswith("epoch")] == [
        100,
        200,
        250,
    ]


def test_a_non_finite_loss_names_its_epoch_and_learning_rate():
    from genstudy.training import TrainingDiverged, check_finite

    rows = np.array([[4, 0.5, 1, 0.6, 0.5], [5, np.nan, 1, 0.6, 0.5], [6, np.inf, 1, 0.6, 0.5]])
    with pytest.raises(TrainingDiverged, match=r"training loss became nan at epoch 5 with learning rate 0.5:"):
        check_finite(rows, TrainSettings.with_defaults(learning_rate=0.5))


def test_the_resume_fingerprint_covers_settings_weights_data_and_the_carried_optimizer(problem):
    from genstudy.training import job_fingerprint

    params0, x, y, xt, yt = problem
    s, data = TrainSettings.with_defaults(), [x, y, xt, yt]
    base = job_fingerprint(s, params0, data, None)
    optimizer = {"m_W1": np.zeros(2), "step": np.array(3)}
    assert base == job_fingerprint(TrainSettings.with_defaults(), dict(params0), list(data), None) and len(base) == 16
    others = [
        job_fingerprint(TrainSettings.with_defaults(seed=1), params0, data, None),
        job_fingerprint(s, {**params0, "b1": params0["b1"] + 1}, data, None),
        job_fingerprint(s, params0, [x, y, xt, yt + 1], None),
        job_fingerprint(s, params0, data, optimizer),
        job_fingerprint(s, params0, data, {**optimizer, "step": np.array(4)}),
    ]
    assert len({base, *others}) == 6


def test_carried_moments_keep_exactly_the_input_rows_adam_still_moves():
    """A row of W1 is busy when its first or its second moment is nonzero anywhere in it."""
    m = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.0], [0.0, 0.0]])
    v = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    state = {"m_W1": m, "v_W1": v, "m_b1": np.zeros(2), "v_b1": np.ones(2), "step": np.int64(7)}
    moments, busy = optimizer_moments(state, ("W1", "b1"))
    assert busy.tolist() == [False, True, True, False]
    assert moments["step"] == 7 and moments["v_b1"].dtype == np.float32 and set(moments) == set(state)
    assert optimizer_moments(None, ("W1", "b1")) == (None, None)
