"""Where a study reads and writes: its data folder and its results folder, for one scale and seed.

Each scale and seed has folders of its own under the kit's home (the repository root; `SSL_KIT_HOME` moves it):

    data/world/quick/         the quick world (seed 0)       results/quick/         what its notebooks wrote
    data/world/smoke/         the smoke world                results/smoke/
    data/world/quick-seed1/   the quick world of seed 1      results/quick-seed1/

so `make reproduce SCALE=smoke` and `make reproduce` leave each other's worlds and results alone, in either
order. `reproduce` and `python -m ssl_kit world` remember the study they ran last (`data/world/latest.json`);
a notebook opened as committed (its `scale`, `seed`, `world_dir` and `results_dir` all None) runs there: on the
world that is there, at that world's scale.

A data folder that is given decides the scale and seed that are not (a world's manifests record them); a given
scale or seed that disagrees with the world is an error worded in the caller's own parameters (a notebook's
`scale=...`, the command line's `--scale`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import SCALES
from ssl_kit.study.data_folder import is_world
from ssl_kit.world.info import world_info

HOME_ENV = "SSL_KIT_HOME"
WORLDS = Path("data") / "world"  # under the home: one folder per scale and seed
RESULTS = Path("results")
LATEST = "latest.json"  # in WORLDS: the study `reproduce` or `world` ran last
DEFAULT_SCALE = "quick"


def home() -> Path:
    """The folder the default data and results folders live in: `$SSL_KIT_HOME`, else the repository root."""
    env = os.environ.get(HOME_ENV)
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


def study_name(scale: str, seed: int) -> str:
    """`quick`, `smoke`, ... for seed 0; `quick-seed1` for another seed: the name of its folders."""
    return scale if seed == 0 else f"{scale}-seed{seed}"


def default_world(scale: str, seed: int = 0) -> Path:
    return home() / WORLDS / study_name(scale, seed)


def default_results(scale: str, seed: int = 0) -> Path:
    return home() / RESULTS / study_name(scale, seed)


@dataclass(frozen=True)
class Spelling:
    """How a caller names its parameters, so that an error says what to change in its own words."""

    scale: str
    seed: str
    world: str
    flag: bool  # command-line flags (`--scale smoke`) rather than notebook parameters (`scale="smoke"`)

    def given(self, name: str, value) -> str:
        return f"{name} {value}" if self.flag else f"{name}={value!r}"

    def unset(self, name: str) -> str:
        return f"leave out {name}" if self.flag else f"set {name}=None"


NOTEBOOK = Spelling("scale", "seed", "world_dir", flag=False)
CLI = Spelling("--scale", "--seed", "--world", flag=True)


@dataclass(frozen=True)
class Place:
    """One study's folders: `world` (a world, or real datasets) and `results`, at `scale` with `seed`; `how`
    says in words how they were chosen."""

    scale: str
    seed: int
    world: Path
    results: Path
    how: str

    def describe(self) -> str:
        return f"{self.scale} scale, seed {self.seed}: data in {self.world}, results in {self.results} ({self.how})"


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(home()))
    except ValueError:
        return str(path)


def remember(place: Place) -> Path:
    """Write `data/world/latest.json`: the study a notebook opened as committed runs on next."""
    path = home() / WORLDS / LATEST
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = {
        "scale": place.scale,
        "seed": place.seed,
        "world": _relative(place.world),
        "results": _relative(place.results),
    }
    atomic_write_text(path, json.dumps(fields, indent=1) + "\n")
    return path


def latest() -> Place | None:
    """The study `reproduce` or `world` ran last, if its data folder is still there (else None)."""
    path = home() / WORLDS / LATEST
    try:
        fields = json.loads(path.read_text())
        world, results = home() / fields["world"], home() / fields["results"]
        scale, seed = str(fields["scale"]), int(fields["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if scale not in SCALES or not world.is_dir():
        return None
    how = f"the study last run or built here, from {_relative(path)}"
    return Place(scale, seed, world.resolve(), results.resolve(), how)


def _check_scale(scale: str | None, spell: Spelling) -> None:
    if scale is not None and scale not in SCALES:
        raise ConfigError(
            f"{spell.given(spell.scale, scale)}: expected one of {', '.join(map(repr, SCALES))}"
        )


def _from_world(world: Path, scale, seed, spell: Spelling) -> tuple[str, int]:
    """The scale and seed of a given data folder: the world's own (a given one must agree), the given ones for
    real datasets (the folder records no scale) or for a folder with no world built yet."""
    shown = spell.given(spell.world, _relative(world))
    if not is_world(world):
        if scale is None:
            raise ConfigError(
                f"{shown} holds real datasets, and a real-data folder records no scale: "
                f"{spell.given(spell.scale, 'smoke')} checks the pipeline on it in minutes, then "
                f"{spell.given(spell.scale, 'paper')} runs the study (on a GPU)"
            )
        return scale, 0 if seed is None else seed
    info = world_info(world)
    if info is None:  # nothing built yet: it will be built at the asked (or default) scale
        return scale or DEFAULT_SCALE, 0 if seed is None else seed
    for name, asked, there in ((spell.scale, scale, info.preset), (spell.seed, seed, info.seed)):
        if asked is not None and asked != there:
            other = study_name(scale or info.preset, info.seed if seed is None else seed)
            raise ConfigError(
                f"{shown} holds {info.describe()}, and {spell.given(name, asked)} asks for another: "
                f"{spell.unset(name)} to run on this world, or {spell.unset(spell.world)} for the kit's own "
                f"folder of that world ({_relative(home() / WORLDS / other)}, built when missing)"
            )
    return info.preset, info.seed


def _container(world, base: Path) -> bool:
    """Whether `world` names the folder of the kit's worlds (`data/world`) rather than one world in it."""
    path = (base / Path(world).expanduser()).resolve()
    return path == (home() / WORLDS).resolve() and world_info(path) is None


def resolve_place(
    scale: str | None = None,
    seed: int | None = None,
    world: str | Path | None = None,
    results: str | Path | None = None,
    spell: Spelling = NOTEBOOK,
    base: Path | None = None,
) -> Place:
    """The study's folders from what a caller gave (None: not given); relative paths are taken from `base`
    (default: the kit's home). See the module docstring for the rules."""
    _check_scale(scale, spell)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"{spell.given(spell.seed, seed)}: expected a whole number >= 0")
    base = base or home()
    if world is None:
        last = latest() if scale is None and seed is None else None
        if last is not None:
            found = Path(results).expanduser() if results is not None else None
            return Place(
                last.scale,
                last.seed,
                last.world,
                (base / found).resolve() if found else last.results,
                last.how,
            )
        scale, seed = scale or DEFAULT_SCALE, 0 if seed is None else seed
        world_path, how = default_world(scale, seed), "the kit's folder for this scale and seed"
    elif _container(world, base):  # `data/world` itself, as before each scale had its folder: not given
        return resolve_place(scale, seed, None, results, spell, base)
    else:
        world_path = (base / Path(world).expanduser()).resolve()
        scale, seed = _from_world(world_path, scale, seed, spell)
        how = "the data folder given"
    results_path = (base / Path(results).expanduser()).resolve() if results is not None else None
    return Place(scale, seed, world_path, results_path or default_results(scale, seed), how)
