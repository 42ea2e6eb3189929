"""How long the command line takes to answer what needs no training, each in a fresh process.

Times ``kerasnet --help``, ``--version``, ``path --help``, an unknown command, a missing data file
and a ``--target`` naming no column (median of ``--repeats`` runs, default 5), beside
``python -c pass`` (the interpreter's own start, the floor), ``python -c "import click"`` (the one
third-party import the answers need), ``import click, numpy`` (what they cost while numpy was
imported too) and ``python -c "import kerasnet, keras"`` (what every answer cost when the command
line imported Keras first). Run from the repository
root::

    python benchmarks/cli_startup.py [--repeats 5] [--markdown]

Each command runs ``kerasnet_launcher.main`` (the console script's entry point) from ``src/``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
LAUNCH = "import sys; from kerasnet_launcher import main; sys.exit(main(sys.argv[1:]))"

CASES = [
    ("python -c pass (floor)", ["-c", "pass"]),
    ("python -c 'import click' (the command line's own import)", ["-c", "import click"]),
    ("python -c 'import click, numpy' (for scale: numpy, no longer imported)", ["-c", "import click, numpy"]),
    ("kerasnet --help", ["-c", LAUNCH, "--help"]),
    ("kerasnet --version", ["-c", LAUNCH, "--version"]),
    ("kerasnet path --help", ["-c", LAUNCH, "path", "--help"]),
    ("kerasnet nope (unknown command)", ["-c", LAUNCH, "nope"]),
    ("kerasnet path missing.csv --target y --out o", ["-c", LAUNCH, "path", "missing.csv", "--target", "y",
                                                      "--out", "o"]),
    ("kerasnet path d.csv --target yy --out o (no such column)", ["-c", LAUNCH, "path", "d.csv", "--target",
                                                                  "yy", "--out", "o"]),
    ("python -c 'import kerasnet, keras' (for scale)", ["-c", "import kerasnet, keras"]),
]


def _time(args, cwd, env) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run; on a loaded machine the CPU time is
    the steadier figure (the wall clock also counts the time spent waiting for a core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def machine() -> str:
    """CPU model, core count, Python and the load average (the figures depend on all four)."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load} (1, 5, 15 min)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    options = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rows = []
    with tempfile.TemporaryDirectory() as cwd:
        with open(os.path.join(cwd, "d.csv"), "w", encoding="utf-8") as fh:
            fh.write("a,b,y\n1,2,0\n3,4,1\n")
        before = machine()
        for name, args in CASES:
            _time(args, cwd, env)  # one warm-up: the files in the OS cache, as for a user's second call
            runs = [_time(args, cwd, env) for _ in range(options.repeats)]
            walls = [wall for wall, _ in runs]
            rows.append((name, statistics.median(walls), min(walls), max(walls),
                         statistics.median(cpu for _, cpu in runs)))
    after = machine()
    if options.markdown:
        print(f"Machine: {before}; at the end: load average {after.rsplit('load average ', 1)[1]}.\n")
        print(f"| command (fresh process) | wall, median of {options.repeats} (s) | min (s) | max (s) | "
              "CPU, median (s) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, median, low, high, cpu in rows:
            print(f"| `{name}` | {median:.2f} | {low:.2f} | {high:.2f} | {cpu:.2f} |")
    else:
        print(before)
        for name, median, low, high, cpu in rows:
            print(f"{name:66s} median {median:6.2f} s  (min {low:.2f}, max {high:.2f}); CPU {cpu:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
