"""The published experiments as presets: their DAGs by dry runs, and a tiny version of each end to end."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from genstudy.study import runs
from helpers import ROOT, planned_jobs, run_snakemake

PRESETS = ROOT / "config" / "presets"
TINY_MEASURES = dict(
    top_k=2,
    lanczos_max_iter=10,
    slq_runs=1,
    slq_steps=10,
    trace_max_vectors=10,
    sharpness_steps=3,
    sharpness_restarts=1,
    flatness_draws=2,
    flatness_halvings=4,
    jacobian_points=50,
)


def preset(name):
    return yaml.safe_load((PRESETS / f"{name}.yaml").read_text())


@pytest.mark.parametrize(
    "name,n_runs",
    [
        ("original", 96),
        ("zhang2017", 18),
        ("neyshabur2017", 28),
        ("jiang2019", 32),
        ("question", 224),
        ("question_jiang", 320),
    ],
)
def test_dry_run_of_each_preset_plans_one_train_and_one_measures_job_per_run(tmp_path, name, n_runs):
    jobs = planned_jobs(run_snakemake(tmp_path, "-n", "--cores", "1", configfile=PRESETS / f"{name}.yaml"))
    default = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert len(runs({**default, **preset(name)})) == n_runs  # a partial preset takes the rest from the defaults
    assert (jobs["train"], jobs["measures"]) == (n_runs, n_runs)
    assert preset(name)["study"] == name and not (tmp_path / "results").exists()


def test_the_original_protocol_chains_each_size_to_the_next_larger_one(tmp_path):
    out = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=PRESETS / "original.yaml").stdout
    run = "results/original/train/{mode}/h64-64/lr0.001/bs128/{protocol}/n{n}/seed{seed}"
    jobs = [b for b in re.split(r"\n\[", out) if re.search(r"^(local)?rule train:", b, re.M)]
    carried = {}
    for block in jobs:
        target = re.search(r"output: .*?/carry_optimizer/n(\d+)/seed(\d+)/acc1.npz", block)
        source = re.search(r"carry_optimizer/n(\d+)/seed\d+/optimizer.npz", block.split("output:")[0])
        if target:
            carried[int(target.group(1))] = int(source.group(1)) if source else None
    assert carried == {1024: None, 896: 1024, 768: 896, 640: 768, 512: 640, 384: 512, 256: 384, 128: 256}
    independent = [b for b in jobs if "/independent/" in b]
    assert len(independent) == 48 and not any("optimizer.npz" in b.split("output:")[0] for b in independent)
    assert run.format(mode="random", protocol="carry_optimizer", n=128, seed=2) in out


def tiny(name, tmp_path, **overrides):
    cfg = preset(name)
    cfg.update(test_size=200, seeds=[0], **{k: v for k, v in overrides.items() if k not in ("train", "model")})
    cfg["train"].update(max_epochs=60, chunk_epochs=30, target_loss=1e-3, **overrides.get("train", {}))
    cfg["model"].update(overrides.get("model", {}))
    cfg["measures"].update(TINY_MEASURES)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run_snakemake(tmp_path, "--cores", "2", configfile=path)
    return tmp_path / "results" / name


@pytest.mark.slow
def test_tiny_original(tmp_path):
    r = tiny("original", tmp_path, sizes=[32, 48], train={"batch_size": 16})
    t = pd.read_csv(r / "tables/training.csv")
    assert set(t.protocol) == {"carry_optimizer", "independent"}
    log = (r / "logs/train/correct/h64-64/lr0.001/bs16/carry_optimizer/n32/seed0.log").read_text()
    assert (
        "Adam continuing from results/original/train/correct/h64-64/lr0.001/bs16/carry_optimizer/n48/seed0/"
        "optimizer.npz" in log
    )
    run = r / "train/correct/h64-64/lr0.001/bs16/carry_optimizer/n{}/seed0"
    updates = {}
    for n in (32, 48):
        summary = json.loads((Path(str(run).format(n)) / "summary.json").read_text())
        updates[n] = summary["final_epoch"] * summary["batches_per_epoch"]
    with np.load(Path(str(run).format(32)) / "optimizer.npz") as opt:  # Adam went on counting from n = 48
        assert int(opt["step"]) == updates[48] + updates[32]
    big = t[(t["size"] == 48) & (t.checkpoint == "loss0")].set_index(["label_mode", "protocol"])
    for mode in ("correct", "random"):  # the largest size starts from a fresh optimiser in both protocols
        assert big.loc[(mode, "carry_optimizer"), "epoch"] == big.loc[(mode, "independent"), "epoch"]
    assert (r / "figures/original_comparison.png").stat().st_size > 10_000


@pytest.mark.slow
def test_tiny_zhang2017(tmp_path):
    r = tiny(
        "zhang2017", tmp_path, sizes=[32], train={"batch_size": 16}, label_modes=["corrupt0", "corrupt50", "corrupt100"]
    )
    m = pd.read_csv(r / "tables/measures.csv")
    assert sorted(set(m.baseline_label_noise)) == [0.0, 0.5, 1.0]
    assert (r / "figures/against_label_mode_norm.png").exists()


@pytest.mark.slow
def test_tiny_neyshabur2017(tmp_path):
    r = tiny("neyshabur2017", tmp_path, sizes=[32], train={"batch_size": 16}, model={"hidden": [[8, 8], [32, 32]]})
    t = pd.read_csv(r / "tables/training.csv")
    assert set(t.width) == {8, 32} and set(t.depth) == {3}
    assert (r / "figures/against_width_flatness.png").exists()


@pytest.mark.slow
def test_tiny_jiang2019(tmp_path):
    r = tiny(
        "jiang2019", tmp_path, sizes=[32, 48], model={"hidden": [[8, 8], [8, 8, 8]]}, train={"batch_size": [16, 32]}
    )
    psi = pd.read_csv(r / "tables/granulated_kendall.csv")
    assert set(psi.axis) == {"size", "learning_rate", "batch_size", "depth", "Psi", "CMI", "CMI_pgdl"}
    for axis in ("learning_rate", "batch_size", "depth"):
        assert all((r / f"figures/against_{axis}_{f}.png").exists() for f in ("norm", "curvature", "optimisation"))
