"""Notebook 08 (what if?) in a real JupyterLab, driven by Playwright in headless Chromium, as a person uses it.

The test serves a parameterised copy of `notebooks/08_what_if.ipynb` (a smoke world, one seed, one level of each
factor), runs every cell from the "Run" menu, then uses the what-if widget: it picks another level (the previews
change), presses "run" (the new level trains; its answer replaces the first), presses "layer map" (a map appears)
and photographs the widget (`widget_what_if.png`, the picture on docs/what_if.md when taken on a finished study)
and the whole notebook (`08_what_if.png`) in `<results>/browser/`.

With $SSL_KIT_BROWSER_STUDY set to the results folder of a finished `make reproduce` (e.g. `results/quick`), the
notebook runs on that study with its committed parameters (three seeds): how the docs' picture is taken.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from helpers.lab_page import (
    UI_TIMEOUT_MS,
    VIEWPORT,
    run_all_cells,
    screenshot_notebook,
    study_values,
    widget_errors,
    write_parameterised_copy,
)

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "08_what_if.ipynb"
RUN_TIMEOUT_MS = (
    40 * 60 * 1000
)  # smoke: a few minutes; a finished study's three seeds: trainings of their own
SMOKE = {"n_seeds": 1, "levels": [0.0], "world_levels": [90.0]}


@pytest.mark.browser
def test_notebook_08_what_if_in_jupyterlab(
    chromium, jupyter_lab, report_screenshot, smoke_world: Path, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    results = tmp_path / "results"
    smoke = {"scale": "smoke", "world_dir": str(smoke_world), "results_dir": str(results), "seed": 0, **SMOKE}
    values, results = study_values(smoke, results)
    shot = results / "browser" / "08_what_if.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    write_parameterised_copy(NOTEBOOK, jupyter_lab.root / NOTEBOOK.name, values)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), viewport=VIEWPORT, **chromium
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                use_the_widget(page, jupyter_lab, shot)
            except Exception:
                failure = shot.with_name("08_what_if_failure.png")
                page.screenshot(path=str(failure), full_page=True)
                report_screenshot(failure)
                print("JupyterLab log (tail):\n" + jupyter_lab.log_tail(80))
                raise
        finally:
            context.close()
    report_screenshot(shot)
    report_screenshot(shot.with_name("widget_what_if.png"))
    assert (results / "08_what_if.json").is_file(), "the notebook did not write its record"
    print(f"browser test: {time.monotonic() - start:.0f} s, screenshot {shot}")


def use_the_widget(page, lab, shot: Path) -> None:
    from playwright.sync_api import expect

    run_all_cells(page, lab, NOTEBOOK.name, RUN_TIMEOUT_MS)
    widget = page.locator(".jp-OutputArea-output").filter(has=page.get_by_role("button", name="layer map"))
    expect(widget).to_have_count(1)
    expect(widget.get_by_text(re.compile(r"What the paper predicts")).first).to_be_visible()
    bars = widget.locator("img.widget-image")
    expect(bars.first).to_be_visible()
    # pick one more level: a preview row, named by the level, appears for it
    select = widget.locator("select[multiple]").first  # the levels (the dropdowns are selects too)
    options = select.locator("option").all_inner_texts()
    chosen = select.evaluate("e => [...e.selectedOptions].map(o => o.text)")
    extra = next(o for o in options if o not in chosen)
    select.select_option(label=[*chosen, extra])
    expect(widget.get_by_text(f"jitter_strength={extra}", exact=True).first).to_be_visible()
    # run: the new level trains (smoke: seconds), and its sentence joins the answer
    widget.get_by_role("button", name="run").click()
    expect(widget.get_by_text(re.compile(rf"={re.escape(extra)} \(against"))).to_be_visible(
        timeout=RUN_TIMEOUT_MS
    )
    widget.get_by_role("button", name="layer map").click()
    expect(widget.get_by_text(re.compile(r"nearest neighbours: baseline and"))).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.widget-image')].filter(i => i.naturalHeight > 150).length >= 2",
        timeout=RUN_TIMEOUT_MS,
    )
    assert not widget_errors(page), f"a widget showed an error: {widget_errors(page)}"
    # the whole widget in one picture: Chromium draws only what lies in its window, so make the window as tall
    height = int(widget.evaluate("e => e.getBoundingClientRect().height")) + 200
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]), 16000)}
    )
    widget.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    widget.screenshot(path=str(shot.with_name("widget_what_if.png")))
    screenshot_notebook(page, shot)
