import time

STARTED = time.perf_counter()

from genstudy.jobs import train_run
from genstudy.logs import log, redirect_output
from genstudy.runtime import configure_tensorflow
from genstudy.study import run_from_wildcards

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
train_run(
    run_from_wildcards(snakemake.wildcards),
    dict(snakemake.input.items()),
    dict(snakemake.output.items()),
    snakemake.params.state,
    snakemake.params.settings,
    snakemake.params.study,
    log=log,
    threads=snakemake.threads,
)
