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
