"""What explore writes (harness/tlsleak/explore/output.py): the findings so far, replaced whole
after every point, marked running, then finished or interrupted; and an output folder holding
another explore run's findings is refused unless --overwrite."""
import json

import pytest

from tlsleak import UsageError, configs
from tlsleak.explore import output, search, space
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit

CFG = configs.Config(id="cfg", name="system", version="", mode="system", available=True,
                     reason="", bin_dir="", target="", preload="", library="", origin="",
                     expect="system", label="cfg")


def _search(leaking, **kw):
    p = space.simplest()
    s = search.Search(seed=1, dims=("tls",), design=[p], **kw)
    runs = [search.Run("cfg", "cfg", "leak" if leaking else "ok", 9000.0 if leaking else 0.0,
                       "")]
    s.points = {space.key(p): search.Point(p, runs, "design")}
    if leaking:
        s.unminimised.append(p)
    return s


def test_the_findings_so_far_are_saved_whole_and_marked_running(tmp_path):
    output.save(tmp_path, _search(True), Settings(), [CFG])
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert doc["state"] == "running" and len(doc["findings"]) == 1
    assert "still running" in (tmp_path / "findings.md").read_text().splitlines()[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json", "findings.md"]


def test_an_interrupted_search_is_written_whole_and_marked_interrupted(tmp_path):
    s = _search(True, interrupted=True, stopped="interrupted")
    [d] = output.write(tmp_path, s, Settings(), [CFG])
    assert json.loads((tmp_path / "findings.json").read_text())["state"] == "interrupted"
    assert (tmp_path / d["name"] / "issue.md").is_file() and d["repro"].endswith(".c")
    s = _search(False)
    output.write(tmp_path / "done", s, Settings(), [CFG])
    assert json.loads((tmp_path / "done" / "findings.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("name", output.OUTPUTS)
def test_a_folder_holding_another_explore_run_s_findings_is_refused(tmp_path, name):
    (tmp_path / name).write_text("{}")
    with pytest.raises(UsageError, match="another run's " + name):
        output.claim(tmp_path)
    assert output.claim(tmp_path, overwrite=True) == tmp_path
    assert output.claim(tmp_path / "new") == tmp_path / "new"
