"""Growth per thread of Windows programs under Wine, straight from their checkpoints (no
harness run): the Theil-Sen slope of rss and commit over the cp lines after a 20 % warm-up,
and threads per second. Made the table in results/wine/README.md.

    PYTHONPATH=harness python3 results/wine/measure.py SCENARIO[,SCENARIO...] THREADS [ARGS...]
"""
import os
import subprocess
import sys
from pathlib import Path

from scipy.stats import theilslopes

from tlsleak import checkpoints

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ["system", "mimalloc-2.0.9-static", "mimalloc-2.0.9-dynamic"]
WINE = "/usr/lib/wine/"


def main(argv):
    env = dict(os.environ, WINEPREFIX=str(ROOT / ".cache" / "wine"), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=")
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Wine's services must not inherit our pipes (see tests/integration/test_wine.py).
    subprocess.run([WINE + "wineserver", "-p"], env=env, **quiet)
    subprocess.run([WINE + "wine64", "wineboot"], env=env, **quiet)
    threads = int(argv[1])
    for scenario in argv[0].split(","):
        for variant in VARIANTS:
            exe = ROOT / "build-wine" / "bin" / variant / (scenario + ".exe")
            r = subprocess.run([WINE + "wine64", str(exe), "--threads", str(threads), *argv[2:]],
                               capture_output=True, text=True, env=env, timeout=900)
            log = checkpoints.CheckpointLog.from_lines(r.stdout.splitlines())
            cps = log.checkpoints[len(log.checkpoints) // 5:]
            slopes = []
            for name in ("rss", "commit"):
                x, y = checkpoints.series(cps, name)
                slopes.append(f"{name} {theilslopes(y, x)[0]:8.0f}")
            seconds = log.checkpoints[-1]["t_ns"] / 1e9
            print(f"{scenario:20} {variant:24} {' '.join(slopes)} B/thread "
                  f"{threads / seconds:6.0f} thr/s thread_api={log.start['thread_api']} "
                  f"owns={log.alloc['owns']} end={log.end and log.end['status']} rc={r.returncode}",
                  flush=True)
    subprocess.run([WINE + "wineserver", "-k"], env=env, **quiet)


if __name__ == "__main__":
    main(sys.argv[1:])
