"""A run's `augment` knob: changes to a policy's fields as one line of text, read, checked and written back in
one spelling (so one change is one run key)."""

from __future__ import annotations

import pytest

from ssl_kit.augment import changed_policy, format_changes, get_policy, parse_changes
from ssl_kit.errors import ConfigError
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.runs.run_keys import run_key


def test_changes_are_read_and_written_back_in_one_spelling():
    changes = parse_changes(" jitter_p = 0 ;crop_scale=0.5,1; crop=true;")
    assert changes == {"jitter_p": 0.0, "crop_scale": (0.5, 1.0), "crop": True}
    text = format_changes(changes)
    assert (
        text == "crop=true; crop_scale=0.5,1.0; jitter_p=0.0"
    )  # fields sorted, numbers as Python writes them
    assert parse_changes(text) == changes
    assert format_changes({}) is None and parse_changes(None) == {} and parse_changes("  ") == {}


def test_a_changed_policy_is_the_named_one_with_those_fields():
    policy = changed_policy("mocov2", "blur_p=0; crop_scale=0.5,1")
    assert policy == get_policy("mocov2", blur_p=0.0, crop_scale=(0.5, 1.0))
    assert changed_policy("mocov2", None) == get_policy("mocov2")


@pytest.mark.parametrize(
    "text, message",
    [
        ("blurp=0", "unknown field 'blurp'"),
        ("blur_p", "expected field=value"),
        ("blur_p=lots", "'lots' is not a number"),
        ("crop_scale=0.5", "is a range, two numbers"),
        ("crop=yes", "crop is true or false"),
        ("blur_p=0; blur_p=1", "changed twice"),
        ("mean=0,0,0", "unknown field 'mean'"),  # the normalisation is not an augmentation
    ],
)
def test_a_bad_change_is_named(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_changes(text)


def test_the_knob_is_checked_and_keyed_only_when_set(tmp_path):
    base = TrainConfig(method="mocov2", scale="smoke", data=str(tmp_path), out=str(tmp_path / "run"))
    one = resolve(TrainConfig(**{**base.__dict__, "augment": "blur_p = 0"}))
    two = resolve(TrainConfig(**{**base.__dict__, "augment": "blur_p=0.0"}))
    assert one.augment == two.augment == "blur_p=0.0"
    assert run_key(one) == run_key(two) != run_key(resolve(base))
    with pytest.raises(ConfigError, match="blur_p"):  # the policy's own range check
        resolve(TrainConfig(**{**base.__dict__, "augment": "blur_p=2"}))
