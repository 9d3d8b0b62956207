"""The `tlsleak` console script of an installed package: the same start as `python -m
tlsleak` (__main__.py: the interrupts held while it loads, the warden, the exit code)."""
import runpy


def main():
    runpy.run_module("tlsleak", run_name="__main__", alter_sys=True)
