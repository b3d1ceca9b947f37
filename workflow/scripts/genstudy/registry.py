"""Every column of the measures table, declared once.

An entry says whether a column is a complexity measure (ranked against the test
error), a baseline (ranked exactly like a measure, so a measure that does not beat it
is seen not to) or a diagnostic (kept in the table, never ranked: standard errors,
iteration counts, γ itself, per-layer norms); its family; its orientation (+1: a
larger value should mean a larger test error); how its sample-size-adjusted form is
made; and the label figures use. Adding a measure is one entry here plus its
computation; a record key that matches no entry is an error, never a silently
dropped column.

Adjusted forms follow the reference code of Jiang et al. 2019 (arXiv 1912.02178):
a bound-like quantity C on m examples is compared as √(C/m); a log-measure (the
products of per-layer norms, which Jiang et al. compute as sums of logs) as
½(log C − log m). Both forms are monotone in C/m, so they rank alike; the log form
keeps products of norms readable. No numpy: the Snakefile imports this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Equation numbers are those of arXiv 1912.02178v1, as the reference code of Dziugaite et al. 2020
# lists them (nitarshan/robust-generalization-measures, data/generation/experiment_config.py,
# ComplexityType); a measure and its margin variant are different equations there.
JIANG = "Jiang et al. 2019 (arXiv 1912.02178v1)"
FAMILIES = ("norm", "margin-normalised", "curvature", "flatness", "sensitivity", "optimisation", "baseline")
ADJUSTED_SUFFIX = "_adj"


@dataclass(frozen=True)
class Column:
    name: str  # the column, or a pattern with {i} (a layer or an eigenvalue index)
    kind: str
    family: str
    label: str
    adjust: str = "sqrt"  # "sqrt": √(C/m); "log": ½(log C − log m); "": no adjusted form
    orientation: int = 1
    source: str = ""  # the paper and equation that define it

    @property
    def ranked(self) -> bool:
        return self.kind in ("complexity", "baseline")

    def matches(self, name: str) -> bool:
        return re.fullmatch(re.escape(self.name).replace(r"\{i\}", r"[1-9]\d*"), name) is not None


MEASURES = (
    # norms of the weights
    Column("l2_seed", "complexity", "norm", r"$4\prod_i\|W_i\|_F^2$ (the original's L2)", adjust="log"),
    Column("dist_init", "complexity", "norm", r"$\|w - w_0\|_2$ (distance to init.)"),
    # Jiang et al. 2019 (App. C), without the 4^d or h_i factors
    Column("n_params", "complexity", "norm", "number of parameters", source=f"{JIANG}, eq. 20"),
    Column("prod_of_spec", "complexity", "norm", r"$\prod_i\|W_i\|_2^2$", adjust="log", source=f"{JIANG}, eq. 32"),
    Column("sum_of_spec", "complexity", "norm", r"$d(\prod_i\|W_i\|_2^2)^{1/d}$", source=f"{JIANG}, eq. 35"),
    Column("fro_over_spec", "complexity", "norm", r"$\sum_i\|W_i\|_F^2/\|W_i\|_2^2$", source=f"{JIANG}, eq. 33"),
    Column("prod_of_fro", "complexity", "norm", r"$\prod_i\|W_i\|_F^2$", adjust="log", source=f"{JIANG}, eq. 37"),
    Column("sum_of_fro", "complexity", "norm", r"$d(\prod_i\|W_i\|_F^2)^{1/d}$", source=f"{JIANG}, eq. 39"),
    Column("fro_dist", "complexity", "norm", r"$\sum_i\|W_i-W_i^0\|_F^2$", source=f"{JIANG}, eq. 40"),
    Column("param_norm", "complexity", "norm", r"$\sum_i\|W_i\|_F^2$", source=f"{JIANG}, eq. 42"),
    Column("dist_spec_init", "complexity", "norm", r"$\sum_i\|W_i-W_i^0\|_2^2$", source=f"{JIANG}, eq. 41"),
    Column("path_norm", "complexity", "norm", r"path norm $\sum f_{w^2}(\mathbf{1})$", source=f"{JIANG}, eq. 44"),
    Column("fro_{i}", "diagnostic", "norm", r"$\|W_i\|_F$", adjust=""),
    Column("spec_{i}", "diagnostic", "norm", r"$\|W_i\|_2$", adjust=""),
    # norms over the margin γ (Neyshabur et al. 2017, arXiv 1706.08947)
    Column("inverse_margin", "complexity", "margin-normalised", r"$1/\gamma^2$", source=f"{JIANG}, eq. 22"),
    Column("l2_margin", "complexity", "margin-normalised", r"$\prod_i 4\|W_i\|_F^2\,/\,\gamma^2$", adjust="log"),
    Column("spec_margin", "complexity", "margin-normalised", r"$\prod_i h_i\|W_i\|_2^2\,/\,\gamma^2$", adjust="log"),
    Column("l1_path_margin", "complexity", "margin-normalised", r"$\ell_1$-path$^2/\gamma^2$"),
    Column("l2_path_margin", "complexity", "margin-normalised", r"$\ell_2$-path$/\gamma^2$"),
    # Bartlett et al. 2017 and Jiang et al. 2019 (App. C) over the margin
    Column(
        "spec_init",
        "complexity",
        "margin-normalised",
        r"$\prod_i\|W_i\|_2^2\sum_j\frac{\|W_j-W_j^0\|_F^2}{\|W_j\|_2^2}/\gamma^2$",
        adjust="log",
        source=f"Bartlett et al. 2017 as {JIANG}, eq. 29",
    ),
    Column(
        "spec_orig",
        "complexity",
        "margin-normalised",
        r"$\prod_i\|W_i\|_2^2\sum_j\frac{\|W_j\|_F^2}{\|W_j\|_2^2}/\gamma^2$",
        adjust="log",
        source=f"{JIANG}, eq. 30",
    ),
    Column(
        "prod_of_spec_margin",
        "complexity",
        "margin-normalised",
        r"$\prod_i\|W_i\|_2^2/\gamma^2$",
        adjust="log",
        source=f"{JIANG}, eq. 31",
    ),
    Column(
        "sum_of_spec_margin",
        "complexity",
        "margin-normalised",
        r"$d(\prod_i\|W_i\|_2^2/\gamma^2)^{1/d}$",
        source=f"{JIANG}, eq. 34",
    ),
    Column(
        "fro_over_spec_margin",
        "complexity",
        "margin-normalised",
        r"$\sum_i\|W_i\|_F^2/\|W_i\|_2^2/\gamma^2$",
        source=f"{JIANG}, eq. 33, over γ² (a variant they do not list)",
    ),
    Column(
        "prod_of_fro_margin",
        "complexity",
        "margin-normalised",
        r"$\prod_i\|W_i\|_F^2/\gamma^2$",
        adjust="log",
        source=f"{JIANG}, eq. 36",
    ),
    Column(
        "sum_of_fro_margin",
        "complexity",
        "margin-normalised",
        r"$d(\prod_i\|W_i\|_F^2/\gamma^2)^{1/d}$",
        source=f"{JIANG}, eq. 38",
    ),
    Column("margin", "diagnostic", "margin-normalised", r"$\gamma$ (margin percentile)", adjust=""),
    # curvature of the training loss
    Column("hessian_eig_1", "complexity", "curvature", r"$\lambda_{\max}$ of the Hessian"),
    Column("hessian_eig_{i}", "diagnostic", "curvature", r"$\lambda_i$ of the Hessian", adjust=""),
    Column("hessian_eig_steps", "diagnostic", "curvature", "Lanczos steps for the top eigenvalues", adjust=""),
    Column("hessian_trace", "complexity", "curvature", r"tr $H$ (exact)"),
    Column("hessian_trace_hutchinson", "diagnostic", "curvature", r"tr $H$ (Hutchinson)", adjust=""),
    Column("hessian_trace_hutchinson_se", "diagnostic", "curvature", "Hutchinson's standard error", adjust=""),
    Column("hessian_trace_hutchinson_vectors", "diagnostic", "curvature", "Hutchinson's vectors", adjust=""),
    # flatness (Keskar et al. 2017; Jiang et al. 2019)
    Column("sharpness", "complexity", "flatness", "sharpness (α-box)"),
    Column("sharpness_mag", "complexity", "flatness", "mag.-aware sharpness", source=f"{JIANG}, App. C"),
    Column("pacbayes_init", "complexity", "flatness", r"PAC-Bayes bound (init)", source=f"{JIANG}, eq. 48"),
    Column("pacbayes_orig", "complexity", "flatness", r"PAC-Bayes bound (orig)", source=f"{JIANG}, eq. 49"),
    Column(
        "pacbayes_mag_init",
        "complexity",
        "flatness",
        r"mag.-aware PAC-Bayes (init)",
        source=f"{JIANG}, eq. 56",
    ),
    Column(
        "pacbayes_mag_orig",
        "complexity",
        "flatness",
        r"mag.-aware PAC-Bayes (orig)",
        source=f"{JIANG}, eq. 57",
    ),
    Column("pacbayes_flatness", "complexity", "flatness", r"$1/\sigma^2$ (PAC-Bayes)", source=f"{JIANG}, eq. 53"),
    Column(
        "pacbayes_mag_flatness",
        "complexity",
        "flatness",
        r"$1/\sigma'^2$ (magnitude-aware)",
        source=f"{JIANG}, eq. 61",
    ),
    Column("pacbayes_sigma", "diagnostic", "flatness", r"$\sigma$ (PAC-Bayes)", adjust=""),
    Column("pacbayes_mag_sigma", "diagnostic", "flatness", r"$\sigma'$ (magnitude-aware)", adjust=""),
    # sensitivity of the output to the input (Novak et al. 2018, arXiv 1802.08760)
    Column("jacobian_fro", "complexity", "sensitivity", r"$\|\partial\,\mathrm{softmax}/\partial x\|_F$"),
    Column("output_entropy", "complexity", "sensitivity", "softmax output entropy", source=f"{JIANG}, App. C"),
    # optimisation (Jiang et al. 2019, App. C): from the run's history and the checkpoint's gradients
    Column(
        "steps_to_ce01",
        "complexity",
        "optimisation",
        "steps to train CE ≤ 0.1",
        source=f"{JIANG}, App. C, optimisation-based measures",
    ),
    Column(
        "steps_ce01_to_ce001",
        "complexity",
        "optimisation",
        "steps, train CE 0.1 → 0.01",
        source=f"{JIANG}, App. C, optimisation-based measures",
    ),
    Column(
        "gradient_noise",
        "complexity",
        "optimisation",
        "mini-batch gradient variance",
        source=f"{JIANG}, App. C, optimisation-based measures",
    ),
    # baselines: what a measure must beat
    Column("baseline_label_noise", "baseline", "baseline", "label noise (0 / NN% / 1)"),
    Column("baseline_inverse_m", "baseline", "baseline", r"$1/m$"),
    Column("baseline_updates", "baseline", "baseline", "optimiser updates"),
)


class RegistryError(KeyError):
    """A column that no entry of MEASURES declares."""


def entry(name: str) -> Column:
    """The entry of a column; for an adjusted column, the entry of its raw measure.

    The first entry that matches wins: ``hessian_eig_1`` is declared before the pattern
    ``hessian_eig_{i}``, so it is ranked and ``hessian_eig_2`` is not.
    """
    raw = name[: -len(ADJUSTED_SUFFIX)] if name.endswith(ADJUSTED_SUFFIX) else name
    found = [c for c in MEASURES if c.matches(raw)]
    if not found or (raw != name and not found[0].adjust):
        raise RegistryError(f"column {name!r} is declared by no entry of genstudy.registry.MEASURES")
    return found[0]


def check_record(keys) -> None:
    """Raise naming every key that no entry declares."""
    unknown = []
    for k in keys:
        try:
            entry(k)
        except RegistryError:
            unknown.append(k)
    if unknown:
        raise RegistryError(f"measure keys {unknown} are declared by no entry of genstudy.registry.MEASURES")


def columns(depth: int, top_k: int) -> list[str]:
    """The raw columns of a network of ``depth`` layers with ``top_k`` eigenvalues, in table order."""
    out = []
    for c in MEASURES:
        if "{i}" not in c.name:
            out.append(c.name)
            continue
        count = depth if c.name in ("fro_{i}", "spec_{i}") else top_k
        first = 2 if c.name.startswith("hessian_eig") else 1
        out += [c.name.replace("{i}", str(i)) for i in range(first, count + 1)]
    return out


def ranked(names) -> list[str]:
    """The names (raw or adjusted) that the ranking tables rank, in the given order."""
    return [n for n in names if entry(n).ranked]


def adjusted(value, m: int, how: str):
    """The sample-size-adjusted form of ``value`` on ``m`` examples; None where undefined
    (a missing value, or C ≤ 0 for a log-measure, C < 0 under the square root)."""
    if value is None or not math.isfinite(value):
        return None
    if how == "log":
        return 0.5 * (math.log(value) - math.log(m)) if value > 0 else None
    return math.sqrt(value / m) if value >= 0 else None
