"""What pyproject.toml cannot say: the installed package carries the C sources its programs
are built from (tlsleak/_project/: the files of SOURCES below), and setuptools' own scratch
files go under .cache/ rather than build/, which is the CMake build tree of a checkout."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# What CMake reads to build the programs (CMakeLists.txt's includes and subdirectories), and
# the Wine prefix script of `--platform wine`.
SOURCES = ["CMakeLists.txt", "cmake", "allocators", "repro", "probe", "include",
           "ci/wine-prefix.sh"]
SCRATCH = os.path.join(".cache", "setuptools")


class BuildWithSources(build_py):
    """build_py, plus the project's C sources as package data under tlsleak/_project/."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install finds the checkout
            return
        target = os.path.join(self.build_lib, "tlsleak", "_project")
        shutil.rmtree(target, ignore_errors=True)
        junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.o", "*.so", "*.a", ".*")
        for name in SOURCES:
            src, dst = os.path.join(HERE, name), os.path.join(target, name)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=junk)
            else:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)


os.makedirs(os.path.join(HERE, SCRATCH), exist_ok=True)
setup(cmdclass={"build_py": BuildWithSources},
      options={"build": {"build_base": SCRATCH}, "egg_info": {"egg_base": SCRATCH}})
