import numpy as np
import pytest

from genstudy.model import cross_entropy, glorot_uniform_init, logits
from genstudy.training import TrainSettings, train_to_targets

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
    s = TrainSettings(batch_size=16, max_epochs=2000, target_loss=1e-2, seed=0, chunk_epochs=37)
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


def test_unreached_target_stops_at_max_epochs(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings(batch_size=16, max_epochs=5, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    assert r.loss0_epoch is None and r.acc1_epoch is None and r.final_epoch == 5 and len(r.history) == 6


def test_same_settings_same_numbers_and_seed_matters(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings(batch_size=16, max_epochs=30, target_loss=1e-9, seed=3, chunk_epochs=7)
    a = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    b = train_to_targets(params0, x, y, xt, yt, TrainSettings(**{**s.__dict__, "chunk_epochs": 30}), log=lambda m: None)
    c = train_to_targets(params0, x, y, xt, yt, TrainSettings(**{**s.__dict__, "seed": 4}), log=lambda m: None)
    assert np.array_equal(a.history, b.history)  # chunking does not change the numbers
    assert all(np.array_equal(a.final_params[k], b.final_params[k]) for k in a.final_params)
    assert not np.array_equal(a.final_params["W1"], c.final_params["W1"])


def test_partial_last_batch_is_used(problem):
    params0, x, y, xt, yt = problem
    s = TrainSettings(batch_size=20, max_epochs=3, target_loss=1e-9, seed=0)
    r = train_to_targets(params0, x[:45], y[:45], xt, yt, s, log=lambda m: None)
    assert r.batches_per_epoch == 3


class Killed(Exception):
    pass


def test_resume_from_saved_state_matches_uninterrupted_run(problem, tmp_path):
    params0, x, y, xt, yt = problem
    s = TrainSettings(batch_size=16, max_epochs=260, target_loss=1e-9, chunk_epochs=50, seed=1)
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
    assert np.array_equal(resumed.history, full.history)
    assert all(np.array_equal(resumed.final_params[k], full.final_params[k]) for k in full.final_params)
    assert resumed.acc1_epoch == full.acc1_epoch
    assert all(np.array_equal(resumed.acc1_params[k], full.acc1_params[k]) for k in full.acc1_params)
    # a state from other settings is ignored, not resumed
    other = TrainSettings(**{**s.__dict__, "learning_rate": 2e-3, "max_epochs": 3})
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
    s = TrainSettings(batch_size=16, max_epochs=80, target_loss=1e-9, seed=2, chunk_epochs=40)
    r = train_to_targets(params0, x, y, xt, yt, s, log=lambda m: None)
    for params, epoch in ((r.final_params, r.final_epoch), (r.acc1_params, r.acc1_epoch)):
        z = logits(params, xt, np.float64)
        row = r.history[epoch]
        assert row[0] == epoch
        assert row[4] == pytest.approx(np.mean(z.argmax(1) == yt))
        assert row[3] == pytest.approx(cross_entropy(z, yt).mean(), rel=1e-4)
        zi = logits(params, xt[inked], np.float64)
        assert not np.allclose(zi, logits({**params, "W1": np.where(idle[:, None], 0, params["W1"])}, xt[inked]))
