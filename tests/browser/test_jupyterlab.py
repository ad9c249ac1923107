"""Notebook 05 in a real JupyterLab, as a person uses it: headless Chromium (Debian's), driven by Playwright.

The test serves a copy of `notebooks/05_explorer.ipynb` whose parameters point at a smoke world and a results
folder in pytest's temporary directory (a papermill-style "injected-parameters" cell; nothing is executed by
papermill), opens it, runs every cell from the "Run" menu, checks that no cell shows a traceback and that the
widgets render, clicks a thumbnail of the nearest-neighbour browser and the augmentation explorer's "resample"
button and checks that what they show changes, then saves a screenshot of the nearest-neighbour browser
(`widget_neighbours.png`, the README's picture of a widget) and of the whole notebook (`05_explorer.png`), both
in `<tmp>/results/browser/`, printed in the terminal summary and copied to $SSL_KIT_ARTIFACTS if set.

With $SSL_KIT_BROWSER_STUDY set to the results folder of a finished `make reproduce` (e.g. `results/quick`), the
notebook runs on that study instead (its scale, seed and world, from its `run.json`): how the README's picture
of the widget is taken, at quick scale, where the trained network has learned something to show.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from helpers.lab_page import (
    UI_TIMEOUT_MS,
    VIEWPORT,
    image_sources,
    run_all_cells,
    screenshot_notebook,
    study_values,
    widget_errors,
    write_parameterised_copy,
)

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_explorer.ipynb"
RUN_TIMEOUT_MS = 10 * 60 * 1000  # the whole notebook at smoke scale takes about a minute on 2 cores


@pytest.mark.browser
def test_notebook_05_in_jupyterlab(
    chromium, jupyter_lab, report_screenshot, smoke_world: Path, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    results = tmp_path / "results"
    smoke = {"scale": "smoke", "world_dir": str(smoke_world), "results_dir": str(results), "seed": 0}
    place, results = study_values(
        smoke, results
    )  # or a finished study (the README's picture): its own folders
    shot = results / "browser" / "05_explorer.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    write_parameterised_copy(NOTEBOOK, jupyter_lab.root / NOTEBOOK.name, place)

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh, empty profile
            viewport=VIEWPORT,
            **chromium,  # Debian's Chromium, headless, with the flags of tests/browser/conftest.py
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            console_errors: list[str] = []
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            try:
                run_and_check(page, jupyter_lab, shot)
                report_screenshot(shot)
            except Exception:
                failure = shot.with_name("05_explorer_failure.png")
                try:  # what the page showed when the test failed
                    page.screenshot(path=str(failure), full_page=True)
                    report_screenshot(failure)
                except Exception as e:  # noqa: BLE001 - the original failure matters more
                    print(f"no failure screenshot: {e}")
                print("JupyterLab log (tail):\n" + jupyter_lab.log_tail(80))
                print("page errors:", console_errors)
                raise
        finally:
            context.close()

    report_screenshot(shot.with_name("widget_neighbours.png"))
    assert shot.stat().st_size > 10_000
    assert (results / "05_explorer.json").is_file(), "the notebook's last cell did not write its record"
    print(f"browser test: {time.monotonic() - start:.0f} s, screenshot {shot}")


def run_and_check(page, lab, shot: Path) -> None:
    from playwright.sync_api import expect

    run_all_cells(page, lab, NOTEBOOK.name, RUN_TIMEOUT_MS)
    # the widgets rendered (the ipywidgets front end is installed and talks to the kernel)
    expect(page.locator(".jp-OutputArea-output .jupyter-widgets.widget-button").first).to_be_visible()
    assert page.locator(".jp-OutputArea-output img.widget-image").count() > 10

    # 1. nearest-neighbour browser: clicking thumbnail #3 makes image 3 the query
    browser = page.locator(".jp-OutputArea-output").filter(has_text="pick a query")
    expect(browser).to_have_count(1)
    expect(browser.get_by_text(re.compile(r"^query #0$")).first).to_be_visible()
    before = image_sources(browser.locator(".widget-vbox").first)
    thumb = browser.locator(".widget-button", has_text=re.compile(r"^#3 "))
    thumb.scroll_into_view_if_needed()
    thumb.click()
    expect(browser.get_by_text(re.compile(r"^query #3$")).first).to_be_visible()
    expect(browser.get_by_text(re.compile(r"^query #0$"))).to_have_count(0)
    assert image_sources(browser.locator(".widget-vbox").first) != before, (
        "the neighbour images did not change"
    )
    widget = shot.with_name("widget_neighbours.png")  # the README's picture of a widget (docs/figures/)
    browser.screenshot(path=str(widget))
    assert widget.stat().st_size > 5_000

    # 2. augmentation explorer: "resample" draws new views (the seed moves on, the picture changes)
    explorer = page.locator(".jp-OutputArea-output").filter(has=page.get_by_role("button", name="resample"))
    expect(explorer).to_have_count(1)
    picture = explorer.locator("img.widget-image").first
    picture.scroll_into_view_if_needed()
    expect(explorer.get_by_text(re.compile(r", seed 0:"))).to_be_visible()
    pixels = picture.screenshot()
    explorer.get_by_role("button", name="resample").click()
    expect(explorer.get_by_text(re.compile(r", seed 1:"))).to_be_visible()
    page.wait_for_timeout(300)  # let the new image decode
    assert picture.screenshot() != pixels, "resample did not change the augmentation picture"

    assert not widget_errors(page), f"a widget showed an error: {widget_errors(page)}"

    screenshot_notebook(page, shot)
