import math
from fractions import Fraction

import numpy as np
import pytest

from genstudy.config import (
    dataset_shape,
)
from genstudy.data import (
    check_labels,
    load_dataset,
    make_labels,
    nested_subsets,
    prepare_pool_and_test,
    scale_images,
    stratified_split,
    subset_order,
)
from genstudy.data import subset as draw_subset
from genstudy.datasets import DatasetError
from genstudy.labels import parse_label_mode


def test_mnist5k_split_is_stratified_disjoint_and_scaled(mnist5k_pool):
    x_pool, y_pool, x_test, y_test = mnist5k_pool
    assert x_pool.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert x_pool.dtype == np.float32 and x_pool.min() >= 0.0 and x_pool.max() <= 1.0 and x_pool.max() > 0.9
    assert np.bincount(y_test, minlength=10).tolist() == [100] * 10
    # disjoint: no test image appears in the pool
    pool_rows = {row.tobytes() for row in x_pool}
    assert not any(row.tobytes() in pool_rows for row in x_test)


def test_split_is_deterministic_and_seeded():
    y = np.repeat(np.arange(10), 50)
    a = stratified_split(y, 100, 0)
    b = stratified_split(y, 100, 0)
    c = stratified_split(y, 100, 1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    assert len(np.intersect1d(a[0], a[1])) == 0 and len(a[0]) + len(a[1]) == 500


def test_label_modes_over_the_pool(mnist5k_pool):
    _, y, _, _ = mnist5k_pool
    assert np.array_equal(make_labels(y, "correct", 0, 10), y)
    rnd = make_labels(y, "random", 0, 10)
    assert abs((rnd == y).mean() - 0.10) < 0.02
    assert np.all(np.bincount(rnd, minlength=10) > 300)  # uniform, no lean towards one class
    wrong = make_labels(y, "wrong", 0, 10)
    assert (wrong == y).mean() == 0.0
    assert np.all(np.bincount(wrong, minlength=10) > 300)
    for pct in (20, 50):
        c = make_labels(y, f"corrupt{pct}", 0, 10)
        # replaced with prob p by a uniform class (which keeps the truth 1/10 of the time)
        expected_disagree = pct / 100 * 0.9
        assert abs((c != y).mean() - expected_disagree) < 0.03
    assert not np.array_equal(make_labels(y, "random", 0, 10), make_labels(y, "random", 1, 10))
    assert np.array_equal(make_labels(y, "random", 3, 10), make_labels(y, "random", 3, 10))


@pytest.mark.parametrize("mode", ["corrupt", "noisy", "corrupt101", "Random"])
def test_unknown_label_modes_are_rejected(mode):
    with pytest.raises(ValueError, match="label mode"):
        parse_label_mode(mode)


def test_subsets_are_nested_without_replacement_and_shared_across_label_modes(mnist5k_pool):
    x, y, _, _ = mnist5k_pool
    sizes = [128, 256, 512, 1024]
    correct = dict(nested_subsets(x, y, "correct", 0, sizes, 10))
    rnd = dict(nested_subsets(x, y, "random", 0, sizes, 10))
    for a, b in zip(sizes[:-1], sizes[1:]):
        assert np.array_equal(correct[b]["index"][:a], correct[a]["index"])
        assert np.array_equal(rnd[b]["y"][:a], rnd[a]["y"])  # labels fixed over the pool
    big = correct[1024]
    assert len(np.unique(big["index"])) == 1024
    assert np.array_equal(big["x"], x[big["index"]]) and np.array_equal(big["y_true"], y[big["index"]])
    for n in sizes:
        assert np.array_equal(correct[n]["x"], rnd[n]["x"])
        assert np.array_equal(rnd[n]["y_true"], correct[n]["y"])
    assert not np.array_equal(subset_order(4000, 0), subset_order(4000, 1))


def test_npz_dataset_path_layout_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "digits.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
        y_train=np.arange(300) % 10,
        x_test=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        y_test=np.arange(50) % 10,
    )
    x_pool, y_pool, x_test, y_test, _ = prepare_pool_and_test(str(path), 20, 0)
    assert x_pool.shape == (300, 784) and x_test.shape == (20, 784)
    assert x_pool.dtype == np.float32 and x_pool.max() <= 1.0
    assert np.bincount(y_test).tolist() == [2] * 10
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((10, 5)), y_train=np.zeros(10), x_test=np.zeros((2, 784)), y_test=np.zeros(2))
    with pytest.raises(DatasetError, match=r"y_train.*labels of shape \(10,\)|x_test.*shape \(N, 5\)"):
        prepare_pool_and_test(str(bad), 1, 0)
    with pytest.raises(DatasetError, match="not found"):
        prepare_pool_and_test(str(tmp_path / "missing.npz"), 10, 0)
    np.savez(bad, x_train=np.zeros((10, 784)))
    with pytest.raises(DatasetError, match="missing arrays"):
        prepare_pool_and_test(str(bad), 1, 0)


def test_keras_mnist_cache_is_read_without_download(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    (tmp_path / "datasets").mkdir()
    np.savez(
        tmp_path / "datasets" / "mnist.npz",
        x_train=rng.integers(0, 256, (200, 28, 28), dtype=np.uint8),
        y_train=np.arange(200) % 10,
        x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        y_test=np.arange(100) % 10,
    )
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    x_pool, _, x_test, _, _ = prepare_pool_and_test("mnist", 30, 0)
    assert x_pool.shape == (200, 784) and x_test.shape == (30, 784)


def test_scale_rejects_wrong_shapes():
    with pytest.raises(DatasetError, match=r"expected images of shape \(N, 28, 28\) or \(N, 784\)"):
        scale_images(np.zeros((3, 10)), "images", image_shape=(28, 28))
    with pytest.raises(DatasetError, match="expected a non-empty array of images"):
        scale_images(np.zeros((3, 2, 2, 2, 2)), "images")


def test_pixels_are_scaled_exactly_at_every_boundary():
    u8 = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(scale_images(u8, "s"), (u8 / 255.0).astype(np.float32))
    unit = np.array([[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(scale_images(unit, "s"), unit.astype(np.float32))  # already in [0, 1]: kept
    np.testing.assert_array_equal(scale_images(np.array([[0.0, 2.0]]), "s"), np.float32([[0.0, 2.0 / 255]]))
    # floats above 1 with fractions have no scale to infer: refused, not divided by 255
    with pytest.raises(DatasetError, match=r"s: pixel values in \[0, 1.5\] with fractions: neither in \[0, 1\]"):
        scale_images(np.array([[0.0, 1.5]]), "s")
    assert scale_images(np.full((1, 2), 255.0), "s").max() == 1.0
    with pytest.raises(DatasetError, match=r"s: pixel values above 255 \(max 256.0\)"):
        scale_images(np.full((1, 2), 256.0), "s")
    assert scale_images(np.ones((1, 3, 2, 2), bool), "s").shape == (1, 12)  # one image, colour, booleans
    assert scale_images(np.ones((2, 5, 5), np.int16), "s", (5, 5)).dtype == np.float32
    assert scale_images(np.ones((2, 25)), "s", (5, 5)).shape == (2, 25)
    for bad, why in [
        (np.zeros((0, 4)), "non-empty"),
        (np.array([["a", "b"]]), "numeric pixel values, got dtype <U1"),
        (np.array([[-1.0, 0.0]]), r"non-negative \(min -1.0\)"),
        (np.array([[np.inf]]), "finite"),
    ]:
        with pytest.raises(DatasetError, match=why):
            scale_images(bad, "s")


def test_labels_are_checked_at_every_boundary():
    np.testing.assert_array_equal(check_labels(np.array([[2], [0]]), 2, "y", 3), [2, 0])  # a column: flattened
    assert check_labels(np.array([1.0, 2.0]), 2, "y", 3).dtype == np.int64  # whole floats are labels
    assert check_labels(np.array([0, 2]), 2, "y", 3).tolist() == [0, 2]  # the largest class, K − 1
    for bad, n, k, why in [
        (np.array([[1, 2], [0, 1]]), 2, 3, r"y: expected labels of shape \(2,\)"),
        (np.array([0, 1, 2]), 2, 3, r"shape \(2,\) to match the images, got \(3,\)"),
        (np.array([0.5, 1.0]), 2, 3, "fractional or non-finite"),
        (np.array([np.nan, 1.0]), 2, 3, "fractional or non-finite"),
        (np.array([0, 3]), 2, 3, r"must lie in 0..2, found 0..3"),
        (np.array([-1, 0]), 2, None, r"must lie in non-negative, found -1..0"),
        (np.array(["0", "1"]), 2, 3, r"got dtype <U1"),
    ]:
        with pytest.raises(DatasetError, match=why):
            check_labels(bad, n, "y", k)
    assert check_labels(np.array([7, 0]), 2, "y", None).tolist() == [7, 0]  # no K given: any non-negative


def test_the_stratified_split_hands_out_the_remainder_to_the_largest_fractions():
    y = np.array([0] * 5 + [1] * 3 + [2] * 2)  # quotas for 4: 2.0, 1.2, 0.8 -> 2, 1, 1
    pool, test = stratified_split(y, 4, 0)
    assert np.bincount(y[test], minlength=3).tolist() == [2, 1, 1]
    assert sorted(np.concatenate([pool, test]).tolist()) == list(range(10)) and list(test) == sorted(test)
    assert pool.dtype.kind == "i" and len(pool) == 6
    y = np.array([0] * 6 + [1] * 3 + [2])  # quotas for 5: 3.0, 1.5, 0.5: the tie goes to the first class
    assert np.bincount(y[stratified_split(y, 5, 1)[1]], minlength=3).tolist() == [3, 2, 0]
    assert len(stratified_split(y, 1, 0)[1]) == 1 and len(stratified_split(y, 9, 0)[1]) == 9
    # many ties among the fractional parts, in an order that an unstable sort would shuffle
    counts = [2, 3, 4, 4, 1, 1, 4, 4, 1, 2, 4, 2]
    y12 = np.repeat(np.arange(12), counts)
    quota = [Fraction(10 * c, sum(counts)) for c in counts]
    extra = sorted(range(12), key=lambda k: (-(quota[k] - math.floor(quota[k])), k))[: 10 - sum(map(math.floor, quota))]
    expected = [math.floor(q) + (k in extra) for k, q in enumerate(quota)]
    assert np.bincount(y12[stratified_split(y12, 10, 0)[1]], minlength=12).tolist() == expected
    for bad in (0, 10):
        with pytest.raises(DatasetError, match=rf"test_size must be between 1 and 9, got {bad}"):
            stratified_split(y, bad, 0)


def test_a_subset_may_take_the_whole_pool_and_uses_the_dataset_s_classes():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10) % 3
    whole = draw_subset(x, y, "random", 0, 10, 3)
    assert sorted(whole["index"]) == list(range(10)) and whole["x"].dtype == np.float32
    assert set(whole["y"]) <= {0, 1, 2} and not np.array_equal(whole["y"], draw_subset(x, y, "random", 1, 10, 3)["y"])
    with pytest.raises(DatasetError, match=r"size 11 exceeds the training pool \(10 examples\)"):
        draw_subset(x, y, "random", 0, 11, 3)


def test_an_official_test_split_is_kept_whole_at_its_size(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (30, 4, 4)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3)
    *_, xt, yt, s = prepare_pool_and_test(str(tmp_path / "d.npz"), 12, 0)
    np.testing.assert_array_equal(yt, np.arange(12) % 3)  # all of it, in its order
    assert (s.n_classes, s.image_shape) == (3, (4, 4)) and len(
        prepare_pool_and_test(str(tmp_path / "d.npz"), 11, 0)[3]
    ) == 11
    np.savez(tmp_path / "e.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3 + 5)
    assert load_dataset(str(tmp_path / "e.npz")).n_classes == 8  # K from the largest label of either split
    np.savez(tmp_path / "f.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.full(12, -1))
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'f.npz'}: y_test: labels must lie in"):
        load_dataset(str(tmp_path / "f.npz"))


def test_mnist5k_declares_its_shape_and_classes():
    s = load_dataset("mnist5k")
    assert (s.n_classes, s.image_shape, s.x_train.shape, s.x_test) == (10, (28, 28), (5000, 784), None)


def test_a_user_dataset_names_the_split_with_bad_labels(tmp_path):
    x = np.ones((4, 2, 2), np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.array([0, -1, 1, 1]), x_test=x, y_test=np.arange(4))
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'd.npz'}: y_train: labels must lie in non-negative"):
        load_dataset(str(tmp_path / "d.npz"))


def test_a_dataset_without_examples_has_an_empty_pool(tmp_path):
    np.savez(
        tmp_path / "s.npz", x_train=np.array(5.0), y_train=np.array(1), x_test=np.zeros((1, 1)), y_test=np.zeros(1)
    )
    assert dataset_shape(str(tmp_path / "s.npz"), 10) == {"pool_size": 0, "n_features": 1, "n_classes": None}
