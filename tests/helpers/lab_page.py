"""What the browser tests do to a notebook in JupyterLab: serve a parameterised copy, run every cell from the
"Run" menu as a person would, read what the page shows (prompts, tracebacks, widget errors) and photograph the
whole notebook."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat

from ssl_kit.study.reproduce import declared_parameters

STUDY_ENV = "SSL_KIT_BROWSER_STUDY"  # a finished study's results folder to run on instead of a smoke world
UI_TIMEOUT_MS = 60 * 1000
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium's largest texture side


def study_values(smoke: dict, results: Path) -> tuple[dict, Path]:
    """The notebook parameters and results folder a browser test runs with: `smoke` (a smoke world writing into
    `results`), or with $SSL_KIT_BROWSER_STUDY set, that finished study's own scale, seed, world and results
    (how the docs' pictures of the widgets are taken, at quick scale)."""
    if not os.environ.get(STUDY_ENV):
        return smoke, results
    results = Path(os.environ[STUDY_ENV]).resolve()
    study = json.loads((results / "run.json").read_text())["study"]
    values = {"scale": study["scale"], "world_dir": study["data_dir"], "results_dir": str(results),
              "seed": study["seed"]}  # fmt: skip
    return values, results


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


def run_all_cells(page, lab, notebook: str, timeout_ms: int) -> None:
    """Open `notebook` on the server, wait for its kernel, run every cell from Run > Run All Cells, and check
    that every code cell ran and none shows a traceback."""
    from playwright.sync_api import expect

    page.goto(lab.lab_url(notebook))
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    # the kernel is up: before that, "Run All Cells" would only open a "Select Kernel" dialog (the toolbar's
    # execution indicator says idle already while there is no kernel; the status bar says "Unknown")
    expect(page.locator("#jp-main-statusbar")).to_contain_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))
    assert all(p == "[ ]:" for p in code_prompts(page)), "the notebook copy is not clean"
    # more room for the notebook: collapse the file browser (clicking its open tab closes the side bar)
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
    expect(page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]").first).to_be_attached()
    page.wait_for_function(RUN_FINISHED_JS, timeout=timeout_ms, polling=500)
    assert not tracebacks(page), "a cell failed:\n" + "\n\n".join(tracebacks(page))
    prompts = code_prompts(page)
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts), f"not every code cell ran: {prompts}"
    assert page.get_by_text("Error displaying widget").count() == 0


def screenshot_notebook(page, path: Path) -> None:
    """The whole notebook in one picture: the page does not scroll (the notebook panel does), so grow the
    viewport to the notebook's height."""
    height = page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.scrollHeight")
    chrome = VIEWPORT["height"] - page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.clientHeight")
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": min(height + chrome, MAX_SCREENSHOT_HEIGHT)}
    )
    page.eval_on_selector(".jp-WindowedPanel-outer", "e => e.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
