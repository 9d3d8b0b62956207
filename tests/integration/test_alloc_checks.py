"""The in-process checks of repro/common/alloc/ (one file per allocator): a program the
configuration's allocator really serves is judged served by it, and the same program whose
malloc comes from somewhere else, with that allocator still loaded, is an error ("allocator
check failed"), never a measurement of the wrong allocator. The other malloc is the C
library's, put first in the lookup order by preloading libc itself (ld.so(8): LD_PRELOAD'ed
objects are searched before the program's own dependencies)."""
import re
from pathlib import Path

import pytest

from tlsleak import configs, pipeline, settings
from tlsleak.build import Build

pytestmark = pytest.mark.integration

# The families whose check this file covers (beside the matrix's own served-by test for all).
CHECKED = ("scudo",)


def _configurations():
    manifest = Build().configure()
    return configs.label_all([configs.Config.from_manifest(c) for c in manifest["configs"]])


def _control_flat(conf, **changes):
    fake = configs.Config(**{**conf.__dict__, **changes})
    cell = pipeline.Cell(id=f"control_flat-{conf.label}", scenario="control_flat",
                         role="control-flat", config=fake,
                         argv=[f"{conf.bin_dir}/control_flat", "--threads", "2000"],
                         expect=conf.expect)
    return pipeline.judge_cell(cell, settings.make(threads=2000))


@pytest.mark.parametrize("family", CHECKED)
def test_a_program_the_allocator_serves_is_judged_served_by_it(family):
    confs = [c for c in _configurations() if c.name == family and c.available]
    if not confs:
        pytest.skip(f"no {family} configuration available here")
    Build().build([c.target for c in confs if c.target])
    for conf in confs:
        res = _control_flat(conf)
        assert res["verdict"] == "ok", (conf.id, res["reason"])
        assert res["observed_allocator"]["name"] == family
        assert res["observed_allocator"]["owns"] is True


@pytest.mark.parametrize("family", CHECKED)
def test_the_allocator_loaded_but_not_serving_malloc_is_an_error(family):
    confs = [c for c in _configurations()
             if c.name == family and c.available and c.mode == "dynamic"]
    if not confs:
        pytest.skip(f"no {family}:dynamic configuration available here")
    conf = confs[0]
    Build().build([conf.target])
    # The cell preloads what an override cell would: here the C library, the file this very
    # Python process runs on.
    libc = re.search(r"(/\S*/libc\.so\.6)$", Path("/proc/self/maps").read_text(), re.M)
    res = _control_flat(conf, mode="override", preload=libc.group(1))
    assert res["verdict"] == "error", res["reason"]
    assert "allocator check failed" in res["reason"]
    assert "does not own a fresh malloc block" in res["reason"], res["reason"]
