"""Deploying and rerunning it as Snakemake users do: code changes, --config, module import from
git, bare Snakemake 8 without numpy, pinned environments, resources, profiles."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genstudy.resources import job_resources
from helpers import ROOT, SNAKEMAKE, TINY_CONFIG, planned_jobs, run_snakemake, write_config

DEFAULT_CONFIG = ROOT / "config.yaml"
OLDEST_SNAKEMAKE = "8.4.12"  # workflow/Snakefile's min_version; the test below dry-runs with it


def copy_of_repository(dest: Path) -> Path:
    """The working tree's files (tracked and untracked, not ignored), copied to ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    return dest


MICRO = dict(study="micro", sizes=[32], label_modes=["correct"], train={"max_epochs": 60})


def test_a_checkout_run_with_another_checkout_s_package_is_refused_before_any_job(tmp_path):
    """Jobs import the installed genstudy; a checkout whose own package differs in code (not in
    docstrings) is refused, naming the modules and the two folders, unless its package comes first."""
    repo = copy_of_repository(tmp_path / "repo")
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(work, TINY_CONFIG, **MICRO)
    snakefile = ("-s", str(repo / "Snakefile"))
    module = repo / "workflow/scripts/genstudy/plotting.py"
    module.write_text(module.read_text().replace('"""', '"""Reworded. ', 1))
    assert planned_jobs(run_snakemake(work, *snakefile, "-n", configfile=config))  # docstrings only
    module.write_text(module.read_text() + "\nEDITED = 1\n")
    proc = run_snakemake(work, *snakefile, "-n", configfile=config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "modules plotting differ" in out, out[-2000:]
    assert str(repo / "workflow/scripts/genstudy") in out and "Traceback" not in out
    assert not (work / "results").exists()
    env = {**os.environ, "PYTHONPATH": str(repo / "workflow/scripts")}
    assert planned_jobs(run_snakemake(work, *snakefile, "-n", configfile=config, env=env))


@pytest.mark.slow
def test_editing_a_library_module_reruns_exactly_the_rules_that_import_it(tmp_path):
    repo = copy_of_repository(tmp_path / "repo")
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(work, TINY_CONFIG, **MICRO)
    snakefile = ("-s", str(repo / "Snakefile"))
    # the copy's package, as an editable install of the copy would give it, ahead of the one
    # installed from this checkout
    env = {**os.environ, "PYTHONPATH": str(repo / "workflow/scripts")}
    run_snakemake(work, *snakefile, "--cores", "2", configfile=config, env=env)

    def planned_after_appending_to(module, text="\nEDITED = 1\n"):
        with open(repo / "workflow/scripts/genstudy" / module, "a") as f:
            f.write(text)
        proc = run_snakemake(work, *snakefile, "-n", "--cores", "1", configfile=config, env=env)
        return set(planned_jobs(proc)) - {"all"}

    # a comment is not code: nothing reruns
    assert planned_after_appending_to("training.py", "\n# a comment, not code\n") == set()

    plots = {
        "plot_training_label_modes",
        "plot_training_checkpoints",
        "plot_measures",
        "plot_hessian_density",
        "plot_ranking",
        "plot_sign_error",
    }
    assert planned_after_appending_to("plotting.py") == plots
    # ranking.py is imported by the ranking, its intervals and the sign error; the findings read
    # their tables, and the plots are still pending
    ranked = {"ranking", "ranking_intervals", "robust_sign_error", "findings"}
    assert planned_after_appending_to("ranking.py") == plots | ranked
    upstream = planned_after_appending_to("training.py")
    assert {"train", "training_table", "measures_table", "measures"} <= upstream
    assert not upstream & {"prepare_data", "make_subset", "init_weights"}


def test_config_on_the_command_line_sets_lists_and_nested_keys(tmp_path):
    proc = run_snakemake(
        tmp_path,
        "-n",
        "--cores",
        "1",
        "--config",
        "sizes=[128,256]",
        "train={max_epochs: 500, learning_rate: [0.001, 0.002]}",
        "seeds=[0]",
        "study=cli",
        configfile=DEFAULT_CONFIG,
    )
    assert planned_jobs(proc)["train"] == 2 * 2 * 2  # label modes × learning rates × sizes (one seed)
    out = proc.stdout + proc.stderr
    assert "results/cli/train/correct/h64-64/lr0.002/bs128/independent/n256/seed0" in out
    assert "lr0.001" in out and "n384" not in out


@pytest.mark.slow
def test_module_from_a_local_git_repository_runs_and_keeps_its_local_rules(tmp_path):
    repo = copy_of_repository(tmp_path / "repo")
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=test"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"], ["tag", "v1"]):
        subprocess.run(git + cmd, cwd=repo, check=True)
    user = tmp_path / "user"
    user.mkdir()
    write_config(user, TINY_CONFIG, **MICRO)
    (user / "Snakefile").write_text(f"""configfile: "config.yaml"


module study:
    snakefile:
        gitfile("{repo}", "workflow/Snakefile", tag="v1")
    config:
        config


use rule * from study as study_*

print("LOCAL RULES:", sorted(workflow._localrules))
""")
    proc = subprocess.run([SNAKEMAKE, "--cores", "2"], cwd=user, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    local = set(re.search(r"LOCAL RULES: \[(.*)\]", proc.stdout).group(1).replace("'", "").split(", "))
    assert {"study_prepare_data", "study_training_table", "study_plot_ranking", "study_make_subset"} <= local
    assert not {"study_train", "study_measures"} & local  # those go to the cluster
    assert (user / "results/micro/figures/ranking.png").exists()
    assert (user / "results/micro/tables/measures.csv").exists()


SNAKEDEPLOY = "0.17.1"


@pytest.fixture(scope="module")
def snakedeploy(tmp_path_factory):
    """snakedeploy in a virtual environment of its own (it pins its own pandas), in a temporary
    directory: the test installs nothing into the project's .venv."""
    venv = tmp_path_factory.mktemp("snakedeploy") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"snakedeploy=={SNAKEDEPLOY}"], check=True, timeout=900
    )
    return venv / "bin" / "snakedeploy"


def test_snakedeploy_deploys_a_tagged_release_whose_copy_dry_runs_the_default_study(snakedeploy, tmp_path):
    """The catalog's route: ``snakedeploy deploy-workflow <repository> <dest> --tag v1``, then
    Snakemake in the deployment. The repository is a local git repository at a path that names
    GitHub, so snakedeploy takes its GitHub route (a clone at the tag, a module ``github(...)``);
    Snakemake's source cache holds the bare clone it would have made from GitHub, so the dry run
    resolves the module offline, from that tag."""
    origin = copy_of_repository(tmp_path / "github.com" / "genstudy" / "generalization")
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=test"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "release"], ["tag", "v1"]):
        subprocess.run(git + cmd, cwd=origin, check=True)
    dest = tmp_path / "deployment"
    deploy = [str(snakedeploy), "deploy-workflow", f"file://{origin}", str(dest), "--tag", "v1"]
    proc = subprocess.run(deploy, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    deployed = dest / "config" / "config.yaml"
    assert not deployed.is_symlink() and deployed.read_text() == (ROOT / "config.yaml").read_text()
    assert (dest / "config" / "presets" / "original.yaml").exists() and (dest / "profiles/local/config.yaml").exists()
    snakefile = (dest / "workflow" / "Snakefile").read_text()
    assert 'github("genstudy/generalization", path="workflow/Snakefile", tag="v1")' in snakefile
    cache = tmp_path / "cache"
    clone = cache / "snakemake/snakemake/source-cache/snakemake-git-cache/github.com/genstudy/generalization"
    subprocess.run(["git", "clone", "-q", "--bare", str(origin), str(clone)], check=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "1", "--workflow-profile", "profiles/local"],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = planned_jobs(proc)
    assert (jobs["train"], jobs["measures"], jobs["findings"]) == (48, 48, 1)  # the default study, per run
    assert "results/default/" in proc.stdout and not (dest / "results").exists()


@pytest.fixture(scope="module")
def oldest_snakemake(tmp_path_factory):
    """A virtual environment with only Snakemake (and what it needs: PyYAML, jsonschema), at the
    oldest release min_version allows, and genstudy without its dependencies, in a temporary
    directory: the test installs nothing into the project's .venv."""
    venv = tmp_path_factory.mktemp("oldest") / f"snakemake-{OLDEST_SNAKEMAKE}"
    exe = venv / "bin" / "snakemake"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # pulp 2.8 removed an API that Snakemake 8 calls
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", f"snakemake=={OLDEST_SNAKEMAKE}", "pulp<2.8"],
            check=True,
            timeout=900,
        )
        # the workflow's package, as a deployment installs it (built from a copy: a build writes
        # into its source tree); the modules that the Snakefile imports need only PyYAML
        source = copy_of_repository(tmp_path_factory.mktemp("source"))
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps", str(source)], check=True, timeout=900
        )
    return venv


def test_the_snakefile_parses_with_only_snakemake_and_the_oldest_release_dry_runs_the_study(oldest_snakemake, tmp_path):
    python = oldest_snakemake / "bin" / "python"
    for absent in ("numpy", "pandas", "tensorflow", "scipy", "matplotlib"):
        assert subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True).returncode != 0, absent
    version = (ROOT / "workflow/Snakefile").read_text()
    assert f'min_version("{OLDEST_SNAKEMAKE}")' in version
    proc = subprocess.run(
        [
            str(oldest_snakemake / "bin" / "snakemake"),
            "-s",
            str(ROOT / "Snakefile"),
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(DEFAULT_CONFIG),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = planned_jobs(proc)
    assert jobs["train"] == 48 and jobs["measures"] == 48 and jobs["make_subset"] == 48


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def test_environments_pin_what_requirements_pin():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    lock = pins((ROOT / "requirements.lock").read_text().splitlines())
    tools = pins((ROOT / "requirements-test.txt").read_text().splitlines())
    assert {k: lock.get(k) for k in requirements} == requirements  # the lock holds exactly these versions
    assert {k: lock.get(k) for k in tools} == tools
    assert "pytest" not in requirements  # test tools are not runtime requirements
    for env in (ROOT / "workflow/envs").glob("*.yaml"):
        deps = yaml.safe_load(env.read_text())["dependencies"]
        pip = pins(next((d["pip"] for d in deps if isinstance(d, dict)), []))
        conda = conda_pins(deps)
        assert all(requirements[k] == v for k, v in (pip | conda).items()), env.name
        assert set(conda) == {"numpy", "pandas", "scipy", "matplotlib", "pyyaml"}, env.name
        assert not set(pip) & set(conda), env.name
    assert "tensorflow" not in str(yaml.safe_load((ROOT / "workflow/envs/tables.yaml").read_text()))
    assert {"tensorflow-cpu", "keras", "mlxtend"} <= set(
        pins(yaml.safe_load((ROOT / "workflow/envs/study.yaml").read_text())["dependencies"][-1]["pip"])
    )


def conda_pins(dependencies):
    """PyPI name -> version of an environment file's conda-forge specs (``name=version``), conda-forge's
    names mapped back to PyPI's; python and pip, which the lock does not pin, left out."""
    sys.path.insert(0, str(ROOT / "tools"))
    from environment_yml import CONDA_FORGE_NAMES

    pypi = {v: k for k, v in CONDA_FORGE_NAMES.items()}
    out = {}
    for spec in dependencies:
        if isinstance(spec, str) and "=" in spec and not spec.startswith("python="):
            name, version = spec.split("=")
            out[pypi.get(name, name)] = version
    return out


def test_environment_yml_is_the_runtime_of_the_lock_and_environment_dev_yml_the_rest():
    """environment.yml pins the packages of requirements.lock that requirements.txt needs, as the
    installed packages declare (the scientific stack as conda-forge specs, the rest for pip), and
    installs genstudy; environment-dev.yml pins the rest of the lock. Together they are the lock, no
    more, no less: what conda installs is, version for version, what `make` installs."""
    sys.path.insert(0, str(ROOT / "tools"))
    from environment_yml import generate

    for name, text in generate().items():
        assert (ROOT / name).read_text() == text, f"{name}: run `make lock` or tools/environment_yml.py"
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    dev = yaml.safe_load((ROOT / "environment-dev.yml").read_text())
    assert "python=3.11" in env["dependencies"] and "pip" in env["dependencies"]
    env_pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = conda_pins(env["dependencies"])
    assert not set(conda) & set(pins(env_pip))
    assert {"numpy", "pandas", "scipy", "matplotlib", "pyyaml", "pillow"} <= set(conda)
    assert "tensorflow-cpu" not in conda and "snakemake" not in conda
    runtime = pins(env_pip) | conda
    tools = pins(next(d["pip"] for d in dev["dependencies"] if isinstance(d, dict)))
    lock = pins((ROOT / "requirements.lock").read_text().splitlines())
    assert runtime | tools == lock and not set(runtime) & set(tools)
    assert set(pins((ROOT / "requirements.txt").read_text().splitlines())) <= set(runtime)
    assert set(pins((ROOT / "requirements-test.txt").read_text().splitlines())) <= set(tools)
    for name in ("snakemake", "tensorflow-cpu", "numpy", "pandas", "matplotlib", "pyyaml", "scipy", "mlxtend"):
        assert name in runtime, name
    assert "--editable ." in env_pip
    assert "linux-64" in (ROOT / "environment.yml").read_text().split("name:")[0]


def test_the_runtime_is_what_the_requirements_need_transitively_under_their_markers():
    sys.path.insert(0, str(ROOT / "tools"))
    from environment_yml import runtime_closure

    graph = {
        "study": ["Numpy>=2", "plots; python_version >= '3'", "docs; extra == 'docs'", "old; python_version < '3'"],
        "numpy": [],
        "plots": ["pillow_simd", "numpy"],
        "pillow-simd": [],
        "docs": [],
        "old": [],
        "pytest": ["pluggy"],
        "pluggy": [],
    }
    assert runtime_closure(["study"], set(graph), graph.__getitem__) == {"study", "numpy", "plots", "pillow-simd"}
    assert runtime_closure(["study", "missing"], set(graph) - {"plots"}, graph.__getitem__) == {"study", "numpy"}


def test_resources_are_per_run_and_grow_with_n_the_network_and_the_attempt(tmp_path):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data = {"n_features": 784, "n_classes": 10}
    for rule in ("train", "measures"):
        base = job_resources(rule, 128, [64, 64], 1, config, data)
        assert job_resources(rule, 128, [64, 64], 2, config, data)["mem_mb"] > base["mem_mb"]
        assert job_resources(rule, 128, [64, 64], 2, config, data)["runtime"] == 2 * base["runtime"]
        assert job_resources(rule, 128, [512, 512], 1, config, data)["mem_mb"] > base["mem_mb"]
        big = job_resources(rule, 50000, [64, 64], 1, config, data)
        assert big["mem_mb"] > base["mem_mb"] and big["runtime"] > base["runtime"]
    # what the rules ask for is what these functions say, for each run's size
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=DEFAULT_CONFIG)
    for rule in ("train", "measures"):
        blocks = [b for b in re.split(r"\n\[", proc.stdout) if re.search(rf"^(local)?rule {rule}:", b, re.M)]
        for block in blocks:
            n = int(re.search(r"/n(\d+)/seed", block).group(1))
            expected = job_resources(rule, n, [64, 64], 1, config, data)
            assert f"mem_mb={expected['mem_mb']}," in block and f"runtime={expected['runtime']}" in block, block


def test_one_profile_per_purpose_and_nothing_loaded_behind_the_users_back():
    assert not (ROOT / "profiles/default").exists()  # would be loaded automatically beside --workflow-profile
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert "set-resources" not in slurm  # resources live in the rules
    assert "slurm_extra" not in str(slurm.get("default-resources", {}))
    assert "groups" not in slurm and "group-components" not in slurm  # one submission per run
    text = (ROOT / "profiles/slurm/config.yaml").read_text()
    assert "# slurm-qos:" in text  # the plugin's own QoS option, not slurm_extra


def test_github_workflow_has_the_template_s_jobs_the_fast_tests_and_its_test_config_plans_the_tiny_study(tmp_path):
    ci = yaml.safe_load((ROOT / ".github/workflows/main.yml").read_text())
    assert set(ci["jobs"]) == {"formatting", "linting", "test-fast", "run-workflow"}
    assert "make test-fast" in " ".join(s.get("run", "") for s in ci["jobs"]["test-fast"]["steps"])
    triggers = ci[True]  # YAML 1.1 reads the key "on" as True
    assert triggers["pull_request"] is None or "branches" not in triggers["pull_request"]  # no glob that misses "a/b"
    assert ci["concurrency"]["cancel-in-progress"] is True
    steps = " ".join(s.get("run", "") for s in ci["jobs"]["run-workflow"]["steps"])
    assert ".test/config/config.yaml" in steps and "--report" in steps
    assert "snakemake --lint" in " ".join(s.get("run", "") for s in ci["jobs"]["linting"]["steps"])
    jobs = planned_jobs(run_snakemake(tmp_path, "-n", "--cores", "1", configfile=ROOT / ".test/config/config.yaml"))
    assert jobs["train"] == 4 and jobs["findings"] == 1  # one per run: 2 label modes × 2 sizes
    # the CI entry point still calls the README's test command
    assert "make test" in (ROOT / ".ci/run").read_text() and "make test" in (ROOT / "README.md").read_text()[:600]
