"""argparse types and the options read from defaults.PARAMS, shared by every command."""
import argparse
import math
import re

from tlsleak.defaults import BY_NAME


def int_in(lo, hi):
    def parse(text):
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer")
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({lo}..{hi})")
        return value
    return parse


def float_in(lo, hi, lo_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number")
        if not (lo < value if lo_open else lo <= value) or not value <= hi or value != value:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({lo}..{hi})")
        return value
    return parse


def size(text):
    """A byte count with an optional K, M, G or T suffix (powers of 1024)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t[-1:] in units else (t, "")
    try:
        real = float(num) * units.get(unit, 1)
        if not math.isfinite(real) or real >= 1 << 63:  # inf, 1e309, nan: no size
            raise ValueError
        value = int(real)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size (like 512M or 4G)")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be positive")
    return value


DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def duration(text):
    """10m, 90s, 1h, or plain seconds: seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration (like 10m, 90s or 1h)")
    return float(m.group(1)) * DURATION_UNITS[m.group(2)]


def duration_in(lo, hi):
    def parse(text):
        value = duration(text)
        if not lo < value <= hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range (up to {hi:g} s)")
        return value
    return parse


def duration_text(seconds):
    """600 -> '10m', 90 -> '90s', 7200 -> '2h': the largest unit that divides it."""
    for unit in ("h", "m"):
        if seconds % DURATION_UNITS[unit] == 0:
            return f"{seconds / DURATION_UNITS[unit]:g}{unit}"
    return f"{seconds:g}s"


def add_param(parser, name, **overrides):
    """Add the option of defaults.PARAMS[name], with its type, range, default and help."""
    p = BY_NAME[name]
    kw = {"dest": p.name, "default": p.default}
    shown = "" if p.default in (0, "") else f" (default {p.default:g})" \
        if isinstance(p.default, float) else f" (default {p.default})"
    if p.kind == "flag":
        kw.update(action="store_false" if p.default else "store_true", help=p.help)
    elif p.kind == "choice":
        kw.update(choices=p.choices, help=p.help + shown)
    elif p.kind == "duration":
        kw.update(type=duration_in(p.lo, p.hi), metavar="DURATION",
                  help=f"{p.help} (default {duration_text(p.default)})")
    elif p.kind == "size":
        kw.update(type=size, metavar="SIZE", help=p.help)
    elif p.kind == "int":
        kw.update(type=int_in(int(p.lo), int(p.hi)), help=p.help + shown)
    else:
        kw.update(type=float_in(p.lo, p.hi, p.lo_open), help=p.help + shown)
    if p.unit == "s" and p.kind == "float":
        kw["metavar"] = "SECONDS"
    if p.metavar:
        kw["metavar"] = p.metavar
    kw.update(overrides)
    return parser.add_argument(p.option, **kw)
