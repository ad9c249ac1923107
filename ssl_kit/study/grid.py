"""A sweep's grid: which runs to train and how to score them, read from a YAML (or JSON) file and checked
before anything runs.

```yaml
name: augmentation_ablations   # the sweep's folder under the output folder
about: one line for `sweep --help`  # optional
scale: quick                   # smoke | quick | paper (a notebook or the CLI may override it)
seeds: [0, 1, 2]
data: [objects]                # axes, crossed: training sets ...
method: [mocov2]               # ... methods ...
policy: [mocov2, no_crop]      # ... augmentation policies ("default": the method's own at this scale)
variants:                      # optional: named TrainConfig overrides, crossed with the axes
  fti_long: {method: fti, delta_min: 8, delta_max: 23}
  long_run:                      # a variant may also hold, besides TrainConfig fields:
    steps: 7200
    max_seeds: 1                 #   only the first n of the grid's seeds (a costly cell, fewer seeds)
    scale_config: {smoke: {steps: 8}}  # more overrides at one scale only (over the variant's own)
config: {epochs: 16}           # TrainConfig fields for every cell
scale_config:                  # optional: more fields at one scale only (e.g. an equal step budget)
  quick: {steps: 600}
equal_size: false              # true: every image training set cut to the size of the smallest
evaluate:
  downstream: objects          # labelled train/val folders for kNN and the linear probe (or {train:, val:})
  linear: true
  protocols: all               # the paper's six, or a list of protocol names, or []
  top_k: [10, 25]
  random_init: true            # also score a random-init network for each seed
  cosine: false                # also the cosine measure of every protocol (rows with an empty K)
launcher:                      # optional: where the cells run by default (flags override; ssl_kit.study.launch)
  launcher: slurm
  partition: gpu
  cpus_per_cell: 8
  gpus_per_cell: 1
  mem_gb: 32
  time_min: 600
```

A variant's `max_seeds` counts from the front of the seeds the grid runs with (its own or the `seeds` a caller
gives), so `--seeds 5 6 7` runs such a variant with seed 5; the random-init baseline runs every seed.

Training sets are the study's `objects`, `scenes`, `scene_crops` and `videos` (the world's sets, or ImageNet-100,
COCO 2017 and TrackingNet when the sweep is given a real-data folder), or `folder:`, `coco:`, `coco_crops:`,
`video:` followed by a path (`ssl_kit.study.data_entry` parses them). Every entry is checked first, and an unknown
policy, method, set, field or protocol is an error naming the entry; a cell is then one normal run directory.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ssl_kit.augment import list_policies
from ssl_kit.common.names import PLAIN_NAME, quoted, safe_name
from ssl_kit.common.yaml_text import load_yaml, yaml_problem
from ssl_kit.errors import ConfigError
from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, PROTOCOLS
from ssl_kit.methods import METHODS
from ssl_kit.runs.config import SCALES, TrainConfig, check_values, resolve
from ssl_kit.study.launch.options import check_section

GRIDS = Path(__file__).resolve().parent / "grids"  # the study's own grids, by name
_TOP = {"name", "about", "scale", "seeds", "data", "method", "policy", "variants", "config", "scale_config",
        "equal_size", "evaluate", "launcher"}  # fmt: skip
_EVAL = {"downstream", "linear", "protocols", "top_k", "random_init", "cosine"}
_AXIS_FIELDS = {"data", "method", "policy", "seed", "out", "scale"}  # set by the grid itself, not by `config`
_VARIANT_KEYS = {"max_seeds", "scale_config"}  # what a variant may hold besides TrainConfig fields
DEFAULT_POLICY = "default"
CELL_PART_LEN = 40  # a longer part of a cell name (a path) is shortened (`safe_name`)


@dataclass(frozen=True)
class Cell:
    """One run of the sweep: a point of the grid and a seed."""

    name: str
    variant: str
    data: str
    method: str
    policy: str
    seed: int
    overrides: tuple[tuple[str, object], ...] = ()

    def labels(self) -> dict:
        return {
            "cell": self.name,
            "variant": self.variant,
            "data": self.data,
            "method": self.method,
            "policy": self.policy,
            "seed": self.seed,
        }


@dataclass
class Evaluation:
    downstream: str | dict | None = "objects"
    linear: bool = True
    protocols: list[str] = field(default_factory=list)
    top_k: tuple[int, ...] = (10, 25)
    random_init: bool = True
    cosine: bool = False


@dataclass
class Grid:
    name: str
    scale: str
    seeds: list[int]
    cells: list[Cell]
    config: dict
    equal_size: bool
    evaluate: Evaluation
    source: str = ""
    launcher: dict = field(default_factory=dict)  # where its cells run by default (`ssl_kit.study.launch`)


def grid_to_json(grid: Grid) -> str:
    """`grid` as JSON text (what a cell's task carries to the process that runs it, read back with
    `grid_from_json`: plain data, so nothing in a results folder is code)."""
    return json.dumps(dataclasses.asdict(grid))


def grid_from_json(text: str) -> Grid:
    """The grid `grid_to_json` wrote."""
    raw = json.loads(text)
    cells = [Cell(**{**c, "overrides": tuple((k, v) for k, v in c["overrides"])}) for c in raw.pop("cells")]
    evaluation = raw.pop("evaluate")
    evaluation["top_k"] = tuple(evaluation["top_k"])
    return Grid(**raw, cells=cells, evaluate=Evaluation(**evaluation))


def _as_list(value, what: str, where: str) -> list:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"{where}: `{what}` is empty")
    return items


def _whole(value, what: str, where: str, lowest: int) -> int:
    """`value` as a whole number >= `lowest` (a seed, a K), or a ConfigError naming the grid entry."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lowest:
        raise ConfigError(f"{where}: `{what}` must hold whole numbers >= {lowest}, not {quoted(value)}")
    return int(value)


def _check_config_fields(values: dict, where: str) -> None:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown TrainConfig field(s) {unknown}")


def _check_policy(name: str, where: str) -> None:
    if name != DEFAULT_POLICY and name not in list_policies():
        raise ConfigError(
            f"{where}: unknown augmentation policy {quoted(name)} (valid: {DEFAULT_POLICY}, {', '.join(list_policies())})"
        )


def _check_method(name: str, where: str) -> None:
    if name not in METHODS:
        raise ConfigError(f"{where}: unknown method {quoted(name)} (valid: {', '.join(METHODS)})")


def _check_scale_config(by_scale, where: str) -> dict:
    """`scale_config` (a scale -> TrainConfig fields), its fields checked; returns it as a dict."""
    by_scale = by_scale or {}
    if not isinstance(by_scale, dict) or set(by_scale) - set(SCALES):
        raise ConfigError(
            f"{where}: `scale_config` must map a scale ({', '.join(SCALES)}) to TrainConfig fields"
        )
    checked = {}
    for name, values in by_scale.items():
        if not isinstance(values or {}, dict):
            raise ConfigError(f"{where}: scale_config.{name}: expected a mapping of TrainConfig fields")
        _check_config_fields(values or {}, f"{where}: scale_config.{name}")
        checked[name] = check_values(values or {}, f"{where}: scale_config.{name}")
    return checked


def _variant(over, where: str, scale: str) -> tuple[dict, int | None]:
    """A variant's TrainConfig overrides at `scale` (its `scale_config` applied) and `max_seeds`, checked."""
    if not isinstance(over, dict):
        raise ConfigError(f"{where}: expected a mapping of TrainConfig fields")
    max_seeds = over.get("max_seeds")
    if max_seeds is not None and (
        isinstance(max_seeds, bool) or not isinstance(max_seeds, int) or max_seeds < 1
    ):
        raise ConfigError(
            f"{where}: `max_seeds` must be a positive whole number of seeds, not {quoted(max_seeds)}"
        )
    fields = {k: v for k, v in over.items() if k not in _VARIANT_KEYS}
    _check_config_fields(fields, where)
    fields = check_values(fields, where)
    fields.update(_check_scale_config(over.get("scale_config"), where).get(scale) or {})
    if "method" in fields:
        _check_method(fields["method"], where)
    if "policy" in fields:
        _check_policy(fields["policy"], where)
    bad = sorted(set(fields) & (_AXIS_FIELDS - {"method", "policy", "data"}))
    if bad:
        raise ConfigError(f"{where}: sets {bad}, which the grid itself sets")
    return fields, max_seeds


def _flag(raw: dict, key: str, default: bool, where: str) -> bool:
    """A true/false field, as YAML's (or JSON's) own booleans: a quoted "false" is a string, which Python would
    read as true, so it is an error, not a guess."""
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"{where}: `{key}` must be true or false (unquoted), not {quoted(value)}"
            + (" (a string)" if isinstance(value, str) else "")
        )
    return value


def _grid_name(raw: dict, where: str) -> str:
    name = raw["name"]
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"{where}: `name` must be a plain folder name (letters, digits, '.', '_', '-'; no '/' or '..'), "
            f"not {quoted(name)}: it names the sweep's folder under --out"
        )
    return name


def _evaluation(raw, where: str) -> Evaluation:
    raw = dict(raw or {})
    unknown = sorted(set(raw) - _EVAL)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown} in `evaluate` (valid: {sorted(_EVAL)})")
    protocols = raw.get("protocols", "all")
    protocols = list(PAPER_PROTOCOLS) if protocols == "all" else list(protocols or [])
    for p in protocols:
        if p not in PROTOCOLS and p != "synthetic_occlusion":
            raise ConfigError(
                f"{where}: unknown protocol {quoted(p)} in `evaluate.protocols` (valid: all, {', '.join(PROTOCOLS)})"
            )
    top_k = tuple(
        _whole(k, "evaluate.top_k", where, 1)
        for k in _as_list(raw.get("top_k", [10, 25]), "evaluate.top_k", where)
    )
    down = raw.get("downstream", "objects")
    if down is not None and not isinstance(down, str | dict):
        raise ConfigError(
            f"{where}: `evaluate.downstream` must be a name or {{train: ..., val: ...}}, not a {type(down).__name__}"
        )
    if isinstance(down, dict) and set(down) != {"train", "val"}:
        raise ConfigError(f"{where}: `evaluate.downstream` must be a name or {{train: ..., val: ...}}")
    return Evaluation(
        down,
        _flag(raw, "linear", True, f"{where}: evaluate"),
        protocols,
        top_k,
        _flag(raw, "random_init", True, f"{where}: evaluate"),
        _flag(raw, "cosine", False, f"{where}: evaluate"),
    )


def parse_grid(
    raw: dict, source: str = "grid", scale: str | None = None, seeds: list[int] | None = None
) -> Grid:
    """The grid described by `raw` (a loaded YAML mapping), every entry checked; `scale`/`seeds` override."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of grid fields, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _TOP)
    if unknown:
        raise ConfigError(f"{source}: unknown field(s) {unknown} (valid: {sorted(_TOP)})")
    if "name" not in raw:
        raise ConfigError(f"{source}: `name` is missing (it names the sweep's folder)")
    for key in ("config", "scale_config", "variants", "evaluate", "launcher"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise ConfigError(
                f"{source}: `{key}` must be a mapping (`field: value` lines), not a {type(raw[key]).__name__}"
            )
    grid_name = _grid_name(raw, source)
    equal_size = _flag(raw, "equal_size", False, source)
    scale = scale or raw.get("scale", "quick")
    if scale not in SCALES:
        raise ConfigError(f"{source}: unknown scale {quoted(scale)} (valid: {', '.join(SCALES)})")
    seeds = [
        _whole(s, "seeds", source, 0)
        for s in (seeds if seeds is not None else _as_list(raw.get("seeds", [0]), "seeds", source))
    ]
    if not seeds:
        raise ConfigError(
            f"{source}: no seeds to run (give at least one; a notebook's n_seeds must be 1 or more)"
        )
    config = dict(raw.get("config") or {})
    _check_config_fields(config, f"{source}: config")
    config = check_values(config, f"{source}: config")
    by_scale = _check_scale_config(raw.get("scale_config"), source)
    config.update(by_scale.get(scale) or {})
    clash = sorted(set(config) & _AXIS_FIELDS)
    if clash:
        raise ConfigError(
            f"{source}: config sets {clash}; give them as grid axes (data, method, policy, seeds)"
        )
    datas = [str(d) for d in _as_list(raw.get("data", ["objects"]), "data", source)]
    methods = [str(m) for m in _as_list(raw.get("method", ["mocov2"]), "method", source)]
    policies = [str(p) for p in _as_list(raw.get("policy", [DEFAULT_POLICY]), "policy", source)]
    variants = raw.get("variants") or {"": {}}
    if not isinstance(variants, dict):
        raise ConfigError(f"{source}: `variants` must map a name to TrainConfig overrides")
    for m in methods:
        _check_method(m, f"{source}: method entry")
    for p in policies:
        _check_policy(p, f"{source}: policy entry")
    variants = {
        name: _variant(over, f"{source}: variant {quoted(name)}", scale) for name, over in variants.items()
    }
    cells = []
    for (i, seed), (vname, (over, max_seeds)), data, method, policy in itertools.product(  # seed-major
        enumerate(seeds), variants.items(), datas, methods, policies
    ):
        if max_seeds is not None and i >= max_seeds:
            continue
        data, method, policy = over.get("data", data), over.get("method", method), over.get("policy", policy)
        rest = tuple(sorted((k, v) for k, v in over.items() if k not in ("data", "method", "policy")))
        parts = [vname] if vname else []
        parts += [v for v, axis in ((data, datas), (method, methods), (policy, policies)) if len(axis) > 1]
        # a long part (a path) keeps its end and a hash, so two paths never share a name
        name = "-".join(safe_name(p, max_len=CELL_PART_LEN) for p in parts or [method]) + f"-s{seed}"
        cells.append(Cell(name, vname or method, data, method, policy, seed, rest))
    names = [c.name for c in cells]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(
            f"{source}: two cells share the name(s) {dup[:3]}; give the variants distinct names"
        )
    evaluation = _evaluation(raw.get("evaluate"), source)
    launcher = check_section(raw.get("launcher"), source)
    grid = Grid(grid_name, scale, seeds, cells, config, equal_size, evaluation, source, launcher)
    for cell in cells:  # fields that must agree (delta_min <= delta_max, ...), with the method's recipe too
        try:
            resolve(cell_config(grid, cell, "data", "out", "cache"))
        except ConfigError as e:
            variant = f" (variant {cell.variant!r})" if cell.variant in variants else ""
            raise ConfigError(f"{source}: cell {cell.name}{variant}: {e}") from None
    return grid


def load_grid(path_or_name: str | Path, scale: str | None = None, seeds: list[int] | None = None) -> Grid:
    """A grid file (YAML or JSON), or the name of one of the study's grids in `ssl_kit/study/grids/`."""
    path = Path(path_or_name)
    if not path.is_file():
        named = GRIDS / f"{path_or_name}.yaml"
        if not named.is_file():
            known = ", ".join(sorted(p.stem for p in GRIDS.glob("*.yaml")))
            raise ConfigError(f"grid {str(path_or_name)!r}: no such file, nor a grid of the study ({known})")
        path = named
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (not UTF-8); a grid is YAML or JSON text") from None
    try:
        raw = json.loads(text, object_pairs_hook=_unique_json) if path.suffix == ".json" else load_yaml(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deep to read (a grid needs a few levels)") from None
    except yaml.YAMLError as e:  # one line: what is wrong and where, without the quoted source
        raise ConfigError(f"{path}: {yaml_problem(e)}") from None
    return parse_grid(raw, str(path), scale, seeds)


def _unique_json(pairs: list[tuple]) -> dict:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise json.JSONDecodeError(f"the key(s) {twice} given twice", "", 0)
    return dict(pairs)


def grid_summary(name: str) -> str:
    """The `about` line of the study's grid `name` ("" without one): what `sweep --help` lists."""
    try:
        raw = yaml.safe_load((GRIDS / f"{name}.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return ""
    return str(raw.get("about", "")) if isinstance(raw, dict) else ""


def cell_config(grid: Grid, cell: Cell, data: str, out: str | Path, region_cache: str | Path) -> TrainConfig:
    """The TrainConfig of `cell` (its training data already resolved to a folder)."""
    values = {**grid.config, **dict(cell.overrides)}
    values.setdefault("region_cache", str(region_cache))
    policy = None if cell.policy == DEFAULT_POLICY else cell.policy
    return TrainConfig(
        method=cell.method, data=data, out=str(out), scale=grid.scale, policy=policy, seed=cell.seed, **values
    )


def subset(grid: Grid, seeds: list[int] | None = None, **keep: list[str] | None) -> Grid:
    """The same grid with fewer cells: only `seeds`, and for `variant`, `policy`, `data` or `method` only the
    values given (None keeps all): a notebook's cheaper setting. An unknown value is an error naming it."""
    cells = grid.cells
    for axis, values in keep.items():
        if axis not in ("variant", "policy", "data", "method"):
            raise ConfigError(f"subset: unknown axis {quoted(axis)} (variant, policy, data or method)")
        if values is None:
            continue
        values = (
            [values] if isinstance(values, str) else list(values)
        )  # one name is a list of one, not letters
        known = {getattr(c, axis) for c in grid.cells}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{grid.source}: unknown {axis} value(s) {unknown} (the grid has {sorted(known)})"
            )
        cells = [c for c in cells if getattr(c, axis) in values]
    if seeds is not None:
        cells = [c for c in cells if c.seed in seeds]
    return dataclasses.replace(
        grid, cells=cells, seeds=[s for s in grid.seeds if seeds is None or s in seeds]
    )
