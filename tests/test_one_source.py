"""Extension points are tables, and every copy of a constant agrees with its one source."""

import re
import sys
from dataclasses import MISSING, fields

import pytest
import yaml

from genstudy.labels import LABEL_MODE_REGEX, LABEL_MODES, label_noise, parse_label_mode
from genstudy.measures import MeasureSettings
from genstudy.training import TrainSettings
from helpers import ROOT

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def test_schema_label_mode_pattern_is_built_from_the_table():
    pattern = SCHEMA["properties"]["label_modes"]["items"]["pattern"]
    assert pattern == f"^({LABEL_MODE_REGEX})$"
    for mode in LABEL_MODES:
        assert re.fullmatch(pattern[1:-1], mode.example) and parse_label_mode(mode.example)[0] is mode


@pytest.mark.parametrize(
    "name,valid",
    [
        ("correct", True),
        ("corrupt0", True),
        ("corrupt100", True),
        ("corrupt101", False),
        ("corrupt05", False),
        ("Random", False),
        ("wrong", True),
        ("corrupt", False),
    ],
)
def test_schema_pattern_and_parser_agree(name, valid):
    pattern = SCHEMA["properties"]["label_modes"]["items"]["pattern"]
    assert bool(re.fullmatch(pattern[1:-1], name)) == valid
    if valid:
        parse_label_mode(name)
    else:
        with pytest.raises(ValueError, match="unknown label mode"):
            parse_label_mode(name)


def test_an_unknown_label_mode_is_told_the_valid_ones():
    with pytest.raises(ValueError) as err:
        parse_label_mode("noisy")
    assert str(err.value) == ("unknown label mode 'noisy': use one of correct, random, wrong, corruptNN (NN = 0..100)")


def test_label_noise_of_every_mode():
    assert [label_noise(m) for m in ("correct", "corrupt0", "corrupt35", "corrupt100", "random", "wrong")] == [
        0.0,
        0.0,
        0.35,
        1.0,
        1.0,
        1.0,
    ]


def test_wildcard_constraint_uses_the_table():
    common = (ROOT / "workflow/rules/common.smk").read_text()
    assert "label_mode=LABEL_MODE_REGEX" in common
    assert not re.search(r"corrupt\\\\d|corrupt\(100", common)


def test_settings_defaults_live_in_the_schema_only():
    """No dataclass repeats a config default: the schema's are the ones a partial section gets."""
    schema = SCHEMA["properties"]["measures"]["properties"]
    assert {f.name for f in fields(MeasureSettings)} == set(schema)
    assert all(f.default is MISSING for f in fields(MeasureSettings))
    s = MeasureSettings.from_config({"top_k": 2})
    assert s.top_k == 2 and all(getattr(s, k) == v["default"] for k, v in schema.items() if k != "top_k")
    train = SCHEMA["properties"]["train"]["properties"]
    no_default = {f.name for f in fields(TrainSettings) if f.default is MISSING}
    assert no_default == {"learning_rate", "batch_size", "max_epochs", "target_loss", "chunk_epochs"}
    assert no_default <= set(train)
    t = TrainSettings.with_defaults(max_epochs=7)
    assert t.max_epochs == 7 and all(getattr(t, k) == train[k]["default"] for k in no_default - {"max_epochs"})


def test_checkpoint_names_have_one_source():
    from genstudy.contract import CHECKPOINTS

    literal = re.compile(r"""["']acc1["'],\s*["'](ce001|loss0)["']""")
    offenders = [
        p
        for p in (ROOT / "workflow").rglob("*")
        if p.suffix in (".py", ".smk") and p.is_file() and p.name != "contract.py" and literal.search(p.read_text())
    ]
    assert CHECKPOINTS == ("acc1", "ce001", "loss0") and not offenders, offenders


def test_every_config_key_is_described_and_config_readme_is_generated_from_the_schema():
    sys.path.insert(0, str(ROOT / "tools"))
    from config_readme import config_readme

    def undescribed(props, prefix=""):
        for key, spec in props.items():
            if "description" not in spec:
                yield prefix + key
            if spec.get("type") == "object":
                yield from undescribed(spec.get("properties", {}), f"{prefix}{key}.")

    assert list(undescribed(SCHEMA["properties"])) == []
    text = (ROOT / "config" / "README.md").read_text()
    assert text == config_readme(SCHEMA), "regenerate with: python tools/config_readme.py"
    assert "| `measures.sharpness_polish_iter` | integer | `10` |" in text


def test_readme_is_short_quotes_the_findings_file_and_links_what_exists():
    sys.path.insert(0, str(ROOT / "tools"))
    from readme_findings import END, START, findings_file, summary

    readme = (ROOT / "README.md").read_text()
    assert (
        len(readme.splitlines()) < 150
        and readme.splitlines()[3] == "make run     # set up (a .venv from requirements.lock) and run the default study"
    )
    block = readme.split(START)[1].split(END)[0].strip()
    assert block and block == summary(findings_file().read_text()).strip()
    assert f"({findings_file().relative_to(ROOT)})" in readme
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_performance_page_quotes_the_benchmark_file():
    import json

    sys.path.insert(0, str(ROOT / "tools"))
    from performance_tables import tables

    page = (ROOT / "docs/performance.md").read_text()
    quoted = page.split("<!-- speed:start -->\n")[1].split("<!-- speed:end -->")[0]
    assert quoted == tables(json.loads((ROOT / "results/benchmarks/speed.json").read_text()))


def test_performance_page_and_readme_quote_the_study_benchmark():
    import json

    sys.path.insert(0, str(ROOT / "tools"))
    from performance_tables import minutes, study_table

    study = json.loads((ROOT / "results/benchmarks/study.json").read_text())
    page = (ROOT / "docs/performance.md").read_text()
    assert page.split("<!-- study:start -->\n")[1].split("<!-- study:end -->")[0] == study_table(study)
    default = study["studies"]["default"]
    readme = (ROOT / "README.md").read_text()
    assert f"takes {minutes(default['wall_s'])} on {study['cores']} cores" in readme
    assert "results/benchmarks/study.json" in readme


def test_the_study_table_of_a_run_without_baseline_has_one_column_per_study():
    sys.path.insert(0, str(ROOT / "tools"))
    from performance_tables import study_table

    run = {
        "wall_s": 61.0,
        "report_s": 2.0,
        "job_s": 100.0,
        "rules": {"measures": {"jobs": 2, "job_s": 40.0}},
        "train": {
            "jobs": 2,
            "runs": 4,
            "compiled_runs": 2,
            "job_s": 50.0,
            "tensorflow_s": 5.0,
            "compile_s": 4.9,
            "reuse_s": 0.1,
            "first_chunk_s": 0.0,
            "startup_share": 0.2,
            "job_s_per_job": 25.0,
            "startup_s_per_job": 5.0,
        },
        "measures": {"jobs": 2, "job_s": 40.0, "tensorflow_s": 6.0, "startup_share": 0.15, "job_s_per_job": 20.0}
        | {"startup_s_per_job": 3.0},
        "measures_share": 0.4,
    }
    table = study_table({"cores": 2, "commit": "abcdef0123", "studies": {"tiny": run}})
    lines = table.splitlines()
    assert lines[0] == "| | tiny |" and "| wall time of the study | 1 min 01.0 s |" in lines
    assert "| start-up share of train job time | 20 % |" in lines and lines[-1] == "2 cores."
    assert "| train jobs (runs, of them compiled) | 2 (4, 2) |" in lines
    assert "| train job: time, of it start-up | 25.0 s, 5.0 s |" in lines
    assert "| start-up share of measures job time | 15 % |" in lines and "| measures jobs | 2 |" in lines


def test_the_readme_summary_quotes_reach_winners_sign_error_ties_and_the_margin_of_each_checkpoint():
    sys.path.insert(0, str(ROOT / "tools"))
    from readme_findings import summary

    findings = "\n".join(
        [
            "# Findings of the study `q`",
            "Generated from `results/q/tables/` by the `findings` rule; Commit `abc`.",
            "## At acc1",
            "20 of 20 runs reached acc1 without diverging.",
            "- Psi (raw): unresolved",
            "- Psi (adjusted): **winner `x`** +0.50 [+0.40, +0.60], ahead of every other column",
            "- tau (adjusted): unresolved — highest estimate `y`",
            "- tau (raw): 3 of 40 measures beat every baseline: `x`",
            "- 38 of 40 measures (95%) share the highest worst case, 1.00; a worst case is one environment",
            "- `x`: worst 0.20 (effective sample size 30.0), mean 0.10",
            "- margin γ at acc1: 1 to 2 over 20 runs (max/min 2.00)",
            "## How many seeds: half-widths ≤ 0.10",
            "| tau | acc1 | 40 | 10 | 12 | 30 | 0.08 |",
            "The margin's spread over the runs (max/min) by checkpoint: acc1 2.00.",
        ]
    )
    assert summary(findings).splitlines() == [
        "Generated from `results/q/tables/` by the `findings` rule; Commit `abc`.",
        "",
        "**acc1**",
        "",
        "- 20 of 20 runs reached acc1 without diverging.",
        "- Psi (adjusted): **winner `x`** +0.50 [+0.40, +0.60], ahead of every other column",
        "- tau (adjusted): unresolved — highest estimate `y`",
        "- robust sign error: 38 of 40 measures (95%) share the highest worst case, 1.00; a worst case is one "
        "environment",
        "- margin γ at acc1: 1 to 2 over 20 runs (max/min 2.00)",
        "",
        "The margin's spread over the runs (max/min) by checkpoint: acc1 2.00.",
    ]
