"""docs/what_if.md's measured part, rendered from kept what-if sweeps: why finding 1 goes the other way.

Every what-if sweep kept under `docs/reference/sweeps/` (`python -m ssl_kit report --keep-sweep
results/quick/sweeps/what_if-<network>-<factor>`) is read back as a `WhatIf` (`ssl_kit.study.what_if_sweep.from_rows`).
For each world factor kept, `render_finding1` writes one table: per level, the supervised network's and MoCo v2's
viewpoint and illumination invariance (top-25, mean over seeds, the change from the network's baseline paired by
seed ± its spread), and finding 1's viewpoint check at that level (supervised > MoCo v2, decided by the spread over
seeds as everywhere). Below the tables, the levels that turn the check the paper's way, or the factors ruled
out. `plot_finding1` draws the same as dose-response curves (`write_figure`: docs/figures/what_if_finding1.png).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ssl_kit.common.tidy import read_rows
from ssl_kit.findings.checks import HOLDS, RANDOM_INIT, Check
from ssl_kit.pages.kept_sweeps import KEPT
from ssl_kit.study.factors import FACTORS, WORLD
from ssl_kit.study.what_if_sweep import BASELINE, WhatIf, from_rows, level_label

PAGE = Path("docs") / "what_if.md"
FIGURE = Path("docs") / "figures" / "what_if_finding1.png"
WATCHED = (("viewpoint", "viewpoint"), ("illumination_direction", "illum. dir."),
           ("illumination_color", "illum. colour"))  # fmt: skip
NETWORKS = ("supervised", "mocov2")


def kept_what_ifs(root: Path) -> dict[tuple[str, str], WhatIf]:
    """(network, factor) -> the kept what-if sweep's answer."""
    out = {}
    for csv in sorted((root / KEPT).glob("what_if-*.csv")):
        answer = from_rows([r for r in read_rows(csv) if r.get("status") == "ok"])
        out[(answer.network, answer.factor.name)] = answer
    return out


def _row(answer: WhatIf, label: str, metric: str) -> dict | None:
    label = BASELINE if label == level_label(answer.factor, answer.baseline_level) else label
    return next(
        (
            r
            for r in answer.rows
            if r["level"] == label and r["metric"] == metric and r["measure"] == "top-25"
        ),
        None,
    )


def _cell(row: dict | None) -> str:
    if row is None:
        return "—"
    text = f"{row['mean']:.1f}"
    if row["change"] != "":
        spread = f" ± {row['change_sd']:.1f}" if row["seeds"] > 1 else ""
        text += f" ({row['change']:+.1f}{spread})"
    return text


def _check(sup: dict | None, moco: dict | None) -> Check | None:
    """Finding 1's viewpoint check at one level: supervised above MoCo v2, decided by the spread over seeds."""
    if sup is None or moco is None:
        return None
    seeds = min(sup["seeds"], moco["seeds"])
    spread = lambda r: r["sd"] if seeds > 1 else None  # noqa: E731 - one seed: no spread
    return Check("supervised > mocov2 on viewpoint", "supervised", "mocov2", "viewpoint", sup["mean"],
                 moco["mean"], spread(sup), spread(moco), seeds)  # fmt: skip


def _levels(answers: list[WhatIf]) -> list[str]:
    """Every level label of a factor's kept answers, the baseline's own level first, in the factor's order."""
    factor = answers[0].factor
    labels = [level_label(factor, a.baseline_level) for a in answers] + [
        lv for a in answers for lv in a.levels
    ]
    order = {level_label(factor, v): i for i, v in enumerate(factor.levels)}
    return sorted(dict.fromkeys(labels), key=lambda lv: order.get(lv, len(order)))


def render_finding1(root: Path) -> str:
    """The tables, the flips and what was ruled out (see the module doc); a line saying how to fill it when no
    world what-if sweep is kept."""
    kept = kept_what_ifs(root)
    factors = [f for f in FACTORS.values() if f.kind == WORLD and any((n, f.name) in kept for n in NETWORKS)]
    if not factors:
        return ("*No what-if sweep of a world factor is kept yet: run `python -m ssl_kit what-if --network "
                "supervised --factor views` (and the other world factors, for both networks), then `python -m "
                "ssl_kit report --keep-sweep results/quick/sweeps/what_if-supervised-views`.*")  # fmt: skip
    seeds = sorted({s for a in kept.values() for s in a.seeds})
    out = [f"*Kept what-if sweeps, network seeds {', '.join(map(str, seeds))}; top-25; in brackets the change from "
           "the network's own baseline, paired by seed, ± its spread; the check is decided by the larger spread "
           "over seeds of its two sides.*", "",
           "![viewpoint invariance against each world factor's level](figures/what_if_finding1.png)"]  # fmt: skip
    flips, moved = [], []
    for factor in factors:
        answers = [kept[(n, factor.name)] for n in NETWORKS if (n, factor.name) in kept]
        head = [f"{n} {short}" for short in ("viewpoint",) for n in NETWORKS]
        head += [f"supervised {short}" for _, short in WATCHED[1:]]
        out += [
            "",
            f"### {factor.name}: {factor.about}",
            "",
            f"*What the paper predicts:* {factor.predicts}.",
            "",
        ]
        out += [
            "| level | " + " | ".join(head) + " | viewpoint: supervised > MoCo v2 |",
            "|---" * (len(head) + 2) + "|",
        ]
        for label in _levels(answers):
            rows = {n: _row(kept[(n, factor.name)], label, "viewpoint") if (n, factor.name) in kept else None
                    for n in NETWORKS}  # fmt: skip
            sup = kept.get(("supervised", factor.name))
            extra = [_cell(_row(sup, label, m)) if sup else "—" for m, _ in WATCHED[1:]]
            check = _check(rows["supervised"], rows["mocov2"])
            outcome = check.outcome if check else "—"
            if check is not None and check.outcome == HOLDS:
                flips.append(label)
            sup_row = rows["supervised"]
            if (
                sup_row
                and sup_row["change"] != ""
                and sup_row["seeds"] > 1
                and abs(sup_row["change"]) > sup_row["change_sd"]
            ):
                moved.append(f"{label} ({sup_row['change']:+.1f} ± {sup_row['change_sd']:.1f})")
            out.append(
                f"| {label} | " + " | ".join([_cell(rows[n]) for n in NETWORKS] + extra) + f" | {outcome} |"
            )
    out += ["", "### What moves the supervised network's viewpoint invariance", ""]
    out.append(f"- Beyond the spread of its paired changes: {', '.join(moved) if moved else 'no level'}.")
    if flips:
        out.append(
            f"- Levels at which finding 1's viewpoint check holds (the paper's way): {', '.join(flips)}."
        )
    else:
        ruled = ", ".join(f.name for f in factors)
        out.append(f"- No level of {ruled} turns the viewpoint check the paper's way: each is ruled out as the "
                   "cause on its own, at the levels tried.")  # fmt: skip
    return "\n".join(out)


def plot_finding1(root: Path) -> Figure | None:
    """Dose-response curves: one panel per world factor, viewpoint invariance (top-25, mean ± sd over seeds) of
    each network against the level, random init dashed; None when nothing is kept."""
    kept = kept_what_ifs(root)
    factors = [f for f in FACTORS.values() if f.kind == WORLD and any((n, f.name) in kept for n in NETWORKS)]
    if not factors:
        return None
    fig = Figure(figsize=(3.0 * len(factors), 3.0), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(factors), sharey=True, squeeze=False)[0]
    for ax, factor in zip(axes, factors, strict=True):
        answers = [kept[(n, factor.name)] for n in NETWORKS if (n, factor.name) in kept]
        labels = _levels(answers)
        for n, colour in zip(NETWORKS, ("#c44e52", "#4c72b0"), strict=True):
            if (n, factor.name) not in kept:
                continue
            rows = [_row(kept[(n, factor.name)], lv, "viewpoint") for lv in labels]
            xs = [i for i, r in enumerate(rows) if r]
            ax.errorbar(xs, [rows[i]["mean"] for i in xs], [rows[i]["sd"] for i in xs], color=colour, marker="o",
                        capsize=2, label=n)  # fmt: skip
        rand = next((r for r in answers[0].rows if r["level"] == RANDOM_INIT and r["metric"] == "viewpoint"
                     and r["measure"] == "top-25"), None)  # fmt: skip
        if rand is not None:
            ax.axhline(rand["mean"], color="grey", linestyle="--", linewidth=1, label="random init")
        ax.set_xticks(range(len(labels)), [lv.split("=", 1)[1] for lv in labels], rotation=30)
        ax.set_title(factor.name, fontsize=10)
    axes[0].set_ylabel("viewpoint invariance (top-25)")
    axes[0].legend(fontsize=8)
    return fig


def write_figure(root: Path) -> Path | None:
    """Draw `plot_finding1` into docs/figures/what_if_finding1.png (when anything is kept)."""
    fig = plot_finding1(root)
    if fig is None:
        return None
    path = root / FIGURE
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path
