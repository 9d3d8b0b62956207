"""One self-contained HTML page of a run: the verdict grid, then each leaking or surprising
cell's plot beside its flat control's, its provenance, the exact command that reproduces it,
and a text ready to paste into an upstream issue.

Self-contained: inline CSS, plots as base64 PNG data URIs, no script and no external URL, so
the file can be attached to a CI run or mailed and opens anywhere.
"""

from __future__ import annotations

import base64
import html

from tlsleak import cellinfo, plots, table
from tlsleak.escape import md_code, md_fence, md_text, terminal

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1400px;color:#222;
padding:0 1em}
h1{font-size:1.4em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
.prov,.settings{color:#555;font-size:.9em}
table.grid{border-collapse:separate;border-spacing:2px;font-size:12px}
table.grid th{font-weight:normal;text-align:right;padding:2px 6px;white-space:nowrap}
table.grid thead th{text-align:left;writing-mode:vertical-rl;transform:rotate(180deg)}
table.grid td{min-width:4.5em;height:1.7em;text-align:center;border-radius:3px}
table.grid td a{color:inherit;text-decoration:none;display:block}
td.missing{background:#f0f0f0}
.legend span{display:inline-block;padding:1px 8px;margin-right:4px;border-radius:3px;font-size:12px}
article.cell{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1.2em 0}
.pair{display:flex;flex-wrap:wrap;gap:1em}
.pair figure{flex:1 1 600px;margin:0}
.pair img{width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table.kv td{padding:1px 8px;vertical-align:top}table.kv td:first-child{color:#555}
.badge{padding:1px 8px;border-radius:3px;font-weight:bold}
.alert{background:#fde0dd;border:1px solid #d7191c;padding:.4em .8em;font-weight:bold}
"""


def _h(text) -> str:
    """Text from a program or a results file, on one line of the page: controls shown as
    \\xNN, markup escaped."""
    return html.escape(terminal(text))


def _style_for(verdict) -> str:
    dark = verdict in cellinfo.DARK_VERDICTS
    return "background:%s;color:%s" % (cellinfo.VERDICT_COLOURS.get(verdict, "#fff"),
                                       "#fff" if dark else "#000")


def anchor(cell: dict) -> str:
    return "cell-" + plots.safe_name(cell.get("id", "?"))


def _badge(verdict) -> str:
    return '<span class="badge" style="%s">%s</span>' % (_style_for(verdict), _h(str(verdict)))


# ---------------------------------------------------------------------------------------------
# the grid


def grid_html(doc: dict) -> str:
    """The verdict grid as a table: scenarios x configurations, one <td data-cell=ID> per cell,
    interesting cells linking to their section."""
    scenarios, configs, where = plots.grid_axes(doc)
    shown = {id(c) for c in cellinfo.interesting_cells(doc)}
    head = "".join("<th scope=col>%s</th>" % _h(k) for k in configs)
    rows = []
    for s in scenarios:
        tds = []
        for k in configs:
            c = where.get((s, k))
            if c is None:
                tds.append('<td class="missing" title="not run"></td>')
                continue
            text = _h(plots.grid_label(c) + ("!" if cellinfo.control_missed(c) else ""))
            if id(c) in shown:
                text = '<a href="#%s">%s</a>' % (anchor(c), text or "&#8599;")
            tds.append('<td data-cell="%s" data-verdict="%s" style="%s" title="%s">%s</td>' % (
                _h(c.get("id", "?")), _h(str(c.get("verdict"))),
                _style_for(c.get("verdict")),
                _h("%s: %s: %s" % (c.get("id"), c.get("verdict"), c.get("reason", ""))),
                text))
        rows.append("<tr><th scope=row>%s</th>%s</tr>" % (_h(s), "".join(tds)))
    legend = "".join('<span style="%s">%s</span>' % (_style_for(v), v)
                     for v in cellinfo.VERDICT_COLOURS)
    return ('<table id="grid" class="grid"><thead><tr><th></th>%s</tr></thead><tbody>%s'
            '</tbody></table><p class="legend">%s <small>leaking cells show bytes per thread; '
            '! = a control that did not show what it must; hover a cell for its reason, click a '
            'finding for its plots</small></p>' % (head, "".join(rows), legend))


# ---------------------------------------------------------------------------------------------
# a finding


def _img(data: bytes, alt: str) -> str:
    return '<img alt="%s" src="data:image/png;base64,%s">' % (
        _h(alt), base64.b64encode(data).decode("ascii"))


def _figure(doc: dict, cell: dict, caption: str, cache: dict) -> str:
    key = cell.get("id")
    if key not in cache:
        cache[key] = plots.figure_bytes(plots.cell_figure(doc, cell), "png")
    return "<figure>%s<figcaption>%s</figcaption></figure>" % (
        _img(cache[key], "plot of " + str(key)), caption)


def issue_text(doc: dict, cell: dict) -> str:
    """A Markdown text for an upstream bug report: what grows, how fast, under what, and the
    command that shows it."""
    a = cell.get("allocator") or {}
    host, build = doc.get("host") or {}, doc.get("build") or {}
    flat = cellinfo.flat_control(doc, cell)
    th = (cell.get("threads") or {}).get("finished")
    lines = ["**%s under %s: %s**" % (md_text(cell["scenario"]), md_text(a["id"]),
                                      cell["verdict"]), "",
             "%s, measured over %s threads created and joined." % (md_text(cell["reason"]), th)]
    if flat is not None:
        lines.append("The negative control under the same configuration (%s, thread churn "
                     "that must not leak) is %s." % (md_code(flat["id"]), flat["verdict"]))
    shown = ("library", "observed") + (("exit",) if cell["verdict"] in
                                         ("crash", "timeout", "error") else ())
    lines += ["", "- program: tlsleak's scenario %s (repro/scenarios/ in tlsleak)"
              % md_code(cell["scenario"]),
              "- allocator: %s (%s)" % (md_text(a["id"]), md_text(a["origin"] or "?"))]
    lines += ["- %s: %s" % (k, md_text(v)) for k, v in cellinfo.cell_provenance(cell)
              if k in shown]
    lines += ["- OS: %s" % md_text("%s, kernel %s, %s, %s" % (
                  host.get("os"), host.get("kernel"), host.get("machine"), host.get("libc"))),
              "- compiler: %s, flags %s" % (md_text(build.get("c_compiler")),
                                            md_code(build.get("c_flags"))),
              "- found with tlsleak %s" % md_text((doc.get("harness") or {}).get("version")),
              "", "Reproduce:", "", md_fence(cellinfo.command_line(cell), "sh")]
    return "\n".join(lines)


def finding_html(doc: dict, cell: dict, cache: dict) -> str:
    """One interesting cell: verdict and reason, its plot beside its flat control's, what ran,
    and how to run it again."""
    flat = cellinfo.flat_control(doc, cell)
    pair = _figure(doc, cell, "this cell: %s" % _h(cell.get("id", "?")), cache)
    if flat is not None:
        pair += _figure(doc, flat, "its control: %s (%s)" % (
            _h(flat.get("id", "?")), _h(str(flat.get("verdict")))), cache)
    kv = "".join("<tr><td>%s</td><td>%s</td></tr>" % (_h(k), _h(str(v)))
                 for k, v in cellinfo.cell_provenance(cell))
    grew = cell.get("attribution") or []
    return ('<article class="cell" id="%s"><h3>%s %s</h3><p>%s</p>%s'
            '<div class="pair">%s</div>%s<h4>Provenance</h4><table class="kv">%s</table>'
            '<h4>Reproduce</h4><p>The program as the harness ran it:</p><pre>%s</pre>'
            '<p>Through tlsleak, with this run\'s settings:</p><pre>%s</pre>'
            '<details><summary>Text for an upstream issue (Markdown)</summary><pre>%s</pre>'
            '</details></article>') % (
        anchor(cell), _h(cell.get("id", "?")), _badge(cell.get("verdict")),
        _h(cell.get("reason", "")),
        "<p>Also grew: %s</p>" % _h(", ".join(grew)) if grew else "", pair,
        subjects_html(cell), kv,
        _h(cellinfo.command_line(cell)), _h(cellinfo.tlsleak_command(doc, cell)),
        html.escape(issue_text(doc, cell)))


def subjects_html(cell: dict) -> str:
    """An --exec cell's processes: each that finished threads judged on its own."""
    rows = cellinfo.subject_rows(cell)
    if not rows:
        return ""
    head = "".join("<th>%s</th>" % _h(h) for h in cellinfo.SUBJECT_COLUMNS)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % _h(v) for v in r) for r in rows)
    return '<h4>Processes</h4><table class="kv"><tr>%s</tr>%s</table>' % (head, body)


def exec_section(doc: dict) -> str:
    """The processes of every --exec cell that is not a finding (those show them above)."""
    shown = {id(c) for c in cellinfo.interesting_cells(doc)}
    parts = ['<article class="cell"><h3>%s %s</h3>%s</article>'
             % (_h(c.get("id", "?")), _badge(c.get("verdict")), subjects_html(c))
             for c in doc.get("cells") or [] if c.get("subjects") and id(c) not in shown]
    return '<section id="processes"><h2>Processes</h2>%s</section>' % "".join(parts) \
        if parts else ""


# ---------------------------------------------------------------------------------------------
# the page


def status_html(doc: dict) -> str:
    """Controls, the baseline and what changed against it, configurations not run."""
    passed, sentence, failures = cellinfo.controls_status(doc)
    parts = ['<p id="controls"><b>Controls.</b> %s</p>' % _h(sentence)]
    if failures:
        parts.append("<ul>%s</ul>" % "".join("<li>%s</li>" % _h(f) for f in failures))
    changes = cellinfo.baseline_changes(doc)
    if changes:
        items = "".join("<li>%s: %s</li>" % (_h(words), _h(", ".join(ids) or "none"))
                        for words, ids in changes)
        parts.append('<p id="baseline"><b>Baseline</b> <code>%s</code>:</p><ul>%s</ul>'
                     % (_h(doc["baseline"].get("file", "?")), items))
    else:
        parts.append('<p id="baseline"><b>No baseline</b>: every finding counts.</p>')
    missing = doc.get("unavailable") or []
    if missing:
        parts.append("<p><b>Not run</b> (unavailable): %s</p>" % _h("; ".join(
            "%s: %s" % (u.get("config"), u.get("reason", "")) for u in missing)))
    return "".join(parts)


def html_report(doc: dict, pngs: dict | None = None) -> str:
    """The whole page as one string. `pngs`: {cell id: PNG bytes} of cell plots already drawn
    (plots.rendered_pngs); the others are drawn here."""
    cache: dict = dict(pngs or {})
    found = cellinfo.interesting_cells(doc)
    title = cellinfo.headline(doc)
    findings = "".join(finding_html(doc, c, cache) for c in found) or \
        "<p>Nothing leaked, crashed or surprised.</p>"
    stopped = '<p id="interrupted" class="alert">%s.</p>' % _h(table.interrupted_text(doc)) \
        if doc.get("interrupted") else ""
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body>'
            '<header><h1>%s</h1>%s<p class="settings">%s. %s.</p><p class="prov">%s</p></header>'
            '<section id="verdicts"><h2>Verdicts</h2>%s%s</section>'
            '<section id="findings"><h2>Findings and surprises (%d)</h2>%s</section>%s'
            '<footer class="prov"><p>command: <code>%s</code></p></footer></body></html>\n') % (
        _h(title), CSS, _h(title), stopped, _h(cellinfo.counts_text(doc)),
        _h(cellinfo.settings_text(doc)), _h(cellinfo.provenance_line(doc)),
        grid_html(doc), status_html(doc), len(found), findings, exec_section(doc),
        _h(" ".join(doc.get("command") or [])))
