"""ssl_kit.augment: known answers against torchvision, sampling statistics, seeding, policies as data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import RandomResizedCrop

from ssl_kit.augment import (
    AugmentPolicy,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    augment,
    color_jitter,
    crop_grid,
    crop_theta,
    denormalize,
    full_boxes,
    gaussian_blur,
    get_policy,
    list_policies,
    normalize,
    resized_crop,
    rgb_to_grayscale,
    sample_color_params,
    sample_crop_boxes,
    sample_params,
    step_views,
)
from ssl_kit.errors import ConfigError
from ssl_kit.viz.augment_views import plot_view_pairs, view_pairs_grid

NO_COLOUR = dict(jitter_p=0.0, grayscale_p=0.0, blur_p=0.0)


def _uint8(n=6, h=40, w=48, seed=0):
    return torch.randint(
        0, 256, (n, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


def _float(n=6, h=20, w=24, seed=0):
    x = torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))
    x[:, :, :3] = x[:, :1, :3]  # some grey pixels, where hue is undefined
    return x


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("out", [24, 56])
def test_full_crop_is_a_plain_bilinear_resize(out):
    images = _uint8(h=40, w=40)
    policy = get_policy("none", **NO_COLOUR, crop=True, crop_scale=(1, 1), crop_ratio=(1, 1))
    views, params = augment(images, policy, out, torch.Generator().manual_seed(0), return_params=True)
    assert params["boxes"].tolist() == [[0, 0, 40, 40]] * len(images)
    ref = F.interpolate(
        images.float() / 255, size=(out, out), mode="bilinear", align_corners=False, antialias=False
    )
    torch.testing.assert_close(denormalize(views, policy), ref, atol=1e-5, rtol=0)  # normalise round trip


def test_flip_is_an_exact_mirror():
    x = _float(h=30, w=36)
    boxes = sample_crop_boxes(len(x), 30, 36, (0.2, 1.0), (3 / 4, 4 / 3), torch.Generator().manual_seed(1))
    plain = resized_crop(x, boxes, torch.zeros(len(x), dtype=torch.bool), 28)
    flipped = resized_crop(x, boxes, torch.ones(len(x), dtype=torch.bool), 28)
    assert torch.equal(flipped, plain.flip(-1))


def test_theta_is_the_affine_map_of_the_grid():
    boxes = sample_crop_boxes(8, 60, 50, (0.5, 1.0), (3 / 4, 4 / 3), torch.Generator().manual_seed(2))
    flips = torch.arange(8) % 2 == 0
    out = 16  # downsampling every box: the clamp to the box never acts
    grid = crop_grid(boxes, flips, 60, 50, out)
    ref = F.affine_grid(crop_theta(boxes, flips, 60, 50), [8, 3, out, out], align_corners=False)
    torch.testing.assert_close(grid, ref, atol=1e-5, rtol=0)


def test_returned_boxes_reproduce_the_views():
    images = _uint8(n=8, h=40, w=48)
    policy = get_policy("supervised")  # crop + flip, no colour
    views, p = augment(images, policy, 32, torch.Generator().manual_seed(3), return_params=True)
    assert p["flips"].any() and not p["flips"].all()
    x = images.float() / 255
    for i, (bx, by, bw, bh) in enumerate(p["boxes"].tolist()):
        assert 0 <= bx and bx + bw <= 48 and 0 <= by and by + bh <= 40
        ref = F.interpolate(x[i : i + 1, :, by : by + bh, bx : bx + bw], size=(32, 32), mode="bilinear")
        ref = ref.flip(-1) if p["flips"][i] else ref
        torch.testing.assert_close(views[i : i + 1], normalize(ref, policy), atol=5e-5, rtol=0)


def test_crop_area_statistics_match_torchvision():
    n, h, w, scale, ratio = 3000, 48, 64, (0.2, 1.0), (3 / 4, 4 / 3)
    boxes = sample_crop_boxes(n, h, w, scale, ratio, torch.Generator().manual_seed(0)).double()
    area = boxes[:, 2] * boxes[:, 3] / (h * w)
    assert area.min() >= 0.19 and area.max() <= 1.0
    aspect = boxes[:, 2] / boxes[:, 3]
    assert aspect.min() >= 0.7 and aspect.max() <= 1.4
    torch.manual_seed(0)
    tv = [RandomResizedCrop.get_params(torch.empty(3, h, w), list(scale), list(ratio)) for _ in range(n)]
    tv_area = np.array([bh * bw for _, _, bh, bw in tv]) / (h * w)
    assert abs(area.mean().item() - tv_area.mean()) < 0.03
    assert abs(area.std().item() - tv_area.std()) < 0.03


def test_impossible_crop_falls_back_to_torchvisions_central_crop():
    # ratio 2 at scale 1 never fits a square image: all 10 tries fail
    box = sample_crop_boxes(3, 30, 30, (1.0, 1.0), (2.0, 2.0), torch.Generator().manual_seed(0))
    i, j, h, w = RandomResizedCrop.get_params(torch.empty(3, 30, 30), [1.0, 1.0], [2.0, 2.0])
    assert box.tolist() == [[j, i, w, h]] * 3


def test_no_crop_uses_the_whole_image():
    _, p = augment(_uint8(h=40, w=48), "no_crop", 16, torch.Generator().manual_seed(0), return_params=True)
    assert torch.equal(p["boxes"], full_boxes(6, 40, 48))


# ---------------------------------------------------------------- colour and blur


@pytest.mark.parametrize("factor", [0.0, 0.4, 1.0, 1.8])
def test_blend_ops_match_torchvision(factor):
    x = _float()
    torch.testing.assert_close(
        adjust_brightness(x, factor), TF.adjust_brightness(x, factor), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(adjust_contrast(x, factor), TF.adjust_contrast(x, factor), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        adjust_saturation(x, factor), TF.adjust_saturation(x, factor), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("shift", [-0.5, -0.27, 0.0, 0.1, 0.4, 0.5])
def test_hue_matches_torchvision(shift):
    x = _float()
    torch.testing.assert_close(adjust_hue(x, shift), TF.adjust_hue(x, shift), atol=1e-4, rtol=0)


def test_grayscale_and_per_sample_factors_match_torchvision():
    x = _float()
    torch.testing.assert_close(rgb_to_grayscale(x), TF.rgb_to_grayscale(x), atol=1e-6, rtol=0)
    f = torch.tensor([0.2, 0.7, 1.0, 1.3, 1.6, 0.0])
    h = torch.tensor([-0.5, -0.2, 0.0, 0.05, 0.3, 0.5])
    for ours, theirs, fac in [
        (adjust_contrast, TF.adjust_contrast, f),
        (adjust_saturation, TF.adjust_saturation, f),
        (adjust_hue, TF.adjust_hue, h),
    ]:
        ref = torch.stack([theirs(x[i], fac[i].item()) for i in range(len(x))])
        torch.testing.assert_close(ours(x, fac), ref, atol=1e-4, rtol=0)


def test_color_jitter_applies_each_samples_own_order():
    x = _float(n=16)
    p = sample_color_params(16, 0.8, 0.4, 0.4, 0.4, 0.3, 0.0, torch.Generator().manual_seed(0))
    assert len({tuple(o) for o in p.order.tolist()}) > 4  # orders really differ between samples
    out = color_jitter(x, p.factors, p.order, p.jitter)
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]
    for i in range(len(x)):
        ref = x[i]
        if p.jitter[i]:
            for op in p.order[i].tolist():
                ref = ops[op](ref, p.factors[i, op].item())
        torch.testing.assert_close(out[i], ref, atol=1e-4, rtol=0)
    assert torch.equal(out[~p.jitter], x[~p.jitter])  # untouched, bit for bit


def test_blur_matches_torchvision():
    x = _float(n=4, h=24, w=20)
    sigmas = torch.tensor([0.3, 0.8, 1.2, 1.5])
    out = gaussian_blur(x, sigmas, radius=4)
    ref = torch.stack([TF.gaussian_blur(x[i], [9, 9], [s.item(), s.item()]) for i, s in enumerate(sigmas)])
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=0)


# ---------------------------------------------------------------- statistics of the draws


def test_flag_frequencies_follow_the_policy():
    policy = get_policy("mocov2")
    p = sample_params(4000, 32, 32, policy, 32, torch.Generator().manual_seed(0))
    for key, prob in [("jitter", 0.8), ("gray", 0.2), ("blur", 0.5), ("flips", 0.5)]:
        assert abs(p[key].float().mean().item() - prob) < 0.03, key
    f = p["jitter_factors"]
    assert f[:, :3].min() >= 0.6 and f[:, :3].max() <= 1.4 and f[:, 3].abs().max() <= 0.1
    sig = p["blur_sigma"]
    assert sig.min() >= 0.1 * 32 / 224 and sig.max() <= 2.0 * 32 / 224


def test_grayscale_views_are_grey():
    views, p = augment(_uint8(n=32), "mocov2", 16, torch.Generator().manual_seed(0), return_params=True)
    rgb = denormalize(views, "mocov2")
    spread = (rgb.amax(1) - rgb.amin(1)).flatten(1).amax(1)
    assert p["gray"].any() and (spread[p["gray"]] < 1e-5).all() and (spread[~p["gray"]] > 1e-3).all()


# ---------------------------------------------------------------- seeding, device, dtype


def test_seeds_fix_the_views():
    images = _uint8()
    a = augment(images, "mocov2", 24, torch.Generator().manual_seed(7))
    b = augment(images, "mocov2", 24, torch.Generator().manual_seed(7))
    c = augment(images, "mocov2", 24, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    v1, v2 = step_views(images, "mocov2", 24, 2, torch.Generator().manual_seed(7))
    assert not torch.equal(v1, v2)  # two draws of each image


def test_ablations_share_the_other_draws():
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    _, full = augment(_uint8(), "mocov2", 24, g(), return_params=True)
    _, ablated = augment(_uint8(), "no_blur", 24, g(), return_params=True)
    for key in ("boxes", "flips", "jitter", "jitter_factors", "jitter_order", "gray"):
        assert torch.equal(full[key], ablated[key]), key
    assert not ablated["blur"].any()


def test_output_device_dtype_and_shape():
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        images = _uint8().to(dev)
        out = augment(images, "mocov1", 20, torch.Generator().manual_seed(0))
        assert out.dtype == torch.float32 and out.device.type == dev and out.shape == (6, 3, 20, 20)
        assert torch.isfinite(out).all()


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError):
        augment(_uint8().float(), "mocov2", 16)
    with pytest.raises(ValueError):
        augment(_uint8()[:, :1], "mocov2", 16)


# ---------------------------------------------------------------- policies as data


def test_policies_as_data():
    names = list_policies()
    for name in ["mocov1", "mocov2", "pirl", "simclr", "supervised", "none", "no_crop", "crop_only"]:
        assert name in names
    for name in names:
        assert get_policy(name).name == name
    base = get_policy("mocov2")
    assert get_policy("crop_0.5").crop_scale == (0.5, 1.0)
    assert dataclasses.replace(get_policy("no_flip"), flip_p=0.5, name="mocov2") == base
    assert dataclasses.replace(get_policy("no_jitter"), jitter_p=0.8, name="mocov2") == base
    assert not get_policy("no_crop").crop and get_policy("crop_only").jitter_p == 0
    custom = get_policy("mocov2", blur_p=0.0, crop_scale=[0.3, 1.0])
    assert custom.blur_p == 0.0 and custom.crop_scale == (0.3, 1.0)
    assert AugmentPolicy.from_dict(custom.to_dict()) == custom
    assert base.blur_sigma_at(112) == pytest.approx((0.05, 1.0))


def test_bad_policy_names_and_fields():
    with pytest.raises(ConfigError, match="mocov3.*valid policies: mocov1, mocov2"):
        get_policy("mocov3")
    with pytest.raises(ConfigError, match="'blurr'.*valid fields: name, crop"):
        get_policy("mocov2", blurr=0.1)
    with pytest.raises(ConfigError, match="jitter_p"):
        get_policy("mocov2", jitter_p=1.5)
    with pytest.raises(ConfigError, match="crop_scale"):
        get_policy("mocov2", crop_scale=(0.9, 0.2))


# ---------------------------------------------------------------- display


def test_view_pairs_grid_and_plot():
    images = _uint8(n=4).permute(0, 2, 3, 1).numpy()  # (N, H, W, 3) as the loaders return
    grid = view_pairs_grid(images, "mocov2", out_size=16, n=3, seed=0)
    assert grid.dtype == np.uint8 and grid.shape == (3 * 18 - 2, 3 * 18 - 2, 3)
    assert np.array_equal(grid, view_pairs_grid(images, "mocov2", out_size=16, n=3, seed=0))
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_view_pairs(images, "simclr", out_size=16, n=2)
    assert fig.axes
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_step_views_is_one_augment_call_view_major():
    """A step's views are one `augment` call on the images stacked view after view: (B, 3, H, W) images
    viewed twice are `augment` of the batch repeated (MoCo's draws, bit for bit), and given (B, V, 3, H, W)
    members are `augment` of member 0's then member 1's images."""
    images = torch.randint(
        0, 256, (4, 3, 20, 20), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    q, k = step_views(images, "mocov2", 16, 2, torch.Generator().manual_seed(3))
    both = augment(torch.cat([images, images]), "mocov2", 16, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat([q, k]), both) and q.is_contiguous(memory_format=torch.channels_last)
    pairs = torch.stack([images, images.flip(-1)], 1)
    a, b = step_views(pairs, "mocov2", 16, 2, torch.Generator().manual_seed(3))
    flat = torch.cat([images, images.flip(-1)])
    assert torch.equal(
        torch.cat([a, b]), augment(flat, "mocov2", 16, generator=torch.Generator().manual_seed(3))
    )
    (only,) = step_views(images, "supervised", 16, 1, torch.Generator().manual_seed(3))
    assert torch.equal(only, augment(images, "supervised", 16, generator=torch.Generator().manual_seed(3)))
