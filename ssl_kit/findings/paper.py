"""The paper's four findings as code: `finding_1(rows)` .. `finding_4(rows)` build each finding from the sweep rows
its notebook has (01 .. 04) with the checks of `ssl_kit.findings.checks`.

Each notebook records `finding.record()` in its JSON (claim, verdict, `seeds`, the measured `checks`, the
`missing` ones, `expected` = n); `ssl_kit.study.reproduce` puts them at the top of `results/summary.md`, with
the seeds of each finding in the summary's header.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ssl_kit.findings.checks import Finding, compared, expect, finding, is_random_init, label, not_learned

FINDING_1_OTHERS = ("viewpoint", "illumination_direction", "illumination_color", "instance")


def finding_1(rows: Iterable[dict], contrastive: str = "mocov2", supervised: str = "supervised") -> Finding:
    """Finding 1 from notebook 01's sweep rows (`invariances` grid: variant, metric, K, value), at top-25.

    Groups are the `variant` names: `contrastive` (MoCo v2 with the paper's crops, "mocov2") and `supervised`;
    the other rows (MoCo v2 with gentler crops, the random-init network) enter no check. Five checks: the
    contrastive model above the supervised one on occlusion, and the supervised one above it on viewpoint,
    illumination direction, illumination colour and instance. An invariance or a model missing from the rows
    leaves its checks missing; a compared model whose probes (kNN, linear, when the rows have them) do not beat
    random init is in `untrained`.
    """
    rows = list(rows)
    checks = [expect(rows, "variant", contrastive, supervised, "occlusion")]
    checks += [expect(rows, "variant", supervised, contrastive, inv) for inv in FINDING_1_OTHERS]
    return finding(1, checks, untrained=not_learned(rows, "variant", compared(checks)))


def finding_2(
    rows: Iterable[dict], policy: str | None = None, same_object: Mapping[str, float] | None = None
) -> Finding:
    """Finding 2 from notebook 03's sweep rows (`dataset_biases` grid: data, policy, metric, K, value).

    Groups are the `data` names "objects", "scenes" and "scene_crops", compared within one augmentation
    `policy` (default: the first policy of a trained cell in the rows). Two checks: objects above scenes, and
    scene crops above scenes, on the linear probe (`linear_acc`); a training set missing from the rows leaves
    its check missing. The note names the policy and, given `same_object` ({set: share of positive pairs whose
    two views show the same object}, notebook 03's pair analysis), those shares.
    """
    rows = list(rows)
    if policy is None:
        policy = next((r.get("policy") for r in rows if not is_random_init(r) and r.get("metric")), None)
    where = {"policy": policy}
    checks = [
        expect(rows, "data", "objects", "scenes", "linear_acc", where=where),
        expect(rows, "data", "scene_crops", "scenes", "linear_acc", where=where),
    ]
    untrained = not_learned(rows, "data", compared(checks), where)
    if policy is None:
        note = ""
    elif same_object is None:
        note = f"(augmentation {policy})"
    else:
        note = f"(augmentation {policy}; positive pairs showing the same object: {dict(same_object)})"
    return finding(2, checks, note, untrained)


# finding 3: each cropping policy of the augmentation_ablations grid against the same augmentation without the
# crop ("no_crop"), the paper's MoCo v2 (crops of (0.2, 1)) first, then by crop scale; the first two are always
# expected (notebook 02's default policies are no_crop, crop_0.8 and mocov2), the others when the rows have them;
# each with the smallest crop scale s of its crops of (s, 1)
FINDING_3_CROPS = {"mocov2": "0.2", "crop_0.8": "0.8", "crop_0.5": "0.5", "crop_0.08": "0.08"}
FINDING_3_EXPECTED = ("mocov2", "crop_0.8")


def finding_3(rows: Iterable[dict]) -> Finding:
    """Finding 3 from notebook 02's sweep rows (`augmentation_ablations` grid: policy, metric, K, value).

    Groups are the `policy` names. Checks: each cropping policy above the same augmentation without the crop
    ("no_crop") on occlusion invariance at top-25: the paper's MoCo v2 ("mocov2", crops of (0.2, 1)) and
    "crop_0.8" always (a `policies` subset without one of them, or without no_crop, leaves those checks
    missing), "crop_0.5" and "crop_0.08" when the rows have them (`FINDING_3_CROPS`). The note gives each
    policy's crop scale.
    """
    rows = list(rows)
    present = {label(r, "policy") for r in rows}
    crops = [p for p in FINDING_3_CROPS if p in FINDING_3_EXPECTED or p in present]
    scales = ", ".join(f"{p} ({FINDING_3_CROPS[p]}, 1)" for p in crops)
    note = f"(crop scales: {scales}; no_crop resizes the whole image)"
    checks = [expect(rows, "policy", p, "no_crop", "occlusion") for p in crops]
    return finding(3, checks, note, not_learned(rows, "policy", compared(checks)))


def finding_4(rows: Iterable[dict]) -> Finding:
    """Finding 4 from notebook 04's sweep rows (`video_analysis` grid: variant, metric, K, value).

    Groups are the `variant` names. Two checks: Frame Temporal Invariance ("fti") and the Region Tracker with
    flow proposals ("rt_flow") each above MoCo v2 on the same frames ("mocov2_frames") on viewpoint invariance
    at top-25. A variant missing from the rows leaves its check missing. Here and in findings 2 and 3, a compared
    group whose kNN and linear probe (when the rows have them) do not both beat random init is in `untrained`.
    """
    rows = list(rows)
    checks = [
        expect(rows, "variant", "fti", "mocov2_frames", "viewpoint"),
        expect(rows, "variant", "rt_flow", "mocov2_frames", "viewpoint"),
    ]
    return finding(4, checks, untrained=not_learned(rows, "variant", compared(checks)))
