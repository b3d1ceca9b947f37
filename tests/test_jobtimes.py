"""Where a study's time goes: Snakemake's log and the train logs read into per-rule times and shares."""

import json

import pytest

from jobtimes import differing_files, job_seconds, startup_seconds, study_timings

# Two jobs overlapping, a local one, and the target rule, as Snakemake 9 writes them.
SNAKEMAKE_LOG = """Select jobs to execute...
Execute 2 jobs...

[Fri Dec  4 07:44:50 2026]
localrule prepare_data:
    output: results/s/data/pool.npz
    jobid: 3
    reason: Missing output files
    resources: tmpdir=/tmp

[Fri Dec  4 07:44:51 2026]
rule train:
    input: results/s/subsets/correct/seed0/n32.npz
    jobid: 7
    benchmark: results/s/benchmarks/train/x.tsv
[Fri Dec  4 07:44:53 2026]
Finished jobid: 3 (Rule: prepare_data)
1 of 4 steps (25%) done
[Fri Dec  4 07:45:01 2026]
rule train:
    jobid: 8
[Fri Dec  4 07:45:31 2026]
Finished jobid: 7 (Rule: train)
[Fri Dec  4 07:46:01 2026]
Finished jobid: 8 (Rule: train)
[Fri Dec  4 07:46:01 2026]
localrule all:
    jobid: 0
[Fri Dec  4 07:46:01 2026]
Finished jobid: 0 (Rule: all)
"""

TRAIN_LOG = """TensorFlow ready 2.50 s after the script started
n=32: training {'size': 32}
compiled in 1.25 s
epoch   100 of 3000  train loss 1.0e-03
n=64: training {'size': 64}
compiled in 1.75 s
random lr=0.001 n=32: training {'size': 32}
set up in 0.02 s on the loop of an earlier run
"""


def test_job_seconds_pairs_each_jobs_start_with_its_end_by_jobid():
    assert job_seconds(SNAKEMAKE_LOG) == {"prepare_data": [3.0], "train": [40.0, 60.0], "all": [0.0]}


def test_startup_sums_tensorflow_and_every_runs_compilation():
    legacy = "TensorFlow ready 4.00 s after the script started\nfirst chunk incl. XLA compilation: 3.00 s\n"
    assert startup_seconds([TRAIN_LOG, legacy]) == {
        "tensorflow_s": 6.5,
        "compile_s": 3.0,
        "reuse_s": 0.02,
        "first_chunk_s": 3.0,
        "runs": 4,
        "compiled_runs": 3,
    }
    assert startup_seconds(["epoch 100 of 3000\n"]) == {
        "tensorflow_s": 0.0,
        "compile_s": 0.0,
        "reuse_s": 0.0,
        "first_chunk_s": 0.0,
        "runs": 0,
        "compiled_runs": 0,
    }


def test_study_timings_reads_the_newest_snakemake_log_and_the_train_logs(tmp_path):
    logs = tmp_path / ".snakemake" / "log"
    logs.mkdir(parents=True)
    (logs / "2026-12-04T0700.snakemake.log").write_text("[Fri Dec  4 07:00:00 2026]\nrule train:\n    jobid: 1\n")
    newest = logs / "2026-12-04T0744.snakemake.log"
    newest.write_text(
        SNAKEMAKE_LOG + "[Fri Dec  4 07:46:05 2026]\nrule measures:\n    jobid: 9\n"
        "[Fri Dec  4 07:46:25 2026]\nFinished jobid: 9 (Rule: measures)\n"
    )
    newest.touch()
    train = tmp_path / "results" / "s" / "logs" / "train" / "correct"
    train.mkdir(parents=True)
    (train / "seed0.log").write_text(TRAIN_LOG)
    measures = tmp_path / "results" / "s" / "logs" / "measures" / "correct"
    measures.mkdir(parents=True)
    (measures / "n32" / "seed0.log").parent.mkdir()
    (measures / "n32" / "seed0.log").write_text(
        "TensorFlow ready 2.50 s after the script started\nn=32 acc1 (epoch 3):\n"
    )
    t = study_timings(tmp_path, "s", 91.04)
    assert t["rules"] == {
        "measures": {"jobs": 1, "job_s": 20.0},
        "prepare_data": {"jobs": 1, "job_s": 3.0},
        "train": {"jobs": 2, "job_s": 100.0},
    }
    assert t["wall_s"] == 91.0 and t["job_s"] == 123.0
    assert t["train"]["startup_s"] == 5.5 and t["train"]["runs"] == 3 and t["train"]["compiled_runs"] == 2
    assert t["train"]["startup_share"] == pytest.approx(5.52 / 100, abs=1e-3)
    assert t["train"]["startup_s_per_job"] == pytest.approx(5.52 / 2, abs=0.01) and t["train"]["job_s_per_job"] == 50.0
    assert t["measures"]["tensorflow_s"] == 2.5 and t["measures"]["runs"] == 0  # measures jobs compile no loop
    assert t["measures"]["startup_share"] == pytest.approx(2.5 / 20) and t["measures"]["startup_s_per_job"] == 2.5
    assert t["measures_share"] == pytest.approx(20 / 123, abs=1e-3)
    json.dumps(t)  # what study.json holds


def test_differing_files_names_changed_and_missing_result_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "tables").mkdir(parents=True)
        (root / "train" / "run").mkdir(parents=True)
        (root / "tables" / "measures.csv").write_text("x\n1.0\n")
        (root / "train" / "run" / "loss0.npz").write_bytes(b"\x00\x01")
        (root / "tables" / "measures.html").write_text(f"<p>{root.name}</p>")  # pages are not compared
    assert differing_files(a, b) == []
    (b / "tables" / "measures.csv").write_text("x\n1.0000000000000002\n")
    (a / "train" / "run" / "history.csv").write_text("epoch\n")
    assert differing_files(a, b) == ["tables/measures.csv", "train/run/history.csv"]


def test_histories_agree_where_both_evaluated_the_test_set(tmp_path):
    """train.test_every leaves test fields empty: such a history agrees with one that has them,
    but not where a training column or an evaluated test value differs."""
    a, b = tmp_path / "a", tmp_path / "b"
    head = "epoch,train_loss,train_acc,test_loss,test_acc\n"
    rows = ["0,2.3,0.1,2.31,0.09\n", "1,1.5,0.4,1.52,0.38\n", "2,0.9,0.7,0.95,0.66\n"]
    for root, text in ((a, head + "".join(rows)), (b, head + rows[0] + "1,1.5,0.4,,\n" + rows[2])):
        (root / "train" / "run").mkdir(parents=True)
        (root / "train" / "run" / "history.csv").write_text(text)
        (root / "train" / "run" / "summary.json").write_text(
            json.dumps({"final_epoch": 2} | ({"test_every": 2} if root == b else {}))
        )
    assert differing_files(a, b) == []
    assert differing_files(a, b, exact=True) == ["train/run/history.csv", "train/run/summary.json"]
    for changed in ("1,1.5000001,0.4,,\n", "1,1.5,0.4,1.53,\n"):
        (b / "train" / "run" / "history.csv").write_text(head + rows[0] + changed + rows[2])
        assert differing_files(a, b) == ["train/run/history.csv"], changed
    (b / "train" / "run" / "summary.json").write_text(json.dumps({"final_epoch": 3}))
    assert "train/run/summary.json" in differing_files(a, b)


@pytest.mark.slow
def test_a_real_runs_log_gives_every_planned_job_and_every_runs_compilation(tiny_study):
    t = study_timings(tiny_study, "tiny", 1.0)
    assert t["rules"]["train"]["jobs"] == 4 and t["rules"]["measures"]["jobs"] == 4  # one per run
    assert t["rules"]["make_subset"]["jobs"] == 4 and t["rules"]["prepare_data"]["jobs"] == 1
    assert t["train"]["runs"] == 4 and t["train"]["compiled_runs"] == 4  # 2 label modes × 2 sizes, one learning rate
    assert 0 < t["train"]["startup_s"] < t["train"]["job_s"]
    assert 0 < t["measures"]["tensorflow_s"] < t["measures"]["job_s"]
    assert 0 < t["measures_share"] < 1


def test_growth_timing_rates_the_new_seeds_runs_and_scales_them_to_the_whole_study(tmp_path):
    from growth_timing import elapsed_seconds, growth_timing

    logs = tmp_path / ".snakemake" / "log"
    logs.mkdir(parents=True)
    (logs / "2026-12-04T0744.snakemake.log").write_text(SNAKEMAKE_LOG + "Elapsed time: 0:01:31.040000\n")
    bench = tmp_path / "results" / "s" / "benchmarks"
    header = "s\th:m:s\tmax_rss\n"
    # two new seeds x two runs each, and an old seed's run that must not count
    for rule, seconds in (("train", 10.0), ("measures", 20.0)):
        for seed in (2, 3):
            for size in (32, 64):
                path = bench / rule / "correct" / f"n{size}" / f"seed{seed}.tsv"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{header}{seconds + size / 32}\t0:00:10\t1\n")
        (bench / rule / "correct" / "n32" / "seed0.tsv").write_text(f"{header}999\t0:16:39\t1\n")
    config = tmp_path / "c.yaml"
    config.write_text("seeds: [0, 1, 2, 3]\n")
    t = growth_timing(tmp_path, "s", [2, 3], 2, config)
    assert elapsed_seconds("Elapsed time: 1:02:03.5\n") == 3723.5
    assert t["new_runs"] == 4 and t["study_runs"] == 8
    assert t["new_runs_job_s"] == {"train": 46.0, "measures": 86.0}
    assert t["job_s_per_run"] == 33.0 and t["study_run_jobs_s_on_cores"] == 132.0
    assert t["growth"]["wall_s"] == 91.0 and t["growth"]["rules"]["train"] == {"jobs": 2, "job_s": 100.0}
    json.dumps(t)
