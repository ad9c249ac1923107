"""The inspection widgets (ssl_kit.viz.widgets), driven as a user drives them: set a control's value (or click a
button), then check what the widget shows against the same quantity computed directly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from ssl_kit.augment import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.errors import DataError
from ssl_kit.invariance.feature_cache import image_features, protocol_features
from ssl_kit.invariance.measure import invariance_detail
from ssl_kit.invariance.protocols import build_protocol, protocol_root
from ssl_kit.invariance.scoring import MeasuredModel, load_model, random_init_model
from ssl_kit.viz.widgets import (
    AugmentExplorer,
    CurvesViewer,
    InvarianceInspector,
    ModelBank,
    NeighbourBrowser,
)
from ssl_kit.viz.widgets.common import png_bytes
from ssl_kit.viz.widgets.ordering import target_options, target_order


class Thumbnail(nn.Module):
    """Features = the (normalised) image averaged down to 4 x 4: identical images have identical features."""

    def __init__(self, side: int = 4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(side)  # layer "pool": maps, pooled by the browser to the mean colour
        self.avgpool = nn.Flatten()

    def forward(self, x):
        return self.avgpool(self.pool(x))


def _direct_unit(images: torch.Tensor) -> np.ndarray:
    x = images.float() / 255
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    f = Thumbnail()(x).double().numpy()
    return f / np.linalg.norm(f, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def models(smoke_run):
    run = load_model(smoke_run, name="mocov2")
    return {"mocov2": smoke_run, "random init": random_init_model(run, seed=0)}


def test_neighbours_known_by_construction():
    images = torch.randint(
        0, 256, (14, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    images[7], images[10] = images[2], images[4]  # two pairs of identical images
    labels = np.arange(14) % 3
    labels[7], labels[10] = labels[2], (labels[4] + 1) % 3
    models = {"thumb": Thumbnail(), "coarse": Thumbnail(side=2), "flat": nn.Sequential(nn.Flatten())}
    browser = NeighbourBrowser(images, labels, models, k=4, thumbs_per_page=6)
    browser.query_slider.value = 2
    # float32 features: an image's cosine with its copy is 1 to float32's rounding (a few units of 6e-8), not exactly
    assert browser.current.indices[0] == 7 and browser.current.similarities[0] == pytest.approx(1, abs=1e-6)
    assert browser.current.same_label[0]
    browser.thumb_buttons[4].click()  # the thumbnail of image 4
    assert browser.query_slider.value == 4 and browser.current.query == 4
    assert browser.current.indices[0] == 10 and browser.current.similarities[0] == pytest.approx(1, abs=1e-6)
    assert not browser.current.same_label[0]
    unit = _direct_unit(images)
    for q in range(14):
        browser.query_slider.value = q
        sims = unit @ unit[q]
        sims[q] = -np.inf
        best = np.sort(sims)[::-1][:4]
        assert browser.current.similarities == pytest.approx(best, abs=1e-6)
        assert (
            sims[browser.current.indices] == pytest.approx(best, abs=1e-6)
            and q not in browser.current.indices
        )
    assert browser.page_slider.value == 13 // 6  # the thumbnails follow the query
    assert [b.tooltip for b in browser.thumb_buttons] == ["query #12", "query #13"]
    assert browser.computed == [("thumb", "avgpool")]  # one extraction for 14 queries

    shown = browser.current.similarities.copy()
    assert list(browser.layer_dropdown.options) == ["pool", "avgpool"]
    browser.layer_dropdown.value = "pool"  # the mean colour: other neighbours, other similarities
    assert browser.current.layer == "pool" and not np.allclose(browser.current.similarities, shown)
    browser.compare_dropdown.value = "coarse"
    assert browser.compared is None  # side by side is off
    browser.compare_checkbox.value = True
    assert (browser.compared.model, browser.compared.layer, browser.compared.query) == ("coarse", "pool", 13)
    assert len(browser.results_box.children) == 2
    browser.compare_dropdown.value = "flat"  # has no layer "pool": the error is shown, not raised
    assert browser.compared is None and "no layer named pool" in str(browser.error)
    assert "KeyError" in browser.status.value
    browser.compare_dropdown.value = "coarse"
    assert browser.error is None and browser.status.value == "" and browser.compared.model == "coarse"
    browser.model_dropdown.value = "flat"  # its own layers; the missing "pool" falls back to the last one
    assert list(browser.layer_dropdown.options) == ["0"] and browser.current.layer == "0"


def test_neighbour_browser_on_the_world(smoke_world, models, tmp_path):
    browser = NeighbourBrowser.from_folder(
        smoke_world / "objects" / "val", models, compare="random init", cache_dir=tmp_path / "cache"
    )
    assert browser.images.shape[-1] == 32 and browser.class_names[0] == "airplane"
    browser.query_slider.value = 5
    run, rand = browser.current, browser.compared
    assert run.model == "mocov2" and rand.model == "random init" and run.query == rand.query == 5
    assert not np.allclose(run.similarities, rand.similarities)
    assert np.array_equal(run.same_label, browser.labels[run.indices] == browser.labels[5])
    browser.model_dropdown.value = "random init"
    assert np.array_equal(browser.current.indices, rand.indices)  # cached features, same answer
    browser.layer_dropdown.value = "layer2"
    assert browser.current.layer == "layer2" and not np.allclose(
        browser.current.similarities, rand.similarities
    )
    assert browser.computed == [("mocov2", "avgpool"), ("random init", "avgpool"), ("random init", "layer2")]
    assert 0 <= browser.label_agreement("mocov2", "avgpool", 3) <= 1
    again = NeighbourBrowser.from_folder(
        smoke_world / "objects" / "val", models, cache_dir=tmp_path / "cache"
    )
    assert again.computed == [] and np.array_equal(
        again.features("mocov2", "avgpool"), browser.features("mocov2", "avgpool")
    )


def test_browsers_read_the_one_feature_cache(tmp_path, monkeypatch):
    images = torch.randint(
        0, 256, (6, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(1)
    )
    labels = np.arange(6) % 2
    thumb = {"thumb": MeasuredModel("thumb", Thumbnail(), key="weights-1")}
    first = NeighbourBrowser(images, labels, thumb, cache_dir=tmp_path)
    assert first.computed == [("thumb", "avgpool")] and len(list(tmp_path.glob("images-*.npy"))) == 1
    done = []  # the browser's entry is the feature cache's own: read back, not extracted
    cached = image_features(Thumbnail(), images, cache_dir=tmp_path, model_key="weights-1", computed=done)
    assert done == [] and np.array_equal(cached["avgpool"], first.features("thumb", "avgpool"))

    def boom(*a, **k):
        raise AssertionError("the network ran although these features were cached")

    monkeypatch.setattr(Thumbnail, "forward", boom)
    second = NeighbourBrowser(images.clone(), labels, thumb, cache_dir=tmp_path)  # the same pixels
    assert second.computed == [] and np.array_equal(second.features("thumb", "avgpool"), cached["avgpool"])
    other = images.clone()
    other[0, 0, 0, 0] ^= 1  # one pixel of other images: another key
    with pytest.raises(AssertionError, match="network ran"):
        NeighbourBrowser(other, labels, thumb, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="network ran"):  # other weights: another key
        NeighbourBrowser(
            images, labels, {"thumb": MeasuredModel("t", Thumbnail(), key="w2")}, cache_dir=tmp_path
        )


def test_clear_errors(tmp_path):
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "config.yaml").write_text("method: mocov2\n")
    with pytest.raises(DataError, match="holds no checkpoint.pt"):
        ModelBank({"run": tmp_path / "unfinished"})
    with pytest.raises(DataError, match="model path is missing"):
        NeighbourBrowser(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), [0, 1], {"run": tmp_path / "nowhere"})
    with pytest.raises(DataError, match="no metrics.jsonl"):
        CurvesViewer(tmp_path / "unfinished")


@pytest.mark.slow
def test_invariance_inspector(smoke_world, smoke_run):
    inspector = InvarianceInspector({"mocov2": smoke_run}, data=smoke_world)
    assert inspector.protocol_dropdown.value == "viewpoint"
    assert {"occlusion", "illumination_color", "illumination_direction"} <= set(
        inspector.protocol_dropdown.options
    )
    protocol = build_protocol("viewpoint", protocol_root("viewpoint", smoke_world))
    model = load_model(smoke_run)
    feats = protocol_features(model.model, protocol, "avgpool", size=model.input_size, progress=False)[
        "avgpool"
    ]
    detail = invariance_detail(feats, protocol.targets, protocol.classes, (10, 25))
    target = inspector.target_dropdown.value
    idx = inspector.order.indices
    assert set(idx) == set(np.flatnonzero(protocol.targets == target))
    assert np.all(np.diff(protocol.info["factor"][idx]) > 0)  # by azimuth, not by file name (r10 < r5)

    inspector.slider.value = 7
    i = inspector.image_index
    assert i == idx[7] and protocol.info["factor"][i] == 35 and inspector.order.labels[7] == "azimuth 35°"
    row = int(np.flatnonzero(detail.classes == protocol.classes[i])[0])
    assert np.array_equal(inspector.neurons, detail.top_neurons[10][row])
    assert np.allclose(inspector.activations, feats[i, inspector.neurons], atol=1e-5)
    assert np.allclose(inspector.thresholds, detail.up[inspector.neurons], atol=1e-5)
    assert np.array_equal(inspector.fired, feats[i, inspector.neurons] > detail.up[inspector.neurons])
    assert inspector.image.value == png_bytes(protocol.load(i, i + 1)[0], 128)
    expected = (feats[idx][:, inspector.neurons] > detail.up[inspector.neurons]).T
    assert inspector.fired_matrix.shape == (10, 72) and np.array_equal(inspector.fired_matrix, expected)
    assert np.array_equal(inspector.heatmap_values, expected.astype(float))
    picture = inspector.heatmap.value
    inspector.mode_buttons.value = "activation - up"
    assert np.allclose(
        inspector.heatmap_values, feats[idx][:, inspector.neurons].T - inspector.thresholds[:, None]
    )
    assert inspector.heatmap.value != picture and inspector.error is None
    inspector.k_dropdown.value = 25
    assert inspector.activation_matrix.shape == (25, 72)

    inspector.target_dropdown.value = inspector.target_dropdown.options[-1][1]
    assert (
        inspector.slider.max == 71
        and protocol.targets[inspector.image_index] == inspector.target_dropdown.value
    )
    inspector.select(protocol="occlusion", position=2)
    covers = inspector.protocol.info["cover"][inspector.order.indices]
    assert np.all(np.diff(covers) >= 0) and inspector.position == 2 and inspector.error is None
    assert inspector.order.labels[2] == f"cover level {covers[2]}"
    assert inspector.computed == [
        ("mocov2", "viewpoint", "avgpool"),
        ("mocov2", "occlusion", "avgpool"),
    ]  # once each
    # by layer: layer3's features, pooled, measured as the measure does it
    inspector.layer_dropdown.value = "layer3"
    occ = inspector.protocol_set("occlusion")
    feats3 = protocol_features(inspector.models["mocov2"].model, occ, "layer3", size=32, progress=False)[
        "layer3"
    ]
    assert inspector.error is None and inspector.features.shape[1] == feats3.shape[1]
    np.testing.assert_allclose(inspector.features, feats3, atol=1e-5)
    assert inspector.computed[-1] == ("mocov2", "occlusion", "layer3")


def test_target_order(smoke_world):
    colour = build_protocol("illumination_color", protocol_root("illumination_color", smoke_world))
    order = target_order(colour, 2)
    assert (
        order.labels[:3] == ["lamp step i110", "lamp step i120", "lamp step i130"] and len(order.labels) == 12
    )
    assert all(colour.targets[order.indices] == 2)
    light = build_protocol("illumination_direction", protocol_root("illumination_direction", smoke_world))
    order = target_order(light, 1)
    assert order.labels[:4] == [
        "light 1, camera 1",
        "light 1, camera 2",
        "light 1, camera 3",
        "light 2, camera 1",
    ]
    occluded = build_protocol("synthetic_occlusion", protocol_root("synthetic_occlusion", smoke_world))
    order = target_order(occluded, 0)
    assert np.all(np.diff(occluded.occlusion[order.indices]) > 0) and order.labels[1] == "10% occluded"
    options = target_options(build_protocol("instance", protocol_root("instance", smoke_world)))
    assert options and all(
        int(text.split("(")[-1].split()[0]) >= 3 for text, _ in options
    )  # measured targets only


def test_augment_explorer(smoke_world):
    explorer = AugmentExplorer.from_folder(smoke_world / "objects" / "train", n=3, size=32, policy="mocov2")
    x = explorer.x
    assert explorer.policy.name == "mocov2" and explorer.crop_min.value == pytest.approx(0.2)
    for knob in (explorer.jitter_p, explorer.grayscale_p, explorer.blur_p, explorer.flip_p):
        knob.value = 0.0
    explorer.crop_checkbox.value = False
    assert not explorer.policy.crop and explorer.policy.flip_p == 0
    for view in explorer.views:  # no crop, no flip, no colour: the (resized) images themselves
        assert torch.allclose(view, x, atol=1e-6) and torch.allclose(view, explorer.originals, atol=1e-6)
    explorer.flip_p.value = 1.0
    assert all(torch.allclose(v, x.flip(-1), atol=1e-6) for v in explorer.views)
    explorer.grayscale_p.value = 1.0
    assert all(torch.allclose(v[:, 0], v[:, 1], atol=1e-6) for v in explorer.views)

    explorer.crop_checkbox.value = True
    explorer.crop_min.value = 0.9
    assert explorer.policy.crop_scale == (0.9, 1.0)
    boxes = torch.cat([p["boxes"] for p in explorer.params])
    assert (boxes[:, 2] * boxes[:, 3] >= 0.8 * 32 * 32).all()
    before, seed = [v.clone() for v in explorer.views], explorer.seed
    explorer.resample_button.click()
    assert explorer.seed == seed + 1 and not torch.allclose(explorer.views[0], before[0])

    explorer.policy_dropdown.value = "simclr"  # the knobs follow the named policy
    assert explorer.crop_min.value == pytest.approx(0.08) and explorer.jitter_strength.value == pytest.approx(
        0.8
    )
    assert explorer.policy.name == "simclr" and explorer.grid.shape == (3 * 98 - 2, 3 * 98 - 2, 3)
    explorer.jitter_strength.value = 0.4
    p = explorer.policy
    assert (p.brightness, p.contrast, p.saturation, p.hue) == pytest.approx((0.4, 0.4, 0.4, 0.1))
    assert "changed" in p.name and explorer.error is None


def test_curves_viewer(tmp_path):
    runs = tmp_path / "runs"
    for name, loss in (("a", [7.0, 6.0, 5.0]), ("b", [7.5, 7.0, 6.8])):
        (runs / name).mkdir(parents=True)
        rows = [{"step": 0, "data_images": 60}]
        rows += [
            {"step": 10 * (s + 1), "epoch": s + 1.0, "loss": v, "instance_acc": 0.1 * s}
            for s, v in enumerate(loss)
        ]
        rows.append({"step": 30, "epoch": 3.0, "final": True, "knn_acc": 0.4})
        (runs / name / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (runs / "notes").mkdir()  # not a run: skipped
    (tmp_path / "sweep" / "runs").mkdir(parents=True)  # a sweep that has not written a run yet
    with pytest.warns(UserWarning, match="holds no metrics.jsonl"):
        assert list(CurvesViewer([tmp_path / "sweep" / "runs", runs / "b"]).runs) == ["b"]
    assert list(CurvesViewer(str(runs / "*")).runs) == ["a", "b"]  # a glob of run folders
    viewer = CurvesViewer(runs)
    assert list(viewer.runs) == ["a", "b"] and viewer.available_metrics()[:3] == [
        "loss",
        "instance_acc",
        "knn_acc",
    ]
    assert "data_images" not in viewer.available_metrics()
    xs, ys = viewer.curves["loss"]["a"]
    assert xs.tolist() == [10, 20, 30] and ys.tolist() == [7.0, 6.0, 5.0]
    assert viewer.curves["knn_acc"]["b"][1].tolist() == [0.4]
    viewer.x_dropdown.value = "epoch"
    assert viewer.curves["loss"]["b"][0].tolist() == [1.0, 2.0, 3.0]
    viewer.runs_select.value = ("b",)
    viewer.metrics_select.value = ("loss",)
    assert list(viewer.curves) == ["loss"] and list(viewer.curves["loss"]) == ["b"]
    with open(runs / "b" / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 40, "epoch": 4.0, "loss": 6.5, "lr": 0.01}) + "\n")
    viewer.reload_button.click()
    assert (
        viewer.curves["loss"]["b"][1].tolist() == [7.5, 7.0, 6.8, 6.5]
        and "lr" in viewer.metrics_select.options
    )
    assert bytes(viewer.picture.value).startswith(b"\x89PNG") and viewer.error is None
    (runs / "a" / "metrics.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match="line 1 is not JSON"):
        CurvesViewer(runs / "a")
