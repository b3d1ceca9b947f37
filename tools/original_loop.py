"""The original experiment's loop, re-run in Keras on the embedded digits, with both accuracies.

The original (mfmotta/deep_learning_generalization_experiments, train.py) compiles one Keras
model, then for sizes 1024 down to 128 restores the initial weights (``load_weights``: layer
weights only, so Adam's moments and step counter carry over) and fits until its running training
loss reaches the target; its acc1 epoch is the first epoch whose logged ``acc`` is 1. That ``acc``
is Keras' running average over the epoch's batches, each scored by the weights before its own
update, not the accuracy of the epoch's final weights on the whole subset, which this workflow
uses. This tool records both on the same trajectories, so the two can be told apart from the
other differences between the original and the ``original`` preset (data, shuffles, stopping).

Same subsets and initial weights as the workflow's runs of the same seeds (mnist5k, data seed 0).
With ``--engine workflow`` the same loop runs through the workflow's own trainer instead, chained
as the ``original`` preset chains its carry_optimizer runs (exact accuracy only). Writes
results/benchmarks/original_loop_<engine>.json: per label mode, seed and size, the first epoch at
which the running and the exact training accuracy are 1, the loss0 epoch and Adam's step count.

    .venv/bin/python tools/original_loop.py [--engine keras|workflow] [--seeds 0 1 2] [--label-modes correct]
"""

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from genstudy.data import nested_subsets, prepare_pool_and_test
from genstudy.model import glorot_uniform_init, ordered
from genstudy.runtime import configure_tensorflow

ROOT = Path(__file__).resolve().parents[1]
SIZES = [1024, 896, 768, 640, 512, 384, 256, 128]  # the original's order: largest first


def epoch_recorder(keras, x, y, target_loss):
    """A Keras callback that records, per epoch, the logged (running) accuracy and loss and the
    exact accuracy and loss of the epoch's final weights on the whole subset, and stops at the
    target loss as the original did (its band [0.9, 1.1] x 1e-5, read as <= 1.1e-5)."""

    class Recorder(keras.callbacks.Callback):
        rows = []

        def on_epoch_end(self, epoch, logs=None):
            p = np.asarray(self.model(x, training=False), np.float64)
            exact_loss = float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-300, None))))
            exact_acc = float(np.mean(p.argmax(axis=1) == y))
            self.rows.append((epoch + 1, float(logs["accuracy"]), float(logs["loss"]), exact_acc, exact_loss))
            if logs["loss"] <= target_loss:
                self.model.stop_training = True

    recorder = Recorder()
    recorder.rows = []
    return recorder


def first_epoch(rows, column: int, test) -> int | None:
    return next((r[0] for r in rows if test(r[column])), None)


def run_seed(keras, x_pool, y_pool, label_mode: str, seed: int, max_epochs: int, target_loss: float) -> list[dict]:
    """One seed of the original's loop: every size from the seed's initial weights, Adam carried."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    init = ordered(glorot_uniform_init([784, 64, 64, 10], seed))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    out = []
    for n, sub in nested_subsets(x_pool, y_pool, label_mode, seed, SIZES, 10):
        model.set_weights(init)  # the weights only: the optimizer's state carries over, as load_weights did
        recorder = epoch_recorder(keras, sub["x"], sub["y"], target_loss)
        y1h = keras.utils.to_categorical(sub["y"], 10)
        model.fit(sub["x"], y1h, batch_size=128, epochs=max_epochs, verbose=0, shuffle=True, callbacks=[recorder])
        rows = recorder.rows
        out.append(
            {
                "label_mode": label_mode,
                "seed": seed,
                "size": n,
                "acc1_running": first_epoch(rows, 1, lambda a: a == 1.0),
                "acc1_exact": first_epoch(rows, 3, lambda a: a == 1.0),
                "loss0_running": first_epoch(rows, 2, lambda v: v <= target_loss),
                "loss0_exact": first_epoch(rows, 4, lambda v: v <= target_loss),
                "epochs": rows[-1][0],
                "optimizer_steps_after": int(model.optimizer.iterations.numpy()),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def run_seed_workflow(x_pool, y_pool, x_test, y_test, label_mode, seed, max_epochs, target_loss, threads) -> list[dict]:
    """The same loop through the workflow's trainer (genstudy.training), as the ``original``
    preset's carry_optimizer runs chain it: each size from the seed's initial weights and the
    Adam state the previous size ended with."""
    from genstudy.training import TrainSettings, train_to_targets

    init = glorot_uniform_init([784, 64, 64, 10], seed)
    s = TrainSettings.with_defaults(
        learning_rate=1e-3, batch_size=128, max_epochs=max_epochs, target_loss=target_loss, seed=seed
    )
    out, optimizer, programs = [], None, {}
    for n, sub in nested_subsets(x_pool, y_pool, label_mode, seed, SIZES, 10):
        r = train_to_targets(
            init,
            sub["x"],
            sub["y"],
            x_test,
            y_test,
            s,
            log=lambda *a: None,
            threads=threads,
            optimizer=optimizer,
            programs=programs,
        )
        optimizer = r.optimizer
        out.append(
            {
                "label_mode": label_mode,
                "seed": seed,
                "size": n,
                "acc1_exact": r.acc1_epoch,
                "loss0_exact": r.loss0_epoch,
                "epochs": r.final_epoch,
                "optimizer_steps_after": int(optimizer["step"]),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--label-modes", nargs="+", default=["correct"])
    parser.add_argument("--max-epochs", type=int, default=3000)
    parser.add_argument("--target-loss", type=float, default=1.1e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engine", choices=["keras", "workflow"], default="keras")
    parser.add_argument("--out", default="results/benchmarks/original_loop_{engine}.json")
    args = parser.parse_args()
    tf = configure_tensorflow(args.threads)
    import keras

    x_pool, y_pool, x_test, y_test, _ = prepare_pool_and_test("mnist5k", 1000, 0)
    if args.engine == "keras":
        one = lambda mode, seed: run_seed(keras, x_pool, y_pool, mode, seed, args.max_epochs, args.target_loss)
    else:
        one = lambda mode, seed: run_seed_workflow(
            x_pool, y_pool, x_test, y_test, mode, seed, args.max_epochs, args.target_loss, args.threads
        )
    runs = [r for mode in args.label_modes for seed in args.seeds for r in one(mode, seed)]
    meta = {
        "tool": "tools/original_loop.py",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "dataset": "mnist5k, data seed 0, test 1000",
        "max_epochs": args.max_epochs,
        "target_loss": args.target_loss,
        "engine": args.engine,
    }
    path = ROOT / args.out.format(engine=args.engine)
    path.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
