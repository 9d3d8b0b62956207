#!/bin/sh
# rate.sh PROGRAM ARGS...: run the repro (leak.c's program, with LD_PRELOAD or a linked
# allocator as the caller set it up), print its "threads rss" lines and, last, the growth in
# bytes per thread between the first sample at or past 20 % of the threads and the last one,
# and the program's exit status. No tlsleak involved.
out=$("$@"); rc=$?
printf '%s\n' "$out"
printf '%s\n' "$out" | awk -v n="$2" -v rc="$rc" '
    $1 ~ /^[0-9]+$/ { if ($1 >= 0.2 * n && a == "") { a = $1; ra = $2 } b = $1; rb = $2 }
    END { if (a != "" && b > a) printf "rate %.0f B/thread over threads %d..%d, exit %d\n", (rb - ra) / (b - a), a, b, rc
          else printf "rate none (too few samples), exit %d\n", rc }'
exit "$rc"
