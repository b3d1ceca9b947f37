rule prepare_data:
    input:
        # a user's dataset file is an input: replacing it in place reruns what depends on it
        dataset_file(),
    output:
        pool=f"{R}/data/pool.npz",
        test=f"{R}/data/test.npz",
        info=f"{R}/data/dataset.json",
    log:
        f"{R}/logs/prepare_data.log",
    benchmark:
        f"{R}/benchmarks/prepare_data.tsv"
    localrule: True
    conda:
        ENV
    params:
        dataset=config["dataset"],
        test_size=config["test_size"],
        seed=config["data_seed"],
        # by content: a file replaced by an older one (cp -p) or moved in (mv) has a time that says nothing
        dataset_sha256=dataset_checksum(),
        code=code_version("prepare_data.py"),
    script:
        script_path("prepare_data.py")


# One job per size: adding a size draws only its subset, and the others stay untouched.
rule make_subset:
    input:
        pool=f"{R}/data/pool.npz",
        info=f"{R}/data/dataset.json",
    output:
        SUBSET,
    log:
        f"{R}/logs/make_subset/{{label_mode}}/seed{{seed}}/n{{size}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        study=STUDY,
        code=code_version("make_subset.py"),
    script:
        script_path("make_subset.py")


rule init_weights:
    input:
        info=f"{R}/data/dataset.json",
    output:
        INIT,
    log:
        f"{R}/logs/init_weights/h{{hidden}}/seed{{seed}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        code=code_version("init_weights.py"),
    script:
        script_path("init_weights.py")
