"""Every label mode's draw against its definition, by seeded goodness-of-fit tests that would
catch one class drawn twice as often (the original repository's lean towards class 9)."""

import numpy as np
import pytest
from scipy.stats import binomtest, chi2_contingency, chisquare

from genstudy.data import make_labels

K = 10
N = 20_000
Y_TRUE = np.random.default_rng(123).integers(0, K, N)  # a balanced stand-in for the pool's true labels
ALPHA = 1e-5  # a seeded draw from the right distribution passes; one class at twice its rate fails by far


def uniform_p(labels, classes=K):
    return chisquare(np.bincount(labels, minlength=classes)).pvalue


def twice_as_often(labels, cls=9, seed=0):
    """The draw as it would look with ``cls`` twice as likely: the alternative the tests must reject."""
    rng = np.random.default_rng(seed)
    out = labels.copy()
    redo = rng.random(len(out)) < 1 / (K + 1)  # moves mass so that P(cls) ≈ 2/(K+1) ≈ 2 × the others
    out[redo] = cls
    return out


def test_the_tests_have_the_power_to_see_a_class_drawn_twice_as_often():
    fair = np.random.default_rng(7).integers(0, K, N)
    assert uniform_p(fair) > ALPHA and uniform_p(twice_as_often(fair)) < 1e-12


def test_correct_labels_are_the_true_ones():
    assert np.array_equal(make_labels(Y_TRUE, "correct", 0, K), Y_TRUE)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_labels_are_uniform_and_independent_of_the_image(seed):
    y = make_labels(Y_TRUE, "random", seed, K)
    assert uniform_p(y) > ALPHA
    table = np.zeros((K, K))
    np.add.at(table, (Y_TRUE, y), 1)
    assert chi2_contingency(table).pvalue > ALPHA  # independent of the true class, hence of the image
    assert binomtest(int((y == Y_TRUE).sum()), N, 1 / K).pvalue > ALPHA


@pytest.mark.parametrize("seed", [0, 1])
def test_wrong_labels_are_uniform_over_the_other_classes(seed):
    y = make_labels(Y_TRUE, "wrong", seed, K)
    assert not np.any(y == Y_TRUE)
    for c in range(K):
        others = np.bincount(y[c == Y_TRUE], minlength=K)
        assert others[c] == 0 and chisquare(np.delete(others, c)).pvalue > ALPHA, c


@pytest.mark.parametrize("pct", [20, 50, 80])
def test_corrupted_labels_replace_the_stated_fraction_with_uniform_classes(pct):
    y = make_labels(Y_TRUE, f"corrupt{pct}", 3, K)
    p = pct / 100
    changed = y != Y_TRUE
    # replaced with probability p by a uniform class, which keeps the truth 1/K of the time
    assert binomtest(int(changed.sum()), N, p * (K - 1) / K).pvalue > ALPHA
    assert uniform_p(y[changed]) > ALPHA  # the replacements lean towards no class
    for c in range(K):
        away = np.bincount(y[changed & (c == Y_TRUE)], minlength=K)
        assert chisquare(np.delete(away, c)).pvalue > ALPHA, c
    assert np.array_equal(make_labels(Y_TRUE, "corrupt0", 3, K), Y_TRUE)
    assert uniform_p(make_labels(Y_TRUE, "corrupt100", 3, K)) > ALPHA


def test_labels_use_the_dataset_s_number_of_classes():
    y_true = np.random.default_rng(5).integers(0, 3, 3000)
    for mode in ("random", "wrong", "corrupt50"):
        y = make_labels(y_true, mode, 0, 3)
        assert set(np.unique(y)) == {0, 1, 2}
    assert chisquare(np.bincount(make_labels(y_true, "random", 0, 3))).pvalue > ALPHA


def test_labels_are_drawn_and_returned_as_integers():
    from genstudy.data import make_labels

    y = make_labels(np.array([1.0, 2.0, 0.0]), "correct", 0, 3)
    assert y.dtype == np.int64 and y.tolist() == [1, 2, 0]
