"""The tables (genstudy.tables): readers, the HTML pages and the size budget."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from genstudy.arrays import FileContractError, save_json
from genstudy.identity import run_identity
from genstudy.pages import html_view
from genstudy.runs import TRAINING_COLUMNS, run_rows
from genstudy.tables import ROW_KEYS, join_measures, read_measure_records, read_training, save_table
from helpers import fake_run, fake_run_keys, measure_record


def test_the_training_table_reader_checks_columns_and_types(tmp_path):
    from genstudy.runs import TRAINING_COLUMNS

    row = {c: 1 for c in TRAINING_COLUMNS} | {
        "hidden": "64",
        "label_mode": "correct",
        "protocol": "independent",
        "checkpoint": "acc1",
    }
    pd.DataFrame([row]).to_csv(tmp_path / "t.csv", index=False)
    t = read_training(tmp_path / "t.csv")
    assert (
        t.hidden.iloc[0] == "64" and t.protocol.iloc[0] == "independent" and list(t.columns) == list(TRAINING_COLUMNS)
    )
    pd.DataFrame([row]).drop(columns="seed").to_csv(tmp_path / "u.csv", index=False)
    with pytest.raises(FileContractError, match=r"u.csv: columns .* are not the training table's"):
        read_training(tmp_path / "u.csv")
    (tmp_path / "v.csv").write_text('a,b\n"1,2\n')
    with pytest.raises(FileContractError, match=r"v.csv: unreadable table"):
        read_training(tmp_path / "v.csv")


def test_html_view_shows_the_table_and_embeds_the_exact_csv():
    import base64

    t = pd.DataFrame({"a": [1.23456789, np.nan], "b": ["<x>", "y"]})
    page = html_view(t, "T & U", "t.csv")
    cells = re.findall(r"<td >(.*?)</td>", page)
    assert "<title>T &amp; U</title>" in page and cells == ["1.235", "&lt;x&gt;", "", "y"]
    assert re.findall(r"<th >(.*?)</th>", page) == ["a", "b"]  # no index column
    assert " id=" not in page.split("<table")[1] and "class=" not in page.split("<table")[1]  # no per-cell markup
    csv = page.split("data:text/csv;base64,")[1].split('"')[0]
    assert base64.b64decode(csv).decode() == t.to_csv(index=False)


def test_a_table_is_saved_as_its_csv_and_the_page_that_links_it(tmp_path):
    t = pd.DataFrame({"size": [128, 256], "tau": [0.5, np.nan]})
    save_table(t, tmp_path / "rank_correlation.csv", tmp_path / "pages" / "rank_correlation.html", "τ per scope")
    assert (tmp_path / "rank_correlation.csv").read_text() == "size,tau\n128,0.5\n256,\n"
    page = (tmp_path / "pages" / "rank_correlation.html").read_text()
    assert page == html_view(t, "τ per scope", "rank_correlation.csv")


def test_a_table_too_large_for_the_report_is_shown_from_its_first_rows_and_names_its_csv():
    # the report opens each page as a data: URL, which Chromium refuses beyond 2 MB (a blank frame)
    t = pd.DataFrame({"measure": [f"m{i}" for i in range(5000)], "value": np.linspace(0, 1, 5000)})
    assert "data:text/csv" in html_view(t, "T", "t.csv")  # fits: unchanged
    page = html_view(t, "T", "t.csv", page_bytes=60_000)
    assert len(page.encode()) <= 60_000 and "data:text/csv" not in page and "<code>tables/t.csv</code>" in page
    shown = page.count("<tr>") - 1  # body rows: every row but the header's
    assert 100 < shown < 5000 and f"the first {shown} of 5000 rows" in page
    assert "<td >m0</td>" in page and f"<td >m{shown - 1}</td>" in page and f"<td >m{shown}</td>" not in page


def test_the_measures_table_joins_records_adds_baselines_and_adjusted_forms(tmp_path):
    rows, paths = [], []
    for mode, size in (("correct", 32), ("random", 64)):
        run_dir, *_ = fake_run(tmp_path, mode, size)
        rows += run_rows(run_dir, 6, 3)
        for ckpt in ("acc1", "ce001", "loss0"):
            run = fake_run_keys(mode, size)
            path = tmp_path / f"{mode}-{size}-{ckpt}.json"
            save_json(
                path, measure_record(run, ckpt, hessian_trace=float(size), l2_margin=-1.0 if mode == "random" else 16.0)
            )
            paths.append(path)
    training = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
    table = join_measures(training, read_measure_records(paths))
    assert list(table.columns[: len(TRAINING_COLUMNS)]) == list(TRAINING_COLUMNS) and len(table) == 6
    assert list(table.label_mode) == ["correct"] * 3 + ["random"] * 3  # training.csv's order
    assert (table.baseline_label_noise == [0, 0, 0, 1, 1, 1]).all() and np.allclose(
        table.baseline_inverse_m, 1 / table["size"]
    )
    assert (table.baseline_updates == table.updates).all()
    assert np.allclose(table.hessian_trace_adj, np.sqrt(table.hessian_trace / table["size"]))
    assert table.l2_margin_adj.iloc[0] == pytest.approx(0.5 * (math.log(16.0) - math.log(32)))
    assert table.l2_margin_adj.iloc[3:].isna().all()  # a log-measure of a negative value is undefined
    assert "hessian_eig_2_adj" not in table and "margin_adj" not in table and table.hessian_eig_2.isna().all()
    assert table.sharpness_adj.iloc[0] == 0.0
    page = html_view(table, "Complexity measures", "measures.csv")
    assert page.count("<tr") == 7 and "Download measures.csv" in page and "data:text/csv;base64," in page
    with pytest.raises(FileContractError, match=r"no measures for rows"):
        join_measures(pd.concat([training, training.assign(seed=1)]), read_measure_records(paths))


def test_a_measures_record_with_an_undeclared_key_is_refused(tmp_path):
    run = {
        "label_mode": "correct",
        "hidden": [4],
        "learning_rate": 0.001,
        "batch_size": 16,
        "protocol": "independent",
        "size": 32,
        "seed": 0,
    }
    save_json(tmp_path / "m.json", measure_record(run, "acc1", made_up=1.0))
    with pytest.raises(FileContractError, match=r"m.json: .*\[.made_up.\] are declared by no entry"):
        read_measure_records([tmp_path / "m.json"])
    save_json(tmp_path / "n.json", {"run": {"label_mode": "correct"}, "checkpoint": "acc1", "measures": {}})
    with pytest.raises(FileContractError, match=r"n.json: not a measures record"):
        read_measure_records([tmp_path / "n.json"])
    assert ROW_KEYS[-1] == "checkpoint"


def test_duplicate_or_incomplete_measure_records_are_refused(tmp_path):
    run_dir, *_ = fake_run(tmp_path)
    training = pd.DataFrame(run_rows(run_dir, 6, 3), columns=TRAINING_COLUMNS)
    run = json.loads((run_dir / "summary.json").read_text())["run"]
    paths = []
    for ckpt in ("acc1", "ce001", "loss0"):
        save_json(tmp_path / f"{ckpt}.json", measure_record(run, ckpt))
        paths.append(tmp_path / f"{ckpt}.json")
    records = read_measure_records(paths)
    assert len(join_measures(training, records)) == 3
    expected = [{**run_identity("t", run), "checkpoint": c} for c in ("acc1", "ce001", "loss0")]
    assert len(read_measure_records(paths, expected)) == 3
    with pytest.raises(FileContractError, match=r"acc1.json: holds .*\"study\": \"t\".*is read as .*\"study\": \"u\""):
        read_measure_records(paths, [{**e, "study": "u"} for e in expected])  # another study's record
    with pytest.raises(FileContractError, match=r"acc1.json: holds .*\"checkpoint\": \"acc1\".*is read as .*\"ce001\""):
        read_measure_records(paths, expected[1:] + expected[:1])
    with pytest.raises(pd.errors.MergeError):  # two records of one checkpoint: which is right is unknowable
        join_measures(training, pd.concat([records, records.iloc[:1]], ignore_index=True))
    save_json(tmp_path / "bad.json", {"run": run, "checkpoint": "acc1"})
    with pytest.raises(FileContractError, match=r"bad.json: missing keys \['measures'\]"):
        read_measure_records([tmp_path / "bad.json"])


def test_an_undefined_adjusted_value_is_nan():
    from genstudy.tables import adjusted_value

    assert math.isnan(adjusted_value(-1.0, 4, "log")) and math.isnan(adjusted_value(float("nan"), 4, "sqrt"))
    assert adjusted_value(16.0, 4, "sqrt") == 2.0


def test_the_html_view_is_a_borderless_table_with_escaped_cells():
    page = html_view(pd.DataFrame({"a": ["<b>"], "n": [3]}), "T", "t.csv")
    table = page.split("<table")[1]
    assert "border" not in table and "&lt;b&gt;" in table and "<b>" not in table
    assert "<td >3</td>" in table  # integers as they are, not as floats
