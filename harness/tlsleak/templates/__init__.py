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
def _parsed(name):
    return parse((HERE / name).read_text(encoding="utf-8"))


def parse(text):
    """The template as a list of text pieces and blocks (terms, pieces if they hold, pieces if
    not), nested; ValueError for a broken directive."""
    top = []
    stack = [(top, None)]  # (the list being filled, the block it belongs to)
    for line in text.splitlines(keepends=True):
        word, _, rest = line.strip().partition(" ")
        if word == "@@if":
            if not rest.split():
                raise ValueError("@@if without a condition")
            block = (tuple(rest.split()), [], [])
            stack[-1][0].append(block)
            stack.append((block[1], block))
        elif word == "@@else" and len(stack) > 1 and stack[-1][0] is stack[-1][1][1]:
            stack[-1] = (stack[-1][1][2], stack[-1][1])
        elif word == "@@end" and len(stack) > 1:
            stack.pop()
        elif word.startswith("@@"):
            raise ValueError(f"{word} out of place (an @@else or @@end without its @@if, or "
                             f"an unknown directive)")
        elif stack[-1][0] and isinstance(stack[-1][0][-1], str):
            stack[-1][0][-1] += line  # a run of plain lines is one piece
        else:
            stack[-1][0].append(line)
    if len(stack) > 1:
        raise ValueError("@@if without its @@end")
    return top


def _holds(terms, facts):
    return all(not facts[t[1:]] if t.startswith("!") else bool(facts[t]) for t in terms)


def _keep(items, facts, out):
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            terms, then, other = item
            _keep(then if _holds(terms, facts) else other, facts, out)
    return out


def select(text, facts):
    """The lines of `text` its @@if/@@else/@@end directives keep for these facts."""
    return "".join(_keep(parse(text), facts, []))


def render(name, facts, values):
    """Template file `name` with the lines `facts` keep and `values` substituted."""
    return string.Template("".join(_keep(_parsed(name), facts, []))).substitute(values)
