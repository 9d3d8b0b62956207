"""report.html in a real browser: Debian's headless Chromium opens the page written from the
recorded run (tests/data/report/results.json) with no console message at all (the page has no
script, so any message is a failed load or a parse error), its DOM holds the grid with every
cell, and a screenshot shows the grid's verdict colours."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from matplotlib.colors import to_rgb

from tlsleak import cellinfo, html_report

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "report" / "results.json"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0"]

if not shutil.which(CHROMIUM):
    print("report browser tests skipped: %s is absent (Debian package chromium)" % CHROMIUM)
    pytestmark = [pytestmark, pytest.mark.skip(reason="%s is absent (Debian package chromium)"
                                               % CHROMIUM)]


def chromium(tmp_path, url, *args):
    """Run headless Chromium on url; (stdout, console lines of stderr)."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    r = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=%s" % profile, *args, url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]


@pytest.fixture(scope="module")
def doc():
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def page(doc, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(html_report.html_report(doc), encoding="utf-8")
    return path.as_uri()


def test_console_messages_are_seen_when_a_page_has_them(tmp_path):
    """The check below can fail: a page with a script error does show on the console."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>no_such_function()</script>")
    _, console = chromium(tmp_path, bad.as_uri(), "--dump-dom")
    assert any("no_such_function" in ln for ln in console)


def test_report_opens_without_console_messages_and_the_grid_in_its_dom(doc, page, tmp_path):
    dom, console = chromium(tmp_path, page, "--dump-dom")
    assert console == []
    assert 'id="grid"' in dom
    for c in doc["cells"]:
        assert 'data-cell="%s"' % c["id"] in dom


def test_screenshot_shows_the_grid_in_verdict_colours(doc, page, tmp_path):
    shot = tmp_path / "top.png"
    _, console = chromium(tmp_path, page, "--screenshot=%s" % shot, "--window-size=1200,700",
                          "--hide-scrollbars")
    assert console == []
    pixels = image.imread(str(shot))[..., :3]

    def count(colour):
        return int(np.all(np.abs(pixels - np.array(to_rgb(colour))) < 0.02, axis=-1).sum())

    # Only the grid and its legend are painted in these colours above the findings: a leak
    # cell and an ok cell are each some 60 x 20 pixels.
    leaks = sum(c["verdict"] == "leak" for c in doc["cells"])
    assert count(cellinfo.VERDICT_COLOURS["leak"]) > 600 * leaks
    assert count(cellinfo.VERDICT_COLOURS["ok"]) > 600
