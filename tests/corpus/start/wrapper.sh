#!/bin/sh
# A wrapper as test suites write them: it runs the program it is given without `exec` (the
# shell stays the parent), says how it went and passes the program's status on.
"$@"
status=$?
echo "wrapper: $1 exited with status $status"
exit "$status"
