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

import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

from ssl_kit.study.reproduce import declared_parameters

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_explorer.ipynb"
RUN_TIMEOUT_MS = 10 * 60 * 1000  # the whole notebook at smoke scale takes about a minute on 2 cores
UI_TIMEOUT_MS = 60 * 1000
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium's largest texture side
STUDY_ENV = "SSL_KIT_BROWSER_STUDY"  # a finished study's results folder to run on instead of a smoke world


def write_parameterised_copy(notebook: Path, out: Path, values: dict) -> None:
    """A copy of `notebook` with a papermill "injected-parameters" cell after its parameters cell."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = parameterize_notebook(load_notebook_node(str(notebook)), declared_parameters(notebook, values))
    nbformat.write(nb, out)


# Done when no code cell is queued or running ([*]) and at least one has run; a failing cell aborts the rest
# of "Run All", which leaves them at [ ] (checked afterwards).
RUN_FINISHED_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
    .map(e => e.textContent.trim());
  const busy = prompts.some(p => p.includes('*'));
  const ran = prompts.filter(p => /^\\[\\d+\\]:$/.test(p)).length;
  const idle = document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null;
  return !busy && ran > 0 && idle;
}"""


def code_prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent.trim())"
    )


def tracebacks(page) -> list[str]:
    """Texts of error and stderr outputs that hold a traceback (warnings on stderr are fine)."""
    texts = page.eval_on_selector_all(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
        "els => els.map(e => e.innerText)",
    )
    return [t for t in texts if "Traceback" in t]


def widget_errors(page) -> list[str]:
    """Errors a widget callback showed in its status line (ssl_kit.viz.widgets.common.guarded)."""
    return page.eval_on_selector_all(
        ".jupyter-widgets pre",
        "els => els.filter(e => (e.getAttribute('style') || '').includes('#b00')).map(e => e.innerText)",
    )


def image_sources(locator) -> list[str]:
    return locator.locator("img").evaluate_all("els => els.map(e => e.src)")


@pytest.mark.browser
def test_notebook_05_in_jupyterlab(
    chromium, jupyter_lab, report_screenshot, smoke_world: Path, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    results = tmp_path / "results"
    place = {"scale": "smoke", "world_dir": str(smoke_world), "results_dir": str(results), "seed": 0}
    if os.environ.get(STUDY_ENV):  # a finished study (the README's picture): its own folders
        results = Path(os.environ[STUDY_ENV]).resolve()
        study = json.loads((results / "run.json").read_text())["study"]
        place = {"scale": study["scale"], "world_dir": study["data_dir"], "results_dir": str(results),
                 "seed": study["seed"]}  # fmt: skip
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

    page.goto(lab.lab_url(NOTEBOOK.name))
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    # the kernel is up: before that, "Run All Cells" would only open a "Select Kernel" dialog (the toolbar's
    # execution indicator says idle already while there is no kernel; the status bar says "Unknown")
    expect(page.locator("#jp-main-statusbar")).to_contain_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))
    assert all(p == "[ ]:" for p in code_prompts(page)), "the notebook copy is not clean"
    # more room for the notebook: collapse the file browser (clicking its open tab closes the side bar)
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()

    # Run > Run All Cells, as a person would
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
    expect(page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]").first).to_be_attached()
    page.wait_for_function(RUN_FINISHED_JS, timeout=RUN_TIMEOUT_MS, polling=500)

    assert not tracebacks(page), "a cell failed:\n" + "\n\n".join(tracebacks(page))
    prompts = code_prompts(page)
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"not every code cell ran: {prompts}"

    # the widgets rendered (the ipywidgets front end is installed and talks to the kernel)
    expect(page.locator(".jp-OutputArea-output .jupyter-widgets.widget-button").first).to_be_visible()
    assert page.locator(".jp-OutputArea-output img.widget-image").count() > 10
    assert page.get_by_text("Error displaying widget").count() == 0

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

    # the whole notebook in one picture: the page does not scroll (the notebook panel does), so grow the
    # viewport to the notebook's height
    height = page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.scrollHeight")
    chrome = VIEWPORT["height"] - page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.clientHeight")
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": min(height + chrome, MAX_SCREENSHOT_HEIGHT)}
    )
    page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot), full_page=True)
