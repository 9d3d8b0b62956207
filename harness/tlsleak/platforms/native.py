"""The programs built for and run on the machine the harness runs on."""
from contextlib import nullcontext

from tlsleak.families.recipe import HOST

NAME = "native"
BUILD_DIR = None  # build.default_build_dir(): build/ or $TLSLEAK_BUILD_DIR
SETUP_PROFILE = None
MAX_JOBS = None
TOOLCHAIN = HOST


def check():
    pass


def target(tgt):
    return tgt


def running(tgt):
    return nullcontext()


def describe_exit(returncode, end):
    return None  # the host's own reading (host.describe_exit)


def cmake_args():
    return []
