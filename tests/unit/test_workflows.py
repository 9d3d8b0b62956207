"""The GitHub Actions workflows (and the action, where there is one) are valid, checked with
@action-validator/cli (https://github.com/mpalmer/action-validator), installed by set-up from npm."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / ".cache" / "npm" / "node_modules" / ".bin" / "action-validator"
FILES = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted(ROOT.glob("action.yml"))

needs_validator = pytest.mark.skipif(not VALIDATOR.exists(),
                                     reason="action-validator not installed (ci/setup.sh test "
                                            "installs it where npm is available)")


def _validate(path):
    return subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.integration
@needs_validator
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_is_valid(path):
    r = _validate(path)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.integration
@needs_validator
def test_validator_rejects_a_broken_workflow(tmp_path):
    """The check above can fail: a job without runs-on is refused."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("name: bad\non: [push]\njobs:\n  x:\n    steps:\n      - run: true\n")
    assert _validate(bad).returncode != 0
