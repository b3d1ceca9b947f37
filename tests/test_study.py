"""The study's runs, axes and path segments (genstudy.study)."""

import json

import yaml

from genstudy.study import arch_columns, architectures, hidden_key, lr_key, parse_hidden_key, runs, varying_axes
from helpers import ROOT

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_study_runs_and_axes_carry_every_value():
    cfg = json.loads(json.dumps(DEFAULT))
    cfg.update(
        sizes=[32],
        seeds=[5],
        label_modes=["wrong"],
        train={**cfg["train"], "learning_rate": 0.01, "batch_size": 16, "protocol": "carry_optimizer"},
    )
    (r,) = runs(cfg)
    assert (r.label_mode, r.hidden, r.learning_rate, r.batch_size, r.protocol, r.size, r.seed) == (
        "wrong",
        (64, 64),
        0.01,
        16,
        "carry_optimizer",
        32,
        5,
    )
    cfg["train"].update(batch_size=[16, 32], protocol=["independent", "carry_optimizer"])
    assert varying_axes(cfg) == ["batch_size", "protocol"]
    cfg["model"] = {"hidden": [[8, 8], [16, 16]]}
    assert varying_axes(cfg) == ["batch_size", "protocol", "width"]
    cfg["model"] = {"hidden": [[8], [8, 8]]}
    assert varying_axes(cfg) == ["batch_size", "protocol", "depth"]
    cfg["model"] = {"hidden": [[8, 16], [16, 16]]}  # not uniform: one axis per architecture
    assert varying_axes(cfg) == ["batch_size", "protocol", "hidden"]
    assert arch_columns((8, 16), 4, 2) == {"depth": 3, "width": None, "n_params": 4 * 8 + 8 + 8 * 16 + 16 + 16 * 2 + 2}
    assert arch_columns((8, 8), 4, 2)["width"] == 8


def test_study_axes_and_path_segments():
    assert architectures([64, 64]) == [(64, 64)] and architectures([[8], [16, 16]]) == [(8,), (16, 16)]
    assert hidden_key((64, 32)) == "64-32" and parse_hidden_key("64-32") == (64, 32)
    assert lr_key(0.001) == "0.001" and float(lr_key(3e-5)) == 3e-5
    assert len(runs(DEFAULT)) == 48 and varying_axes(DEFAULT) == ["size", "label_mode"]
    grid = {
        **DEFAULT,
        "model": {"hidden": [[8, 8], [16, 16], [8, 8, 8]]},
        "train": {**DEFAULT["train"], "learning_rate": [0.001, 0.01], "protocol": ["independent"]},
    }
    assert varying_axes(grid) == ["size", "label_mode", "learning_rate", "depth", "width"]
    assert varying_axes({**grid, "model": {"hidden": [[8, 16], [16, 8]]}})[-1] == "hidden"
    assert {r.wildcards["lr"] for r in runs(grid)} == {"0.001", "0.01"}
