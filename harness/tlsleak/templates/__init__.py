"""Text files the harness writes from a template: the files in this folder (package data).

A template is the file as written, with two additions:
  - `$name` (or `${name}`) is replaced by a value (string.Template; `$$` is a `$`);
  - lines `@@if COND`, `@@else` and `@@end` keep or drop the lines between them (they nest),
    where COND is one or more fact names, all of which must be true; `!name` is a fact that
    must be false. The directive lines themselves are never written.
Which facts and values a template needs is its caller's business (explore/emit.py,
explore/promote.py); a fact or value it does not give is a KeyError, never a silent blank."""
import string
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def _text(name):
    return (HERE / name).read_text(encoding="utf-8")


def _holds(cond, facts):
    terms = cond.split()
    if not terms:
        raise ValueError("@@if without a condition")
    return all(not facts[t[1:]] if t.startswith("!") else bool(facts[t]) for t in terms)


def select(text, facts):
    """The lines of `text` its @@if/@@else/@@end directives keep for these facts."""
    out, stack = [], []  # stack: (this branch is kept, the enclosing one is kept)
    for line in text.splitlines(keepends=True):
        word, _, rest = line.strip().partition(" ")
        keeping = not stack or stack[-1][0]
        if word in ("@@else", "@@end") and not stack:
            raise ValueError(f"{word} without its @@if")
        if word == "@@if":
            stack.append((keeping and _holds(rest, facts), keeping))
        elif word == "@@else":
            kept, outer = stack.pop()
            stack.append((outer and not kept, outer))
        elif word == "@@end":
            stack.pop()
        elif word.startswith("@@"):
            raise ValueError(f"unknown template directive {word}")
        elif keeping:
            out.append(line)
    if stack:
        raise ValueError("@@if without its @@end")
    return "".join(out)


def render(name, facts, values):
    """Template file `name` with the lines `facts` keep and `values` substituted."""
    return string.Template(select(_text(name), facts)).substitute(values)
