"""Extension points are tables, and every copy of a constant agrees with its one source."""

import re
from dataclasses import fields

import pytest
import yaml

from conftest import ROOT
from genstudy.labels import LABEL_MODE_REGEX, LABEL_MODES, label_noise, parse_label_mode
from genstudy.measures import MeasureSettings
from genstudy.training import TrainSettings

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


def test_measure_settings_defaults_are_the_schemas():
    schema = SCHEMA["properties"]["measures"]["properties"]
    assert {f.name for f in fields(MeasureSettings)} == set(schema)
    for f in fields(MeasureSettings):
        assert f.default == schema[f.name]["default"], f.name


def test_train_settings_defaults_are_the_schemas():
    schema = SCHEMA["properties"]["train"]["properties"]
    defaults = {f.name: f.default for f in fields(TrainSettings)}
    for key, spec in schema.items():
        if key in defaults:
            assert defaults[key] == spec["default"], key


def test_checkpoint_names_have_one_source():
    from genstudy.contract import CHECKPOINTS

    literal = re.compile(r"""["']acc1["'],\s*["'](ce001|loss0)["']""")
    offenders = [
        p
        for p in (ROOT / "workflow").rglob("*")
        if p.suffix in (".py", ".smk") and p.is_file() and p.name != "contract.py" and literal.search(p.read_text())
    ]
    assert CHECKPOINTS == ("acc1", "ce001", "loss0") and not offenders, offenders
