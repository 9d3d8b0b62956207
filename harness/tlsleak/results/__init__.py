"""The results document (docs/RESULTS.md): the one model every reader and writer of results
uses. `record` builds it from a run, `model` says what it means as a whole (counts, controls,
exit code, target), `store` reads it back checked against the shipped schema (`schemacheck`)
and writes it, `outdir` is the folder a command writes it into. The views (table, junit,
summary_md, html_report, plots, show) read what these give them.

The names below are the package's interface: `from tlsleak import results`, then
`results.load(path)`, `results.exit_code(...)`."""

from tlsleak.results.model import (SCHEMA_ID, SCHEMA_PATH, check_controls, exit_code,
                                   summary_counts, target_of, unjudged)
from tlsleak.results.outdir import (OUTPUTS, check_out_dir, claim_out_dir, claim_views,
                                    history_paths, view_paths, write_outputs)
from tlsleak.results.record import cell_record, document, exit_record, stamp_provenance
from tlsleak.results.store import dump, load, loads, results_path, validate

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "check_controls", "exit_code", "summary_counts",
           "target_of", "unjudged", "OUTPUTS", "check_out_dir", "claim_out_dir", "claim_views",
           "history_paths", "view_paths", "write_outputs", "cell_record", "document", "exit_record",
           "stamp_provenance", "dump", "load", "loads", "results_path", "validate"]
