"""Write config/README.md from the config schema's descriptions and defaults (the schema is the
one place they are written; tests/test_one_source.py checks the page is up to date)."""

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def kind(spec: dict, defs: dict) -> str:
    if "$ref" in spec:
        return kind(defs[spec["$ref"].split("/")[-1]], defs)
    if "oneOf" in spec:
        return " or ".join(kind(s, defs) for s in spec["oneOf"])
    if "enum" in spec:
        return " \\| ".join(f"`{v}`" for v in spec["enum"])
    t = spec.get("type", "")
    t = " or ".join(t) if isinstance(t, list) else t
    if t == "array":
        return f"list of {kind(spec.get('items', {}), defs)}"
    return t


def rows(props: dict, defs: dict, prefix: str = ""):
    for key, spec in props.items():
        if spec.get("type") == "object" and "properties" in spec:
            yield f"| `{prefix}{key}` | section | | {spec.get('description', '')} |"
            yield from rows(spec["properties"], defs, f"{prefix}{key}.")
            continue
        default = json.dumps(spec["default"]) if "default" in spec else ""
        yield f"| `{prefix}{key}` | {kind(spec, defs)} | `{default}` | {spec.get('description', '')} |"


def config_readme(schema: dict) -> str:
    head = [
        "# Configuration",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` by `tools/config_readme.py`; edit the schema,",
        "not this page. `config.yaml` (the default study) sets every key; a config file of your own may set",
        "only some: the others take the defaults below. A file that names no `study` writes to",
        "`results/<its file name>/`. Run one with `make run CONFIG=path.yaml` (also `make report`,",
        "`make findings`, `make dryrun`), or `snakemake --cores all --configfile path.yaml`; single keys on",
        "the command line: `snakemake --cores all --config sizes=[128,256] 'train={max_epochs: 500}'`.",
        'The presets in `presets/` rerun published experiments (`docs/study.md`, "Presets").',
        "",
        "| key | type | default | what it is |",
        "|---|---|---|---|",
    ]
    return "\n".join(head + list(rows(schema["properties"], schema.get("$defs", {})))) + "\n"


if __name__ == "__main__":
    (ROOT / "config" / "README.md").write_text(config_readme(yaml.safe_load(SCHEMA.read_text())))
