import numpy as np
import pytest

from genstudy.data import (
    make_labels,
    nested_subsets,
    prepare_pool_and_test,
    scale_images,
    stratified_split,
    subset_order,
)
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
