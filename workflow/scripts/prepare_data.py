from genstudy.arrays import save_json, save_npz
from genstudy.data import prepare_pool_and_test
from genstudy.logs import log, redirect_output

redirect_output(snakemake.log[0])
p = snakemake.params
x_pool, y_pool, x_test, y_test, splits = prepare_pool_and_test(p.dataset, int(p.test_size), int(p.seed))
log(f"{p.dataset}: pool {x_pool.shape}, test {x_test.shape}, {splits.n_classes} classes, images {splits.image_shape}")
save_npz(snakemake.output.pool, x=x_pool, y=y_pool)
save_npz(snakemake.output.test, x=x_test, y=y_test)
save_json(
    snakemake.output.info,
    {
        "dataset": p.dataset,
        "n_classes": splits.n_classes,
        "image_shape": list(splits.image_shape),
        "n_features": int(x_pool.shape[1]),
        "pool_size": len(y_pool),
        "test_size": len(y_test),
        "sha256": p.dataset_sha256,  # of the user's file; None for a named dataset
    },
)
