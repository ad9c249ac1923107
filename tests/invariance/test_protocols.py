"""Protocols build the paper's targets; features are extracted at any layer and cached; the CLI measures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_kit.cli import main
from ssl_kit.common.tidy import read_rows
from ssl_kit.data.got10k import read_got10k
from ssl_kit.invariance.feature_cache import checkpoint_key, protocol_features
from ssl_kit.invariance.protocols import (
    PAPER_PROTOCOLS,
    build_protocol,
    occluded_version,
    protocol_root,
    synthetic_occlusion_protocol,
)
from ssl_kit.invariance.scoring import load_model, measure, random_init_model
from ssl_kit.models.backbones import build_backbone


def test_aloi_targets_are_objects(smoke_world):
    p = build_protocol("viewpoint", protocol_root("viewpoint", smoke_world))
    folders = [path.parent.name for path in p.paths]
    assert [str(t) for t in p.targets] == folders and np.array_equal(p.targets, p.classes)
    assert p.size == 128 and p.boxes is None
    assert build_protocol("illumination_color", smoke_world / "aloi_col").name == "illumination_color"


def test_got_occlusion_keeps_spanning_videos_one_frame_per_level(smoke_world):
    root = smoke_world / "got_occlusion"
    p = build_protocol("occlusion", root)
    seqs = {s.name: s for s in read_got10k(root)}
    kept = {s for s, seq in seqs.items() if np.ptp(seq.cover) >= 4}
    assert set(p.targets) == kept
    for name in kept:
        rows = np.flatnonzero(p.targets == name)
        seq = seqs[name]
        assert sorted(p.info["cover"][rows]) == sorted(np.unique(seq.cover))  # one frame per level
        for r in rows:
            frame = seq.frames.index(p.paths[r])
            assert seq.cover[frame] == p.info["cover"][r] and np.array_equal(seq.boxes[frame], p.boxes[r])
        assert set(p.classes[rows]) == {seq.object_class}
    again = build_protocol("occlusion", root)
    assert again.paths == p.paths  # seeded (1992): the same frames every time


def _pascal3d(root: Path, angles: dict[str, list[tuple[float, float]]]) -> Path:
    """A Pascal3D+ folder (JSON annotations) with one object per image at the given (azimuth, elevation)."""
    for cls, views in angles.items():
        sub = f"{cls}_imagenet"
        (root / "Images" / sub).mkdir(parents=True)
        (root / "Annotations" / sub).mkdir(parents=True)
        names = []
        for i, (az, el) in enumerate(views):
            name = f"{cls}_{i:03d}"
            names.append(name)
            Image.new("RGB", (20, 16), (i * 20, 0, 0)).save(root / "Images" / sub / f"{name}.JPEG")
            obj = {
                "class": cls,
                "bbox": [2, 3, 12, 15],
                "viewpoint": {
                    "azimuth_coarse": az,
                    "elevation_coarse": el,
                    "azimuth": az + 0.4,
                    "elevation": el,
                },
            }
            record = {"filename": f"{name}.JPEG", "size": {"width": 20, "height": 16}, "objects": [obj]}
            (root / "Annotations" / sub / f"{name}.json").write_text(json.dumps({"record": record}))
        (root / "Image_sets").mkdir(exist_ok=True)
        (root / "Image_sets" / f"{sub}_train.txt").write_text("\n".join(names[:-1]) + "\n")
        (root / "Image_sets" / f"{sub}_val.txt").write_text(names[-1] + "\n")
    return root


def test_pascal3d_bins_and_targets(tmp_path):
    # azimuth bins (az mod 180) // 30, elevation bins (el mod 90) // 30
    views = [(10, 5), (190, 5), (40, 5), (220, 35), (355, -10), (175, 80)]
    root = _pascal3d(tmp_path / "p3d", {"car": views, "chair": [(0, 0), (0, 0), (31, 0)]})
    inst = build_protocol("instance", root)
    assert inst.size == 224 and len(inst) == 9
    assert list(inst.info["azimuth_bin"][:6]) == [0, 0, 1, 1, 5, 5]
    assert list(inst.info["elevation_bin"][:6]) == [0, 0, 0, 1, 2, 2]
    assert inst.targets[0] == inst.targets[1] != inst.targets[2]
    assert inst.targets[4] == inst.targets[5] and inst.targets[6] == inst.targets[7]
    assert list(inst.classes) == ["car"] * 6 + ["chair"] * 3
    # 1-based inclusive x1 y1 x2 y2 -> the 0-based x y w h of the pixels it covers (columns 1-11, rows 2-14)
    np.testing.assert_array_equal(inst.boxes[0], [1, 2, 11, 13])
    iv = build_protocol("instance_viewpoint", root)
    # car az bins 0 0 1 1 5 5 -> k-th image of each bin: 0 1 0 1 0 1; chair bins 0 0 1 -> 0 1 0
    assert list(iv.targets) == [
        "car/0",
        "car/1",
        "car/0",
        "car/1",
        "car/0",
        "car/1",
        "chair/0",
        "chair/1",
        "chair/0",
    ]
    assert inst.load(0, 2, 16).shape == (2, 3, 16, 16)


def test_synthetic_occlusion_covers_the_fraction():
    image = np.zeros((40, 40, 3), dtype=np.uint8)
    for fraction in (0.1, 0.3, 0.5):
        out = occluded_version(image, fraction, seed=3)
        covered = (out != 0).any(axis=2).mean()
        assert covered == pytest.approx(fraction, abs=0.06)
        assert np.array_equal(out, occluded_version(image, fraction, seed=3))


def test_synthetic_occlusion_protocol(smoke_world):
    base = build_protocol("instance", smoke_world / "pascal3d")
    p = synthetic_occlusion_protocol(base, fractions=(0, 0.25, 0.5), max_objects=4)
    assert len(p) == 12 and list(p.occlusion[:3]) == [0, 0.25, 0.5]
    x = p.load(0, 3, 32)
    assert torch.equal(x[0], base.load(0, 1, 32)[0]) and not torch.equal(x[0], x[2])


def test_small_protocols_are_decoded_once(smoke_world, monkeypatch):
    import ssl_kit.invariance.protocols as protocols

    p = build_protocol("instance", smoke_world / "pascal3d")
    streamed = p._decode(2, 7, 32)
    decoded = []
    real = protocols.read_image
    monkeypatch.setattr(protocols, "read_image", lambda path: decoded.append(path) or real(path))
    first = p.load(2, 7, 32)
    assert len(decoded) == len(p)  # the whole set, once
    again = p.load(0, len(p), 32)
    assert len(decoded) == len(p) and torch.equal(first, streamed) and torch.equal(again[2:7], streamed)
    first.zero_()  # a caller's change does not reach the kept copy
    assert torch.equal(p.load(2, 7, 32), streamed)
    monkeypatch.setattr(protocols, "MEMO_BYTES", 0)  # too big to keep: streamed batch by batch
    big = build_protocol("instance", smoke_world / "pascal3d")
    decoded.clear()
    assert torch.equal(big.load(2, 7, 32), streamed) and len(decoded) == 5


def test_decoded_images_kept_on_disk_are_read_by_another_process(smoke_world, tmp_path, monkeypatch):
    """With a cache folder, the first `load` decodes the whole set and keeps it there; a protocol built anew (as
    in another process) reads it back, decoding nothing; another size is another entry."""
    import ssl_kit.invariance.protocols as protocols

    first = build_protocol("instance", smoke_world / "pascal3d")
    want = first.load(0, len(first), 32, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("images-instance-*.npy"))) == 1
    decoded = []
    real = protocols.read_image
    monkeypatch.setattr(protocols, "read_image", lambda path: decoded.append(path) or real(path))
    again = build_protocol("instance", smoke_world / "pascal3d")
    assert torch.equal(again.load(3, 9, 32, cache_dir=tmp_path), want[3:9]) and decoded == []
    assert again.load(0, 2, 24, cache_dir=tmp_path).shape == (2, 3, 24, 24) and len(decoded) == len(again)
    assert len(list(tmp_path.glob("images-instance-*.npy"))) == 2


def test_features_any_layer_and_cache(smoke_world, tmp_path, monkeypatch):
    p = build_protocol("illumination_color", smoke_world / "aloi_col")
    model = build_backbone("resnet18").eval()
    feats = protocol_features(
        model, p, ["avgpool", "layer3"], size=32, cache_dir=tmp_path, model_key="m", progress=False
    )
    assert feats["avgpool"].shape == (len(p), 512) and feats["layer3"].shape == (len(p), 256)
    assert (feats["avgpool"] >= 0).all()  # pool5 after ReLU
    direct = model(
        (p.load(0, 2, 32).float() / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    )
    np.testing.assert_allclose(feats["avgpool"][:2], direct.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert (
        len(list(tmp_path.glob("illumination_color-*.npy"))) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    )
    assert len(list(tmp_path.glob("images-illumination_color-*.npy"))) == 1  # the decoded images, kept beside

    def boom(*a, **k):
        raise AssertionError("the model ran although the features were cached")

    monkeypatch.setattr(model, "forward", boom)
    cached = protocol_features(model, p, "layer3", size=32, cache_dir=tmp_path, model_key="m", progress=False)
    np.testing.assert_array_equal(cached["layer3"], feats["layer3"])
    with pytest.raises(AssertionError, match="cached"):  # another size is another key
        protocol_features(model, p, "layer3", size=48, cache_dir=tmp_path, model_key="m", progress=False)
    with pytest.raises(ValueError, match="model_key"):
        protocol_features(model, p, "layer3", cache_dir=tmp_path)


def test_measure_a_run_against_random_init(smoke_world, smoke_run):
    m = load_model(smoke_run)
    assert m.name == "mocov2" and m.input_size == 32 and m.key == checkpoint_key(smoke_run / "checkpoint.pt")
    r = random_init_model(m)
    p = build_protocol("viewpoint", smoke_world / "aloi_view")
    for model in (m, r):
        result = measure(model, p, progress=False)
        assert set(result.scores) == {10, 25} and all(0 <= s <= 100 for s in result.scores.values())


def test_cli_measure_one_and_all(smoke_world, smoke_run, tmp_path, capsys):
    cache = str(tmp_path / "cache")
    rc = main(
        [
            "measure",
            "--checkpoint",
            str(smoke_run),
            "--protocol",
            "viewpoint",
            "--data",
            str(smoke_world),
            "--cache",
            cache,
            "--quiet",
        ]
    )
    assert rc == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "viewpoint" in line]
    assert len(lines) == 2 and "K=10" in lines[0] and "K=25" in lines[1]
    out = tmp_path / "inv.csv"
    rc = main(
        [
            "measure",
            "--checkpoint",
            str(smoke_run),
            "--all",
            "--random-init",
            "--data",
            str(smoke_world),
            "--csv",
            str(out),
            "--cache",
            cache,
            "--quiet",
        ]
    )
    assert rc == 0
    rows = read_rows(out)
    assert {r["metric"] for r in rows} == set(PAPER_PROTOCOLS)
    assert {r["model"] for r in rows} == {"mocov2", "random init"} and len(rows) == 2 * 6 * 2
    assert main(["measure", "--checkpoint", str(smoke_run), "--data", str(smoke_world)]) == 2  # no protocol


def test_measure_random_init_of_a_kit_run_is_its_untrained_twin(smoke_run, tmp_path):
    """`measure --random-init` on a kit run measures the run's own untrained twin (its seed, its key), as a sweep's
    random-init cell does; on another checkpoint, a fresh network of its architecture."""
    from ssl_kit.cli.run_commands import untrained_of
    from ssl_kit.runs.checkpoints import load_run
    from ssl_kit.training.untrained import untrained_twin

    like = load_model(smoke_run)
    twin = untrained_of(str(smoke_run), like)
    backbone, key = untrained_twin(load_run(smoke_run)[1])
    assert twin.key == key and twin.name == "random init" and twin.input_size == like.input_size
    assert all(torch.equal(v, backbone.state_dict()[k]) for k, v in twin.model.state_dict().items())
    other = tmp_path / "torchvision.pt"
    torch.save(like.model.state_dict(), other)
    assert untrained_of(str(other), load_model(other)).key == random_init_model(load_model(other)).key
