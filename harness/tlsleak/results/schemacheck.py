"""The shipped JSON Schema (schema/results-2.schema.json), checked without a third-party
package: the harness runs on psutil, scipy and matplotlib alone. It reads the keywords that
schema uses, and a few more (draft 2020-12: type, const, enum, properties, required,
additionalProperties, items, min/maxItems, min/maxLength, pattern, minimum, maximum,
exclusiveMinimum/Maximum, anyOf, allOf, oneOf and $ref to a place in the schema itself) and
refuses to compile one it does not know, so that a constraint added to the schema is never
silently skipped. `format` is an annotation in 2020-12, as here.

compile(schema)(document) raises Invalid with where and what, one line."""

from __future__ import annotations

import re

_IGNORED = frozenset({"$schema", "$id", "title", "description", "format", "$defs"})
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}


_ARTICLE = {"object": "an ", "array": "an ", "integer": "an ", "null": ""}


class Invalid(ValueError):
    """The document breaks the schema: `where` (a path like cells[3].rate) and `what`."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where or 'the document'}: {what}")
        self.where, self.what = where, what


def _where(path) -> str:
    """cells[3].rate: a key from the document is shown as Python writes a string when it is
    not a plain name, so that what the message prints cannot act on a terminal."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += "[%d]" % key
        else:
            out += ("." if out else "") + (key if key.isidentifier() else repr(key)[:40])
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def compile(schema: dict):  # noqa: A001 (the schema's own word)
    """A function checking a document against `schema`; it raises Invalid at the first fault."""
    cache = {}

    def ref(pointer):
        if pointer not in cache:
            cache[pointer] = None  # a recursive reference resolves at call time
            node = schema
            for part in pointer.split("/")[1:]:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            cache[pointer] = _node(node, ref)
        return lambda v, p: cache[pointer](v, p)

    check = _node(schema, ref)
    return lambda doc: check(doc, ())


def _node(s: dict, ref):
    unknown = set(s) - _IGNORED - set(_KEYWORDS)
    if unknown:
        raise ValueError("the schema uses %s, which this checker does not read"
                         % ", ".join(sorted(unknown)))
    if _is_scalar(s):
        return _scalar(s)
    checks = [_KEYWORDS[k](s[k], s, ref) for k in _ORDER if k in s]
    checks = [c for c in checks if c is not None]
    if len(checks) == 1:  # most nodes: one check, called directly
        return checks[0]

    def check(value, path):
        for c in checks:
            c(value, path)
    return check


def _is_scalar(s) -> bool:
    """A single numeric type and a minimum, nothing else: most leaves of the schema (every
    checkpoint field), checked by one function for speed."""
    return (s.get("type") in ("integer", "number") and "minimum" in s
            and set(s) - _IGNORED <= {"type", "minimum"})


def _scalar(s):
    kind, low = s["type"], s["minimum"]
    test = _TYPES[kind]

    def check(v, p):
        if not test(v):
            raise Invalid(_where(p), "%s is not %s%s" % (_short(v), _ARTICLE.get(kind, "a "),
                                                         kind))
        if v < low:
            raise Invalid(_where(p), "%s is below %s" % (_short(v), low))
    return check


def _type(want, s, ref):
    names = [want] if isinstance(want, str) else list(want)
    tests = [_TYPES[n] for n in names]

    def check(v, p):
        if not tests[0](v) and not any(t(v) for t in tests[1:]):
            raise Invalid(_where(p), "%s is not %s" % (_short(v), " or ".join(
                _ARTICLE.get(n, "a ") + n for n in names)))
    return check


def _const(want, s, ref):
    def check(v, p):
        if v != want or type(v) is not type(want):
            raise Invalid(_where(p), "%s is not %r" % (_short(v), want))
    return check


def _enum(allowed, s, ref):
    def check(v, p):
        if not any(v == a and type(v) is type(a) for a in allowed):
            raise Invalid(_where(p), "%s is not one of %s" % (_short(v), ", ".join(allowed)))
    return check


def _required(names, s, ref):
    def check(v, p):
        if isinstance(v, dict):
            for n in names:
                if n not in v:
                    raise Invalid(_where(p), "%r is missing" % n)
    return check


def _properties(props, s, ref):
    kids = {k: _node(sub, ref) for k, sub in props.items()}
    extra = s.get("additionalProperties", True)
    more = None if extra is True else _node(extra, ref) if isinstance(extra, dict) else False

    def check(v, p):
        if not isinstance(v, dict):
            return
        for k, item in v.items():
            if k in kids:
                kids[k](item, p + (k,))
            elif more is False:
                raise Invalid(_where(p), "%r is not allowed here" % k)
            elif more is not None:
                more(item, p + (k,))
    return check


def _additional(extra, s, ref):
    return None if "properties" in s else _properties({}, s, ref)


def _items(sub, s, ref):
    kid = _node(sub, ref)

    def check(v, p):
        if isinstance(v, list):
            for i, item in enumerate(v):
                kid(item, p + (i,))
    return check


def _bound(name, test, words):
    def make(limit, s, ref):
        def check(v, p):
            if _TYPES["number"](v) and not test(v, limit):
                raise Invalid(_where(p), "%s is %s %s" % (_short(v), words, limit))
        return check
    return name, make


def _length(kind, test, words):
    def make(limit, s, ref):
        def check(v, p):
            if isinstance(v, kind) and not test(len(v), limit):
                raise Invalid(_where(p), "%s has %s %d %s" % (_short(v), words, limit,
                                                             "items" if kind is list else
                                                             "characters"))
        return check
    return make


def _pattern(text, s, ref):
    rx = re.compile(text)

    def check(v, p):
        if isinstance(v, str) and not rx.search(v):
            raise Invalid(_where(p), "%s does not match %s" % (_short(v), text))
    return check


def _any_of(subs, s, ref):
    kids = [_node(sub, ref) for sub in subs]

    def check(v, p):
        faults = []
        for kid in kids:
            try:
                kid(v, p)
                return
            except Invalid as e:
                faults.append(e)
        # The branch that got deepest says best what is wrong (a rate with a bad field, not
        # "is not null").
        raise max(faults, key=lambda e: len(e.where))
    return check


def _all_of(subs, s, ref):
    kids = [_node(sub, ref) for sub in subs]

    def check(v, p):
        for kid in kids:
            kid(v, p)
    return check


def _one_of(subs, s, ref):
    kids, any_of = [_node(sub, ref) for sub in subs], _any_of(subs, s, ref)

    def check(v, p):
        any_of(v, p)  # at least one, or the best-placed fault
        passed = 0
        for kid in kids:
            try:
                kid(v, p)
                passed += 1
            except Invalid:
                pass
        if passed > 1:
            raise Invalid(_where(p), "%s matches %d of the choices, not one" % (_short(v),
                                                                              passed))
    return check


def _ref(target, s, ref):
    if not target.startswith("#/"):
        raise ValueError("the schema refers to %s: only a place in itself (#/...) is read"
                         % target)
    return ref(target)


_KEYWORDS = dict([
    ("type", _type), ("const", _const), ("enum", _enum), ("$ref", _ref), ("anyOf", _any_of),
    ("required", _required), ("properties", _properties), ("additionalProperties", _additional),
    ("items", _items), ("pattern", _pattern),
    ("minItems", _length(list, lambda n, k: n >= k, "fewer than")),
    ("maxItems", _length(list, lambda n, k: n <= k, "more than")),
    ("minLength", _length(str, lambda n, k: n >= k, "fewer than")),
    ("maxLength", _length(str, lambda n, k: n <= k, "more than")),
    ("allOf", _all_of), ("oneOf", _one_of),
    _bound("minimum", lambda v, k: v >= k, "below"),
    _bound("maximum", lambda v, k: v <= k, "above"),
    _bound("exclusiveMinimum", lambda v, k: v > k, "not above"),
    _bound("exclusiveMaximum", lambda v, k: v < k, "not below"),
])
# Type first, so that a value of the wrong kind is named as such, then the rest.
_ORDER = ("type", "const", "enum", "$ref", "anyOf", "allOf", "oneOf", "required",
          "properties", "additionalProperties", "items", "minItems", "maxItems", "minLength",
          "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
