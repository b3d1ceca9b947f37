"""The measures' registry (genstudy.registry): its columns and the adjusted forms."""

import math

import pytest

from genstudy.registry import adjusted, columns, entry


def test_registry_columns_and_adjusted_boundaries():
    assert columns(1, 1) == [c for c in columns(1, 1)]
    one = columns(2, 1)
    assert "fro_2" in one and "fro_3" not in one and "hessian_eig_1" in one and "hessian_eig_2" not in one
    three = columns(3, 5)
    assert {"spec_3", "fro_3", "hessian_eig_5"} <= set(three) and not {"spec_4", "hessian_eig_6"} & set(three)
    assert entry("hessian_eig_1").ranked and not entry("hessian_eig_2").ranked  # the exact entry wins
    assert adjusted(0.0, 4, "sqrt") == 0.0 and adjusted(float("inf"), 4, "sqrt") is None
    assert adjusted(1.0, 4, "log") == pytest.approx(-0.5 * math.log(4))


def test_a_measure_and_its_margin_variant_cite_different_equations_of_one_pinned_version():
    """Jiang et al.'s equation numbers as the reference code of Dziugaite et al. lists them
    (ComplexityType in nitarshan/robust-generalization-measures), of arXiv 1912.02178v1."""
    from genstudy.registry import MEASURES

    cited = {c.name: c.source for c in MEASURES if "eq." in c.source}
    assert all("arXiv 1912.02178v1" in s for s in cited.values() if "Jiang" in s)
    expected = {
        "n_params": 20, "inverse_margin": 22, "spec_init": 29, "spec_orig": 30,
        "prod_of_spec_margin": 31, "prod_of_spec": 32, "fro_over_spec": 33, "sum_of_spec_margin": 34,
        "sum_of_spec": 35, "prod_of_fro_margin": 36, "prod_of_fro": 37, "sum_of_fro_margin": 38,
        "sum_of_fro": 39, "fro_dist": 40, "dist_spec_init": 41, "param_norm": 42, "path_norm": 44,
        "pacbayes_init": 48, "pacbayes_orig": 49, "pacbayes_flatness": 53, "pacbayes_mag_init": 56,
        "pacbayes_mag_orig": 57, "pacbayes_mag_flatness": 61,
    }  # fmt: skip
    for name, number in expected.items():
        assert cited[name].endswith(f"eq. {number}"), (name, cited.get(name))
    variant = {
        n: n.removesuffix("_margin") for n in cited if n.endswith("_margin") and n.removesuffix("_margin") in cited
    }
    assert variant and all(cited[m] != cited[base] for m, base in variant.items())
