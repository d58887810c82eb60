"""Measure mtlslint against the parse floor, across tree sizes, cold and cached, and Checkov.

A script, not a test: timings on a shared machine are noisy, so every figure is the median of
``--repeat`` runs, each in a fresh process (imports count), with the floors measured in the same
run; figures compared with each other (floor, one job, all jobs; Checkov and mtlslint) have their
runs taken in turns, so that a slow minute of the machine falls on both. The corpus comes from
``benchmarks/generate_corpus.py`` (deterministic), written into a temporary folder (``--work``
keeps it).

What it reports, as Markdown on standard output:

1. the machine;
2. one-file start-up: ``mtlslint scan nginx.conf`` wall time, cold and with a warm cache, and the
   top entries of ``python -X importtime`` for that run;
3. the configuration corpus (nginx, Envoy, Istio, Kubernetes in equal parts) at each size:
   mtlslint with one job and with ``--jobs`` (default: the CPUs), without cache, then an unchanged
   re-scan with the cache; against the floor: reading every file and parsing the YAML/JSON ones
   with libyaml's C loader (``yaml.load_all(text, Loader=CSafeLoader)``);
4. the Terraform corpus at each size against the HCL parser alone (tree-sitter HCL, the parser
   mtlslint uses), and python-hcl2 when it is installed (``--hcl2-max`` files at most: it is slow);
5. with ``--checkov``: Checkov (installed on first use into its own virtual environment under the
   work folder, never a dependency of mtlslint) against mtlslint on a Terraform + Kubernetes
   corpus, and the ratio.

For every run: wall time, files/s, MB/s and peak memory, the sum of the proportional set size
(PSS) of the process and its workers, sampled every 50 ms (RSS would count the pages forked
workers share with their parent twice). Memory is sampled in a run of its own, the first, which
also warms the file cache: reading ``/proc/PID/smaps_rollup`` holds the process's memory map
lock, which stalls its ``fork()`` and page faults, and the sampler takes CPU from it, about 7 %
of a 0.35 s scan in two processes on two CPUs.

    .venv/bin/python benchmarks/run_benchmarks.py                    # 1k, 5k, 10k; ~10 min
    .venv/bin/python benchmarks/run_benchmarks.py --sizes 1000 --repeat 1   # a quick look
    .venv/bin/python benchmarks/run_benchmarks.py --checkov          # adds the Checkov comparison
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_corpus import CONFIG_FORMATS, generate  # noqa: E402

NOW = "2026-06-01T00:00:00Z"
PYTHON = sys.executable
# Measured runs may write bytecode, as an installed package has it: with PYTHONDONTWRITEBYTECODE
# (set on some CI machines) every run would compile every module again.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MTLSLINT = [PYTHON, "-m", "mtlslint"]

YAML_FLOOR = textwrap.dedent(
    """\
    import os, sys, yaml
    files = size = 0
    for folder, _, names in os.walk(sys.argv[1]):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
            files += 1
            size += len(data)
            if name.endswith((".yaml", ".yml", ".json")):
                for _ in yaml.load_all(data.decode(), Loader=yaml.CSafeLoader):
                    pass
    print(files, size)
    """
)

HCL_FLOOR = textwrap.dedent(
    """\
    import os, sys, tree_sitter, tree_sitter_hcl
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    files = 0
    for folder, _, names in os.walk(sys.argv[1]):
        for name in names:
            if name.endswith((".tf", ".tfvars")):
                with open(os.path.join(folder, name), "rb") as handle:
                    parser.parse(handle.read())
                files += 1
    print(files)
    """
)

HCL2_FLOOR = textwrap.dedent(
    """\
    import os, sys, hcl2
    files = 0
    for folder, _, names in os.walk(sys.argv[1]):
        for name in names:
            if name.endswith((".tf", ".tfvars")):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    hcl2.loads(handle.read())
                files += 1
    print(files)
    """
)


# --- measuring one command ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    peak_mb: float  # peak PSS of the process tree


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from ``/proc/PID/task/TID/children`` (cheap enough to sample
    often without stealing much time from the run being measured)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="utf-8") as handle:
                    stack.extend(int(child) for child in handle.read().split())
            except OSError:
                continue
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(command: Sequence[str], cwd: Path | None = None, *, memory: bool = True) -> Run:
    """Wall time and, with ``memory``, peak memory of ``command`` (stdout discarded; a failure
    stops the script)."""
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss_kb(p) for p in _tree(process.pid)))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    if memory:
        sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return Run(wall, peak / 1024)


def median_run(command: Sequence[str], repeat: int, cwd: Path | None = None) -> Run:
    """The median wall time of ``repeat`` runs, and the peak memory of one run before them
    (which also warms the file cache and writes bytecode)."""
    return median_runs([command], repeat, cwd)[0]


def median_runs(
    commands: Sequence[Sequence[str]], repeat: int, cwd: Path | None = None
) -> list[Run]:
    """:func:`median_run` of each command, their timed runs taken in turn (a, b, a, b, …): figures
    that are compared with each other see the same moments of a shared machine."""
    peaks = [measure(command, cwd).peak_mb for command in commands]
    walls: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for command, found in zip(commands, walls, strict=True):
            found.append(measure(command, cwd, memory=False).wall)
    return [Run(statistics.median(w), peak) for w, peak in zip(walls, peaks, strict=True)]


def floor_and_scans(floor: str, root: Path, jobs: int, repeat: int) -> list[Run]:
    """The floor script over ``root``, and scans of it with one job and with ``jobs``."""
    return median_runs(
        [
            [PYTHON, "-c", floor, str(root)],
            scan_command(root, "--no-cache", "--jobs", "1"),
            scan_command(root, "--no-cache", "--jobs", str(jobs)),
        ],
        repeat,
    )


def job_rows(floor: Run, one: Run, many: Run, jobs: int, files: int, size: int) -> list[str]:
    """The rows of one job and of ``jobs`` jobs, each against the floor."""
    return [
        row("mtlslint, 1 job", one, files, size, f"{one.wall / floor.wall:.2f}x floor"),
        row(
            f"mtlslint, {jobs} jobs",
            many,
            files,
            size,
            f"{many.wall / floor.wall:.2f}x floor; {one.wall / many.wall:.2f}x faster than 1",
        ),
    ]


# --- report helpers ----------------------------------------------------------------------------


def tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(folder, name))
    return files, size


def row(label: str, run: Run, files: int, size: int, extra: str = "") -> str:
    return (
        f"| {label} | {run.wall:.2f} s | {files / run.wall:,.0f} | {size / 1e6 / run.wall:.1f} "
        f"| {run.peak_mb:.0f} MB | {extra} |"
    )


TABLE_HEAD = "| run | wall | files/s | MB/s | peak memory | note |\n|---|---|---|---|---|---|"


def scan_command(root: Path, *extra: str) -> list[str]:
    return [*MTLSLINT, "scan", str(root), "--now", NOW, "-f", "json", "-o", os.devnull, *extra]


# --- sections ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total = next(
            line for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
        )
        memory = f", {int(total.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    import yaml

    libyaml = getattr(yaml, "__with_libyaml__", False)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"- {cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, PyYAML {yaml.__version__} "
        f"(libyaml: {'yes' if libyaml else 'no'})\n"
        f"- load average at start: {load:.2f} (other work on the machine adds noise)"
    )


def startup(work: Path, repeat: int) -> str:
    site = work / "one-file"
    site.mkdir(parents=True, exist_ok=True)
    conf = site / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n  server {\n    listen 443 ssl;\n    ssl_certificate s.pem;\n"
        "    ssl_certificate_key s.key;\n    ssl_client_certificate ca.pem;\n"
        "    ssl_verify_client optional;\n  }\n}\n"
    )
    cache = work / "one-file-cache"
    cold = median_run([*MTLSLINT, "scan", str(conf), "--no-cache"], max(repeat, 7))
    measure([*MTLSLINT, "scan", str(conf), "--cache-dir", str(cache)])
    warm = median_run([*MTLSLINT, "scan", str(conf), "--cache-dir", str(cache)], max(repeat, 7))
    version = median_run([*MTLSLINT, "--version"], max(repeat, 7))
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "mtlslint", "scan", str(conf), "--no-cache"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    entries = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        own, total, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        entries.append((int(total), int(own), name.strip()))
    top = sorted(entries, reverse=True)[:15]
    modules = "\n".join(
        f"| {name} | {total / 1000:.1f} ms | {own / 1000:.1f} ms |" for total, own, name in top
    )
    heavy = [
        name
        for _, _, name in entries
        if name.split(".")[0] in {"jsonschema", "cryptography", "tree_sitter", "hcl2", "rich"}
    ]
    return (
        f"One nginx file (median of {max(repeat, 7)} runs, wall, new process each):\n\n"
        "| run | wall | peak memory |\n|---|---|---|\n"
        f"| `mtlslint --version` | {version.wall * 1000:.0f} ms | {version.peak_mb:.0f} MB |\n"
        f"| `mtlslint scan nginx.conf --no-cache` | {cold.wall * 1000:.0f} ms "
        f"| {cold.peak_mb:.0f} MB |\n"
        f"| `mtlslint scan nginx.conf` (cache warm) | {warm.wall * 1000:.0f} ms "
        f"| {warm.peak_mb:.0f} MB |\n\n"
        f"Heavy modules imported by that scan: {', '.join(heavy) or 'none'}.\n\n"
        "`python -X importtime` of the scan, top entries by cumulative time:\n\n"
        "| module | cumulative | self |\n|---|---|---|\n" + modules
    )


def config_corpus(work: Path, sizes: Sequence[int], repeat: int, jobs: int) -> str:
    out = [
        "Configuration corpus: nginx, Envoy, Istio and Kubernetes in equal parts "
        f"(median of {repeat}, the runs of each size taken in turns; `--jobs {jobs}` is the "
        "default on this machine).\n"
    ]
    for size in sizes:
        root = work / f"config-{size}"
        if not root.exists():
            generate(root, size, CONFIG_FORMATS)
        files, total = tree_size(root)
        floor, one, many = floor_and_scans(YAML_FLOOR, root, jobs, repeat)
        cache = work / f"cache-{size}"
        shutil.rmtree(cache, ignore_errors=True)
        cold = measure(scan_command(root, "--cache-dir", str(cache)))
        warm = median_run(scan_command(root, "--cache-dir", str(cache)), repeat)
        out += [
            f"**{files:,} files, {total / 1e6:.1f} MB**\n",
            TABLE_HEAD,
            row("floor: read + libyaml C loader", floor, files, total),
            *job_rows(floor, one, many, jobs, files, total),
            row("mtlslint, cold cache (fills it)", cold, files, total),
            row(
                "mtlslint, unchanged re-scan",
                warm,
                files,
                total,
                f"{many.wall / warm.wall:.1f}x faster than {jobs} jobs without cache",
            ),
            "",
        ]
    return "\n".join(out)


def terraform_corpus(
    work: Path, sizes: Sequence[int], repeat: int, jobs: int, hcl2_max: int
) -> str:
    out = [f"Terraform corpus (median of {repeat}, the runs of each size taken in turns).\n"]
    try:
        import hcl2  # noqa: F401

        have_hcl2 = True
    except ImportError:
        have_hcl2 = False
    for size in sizes:
        root = work / f"terraform-{size}"
        if not root.exists():
            generate(root, size, ("terraform",))
        files, total = tree_size(root)
        floor, one, many = floor_and_scans(HCL_FLOOR, root, jobs, repeat)
        out += [
            f"**{files:,} files, {total / 1e6:.1f} MB**\n",
            TABLE_HEAD,
            row("floor: read + tree-sitter HCL parse", floor, files, total),
        ]
        if have_hcl2 and size <= hcl2_max:
            hcl2_run = median_run([PYTHON, "-c", HCL2_FLOOR, str(root)], 1)
            out.append(row("python-hcl2 `loads` (parse only)", hcl2_run, files, total))
        out += [
            *job_rows(floor, one, many, jobs, files, total),
            "",
        ]
    return "\n".join(out)


def checkov(work: Path, files: int, repeat: int) -> str:
    venv = work / "checkov-venv"
    binary = venv / "bin" / "checkov"
    if not binary.exists():
        print(
            "installing Checkov into its own virtual environment (a few minutes)…", file=sys.stderr
        )
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "checkov"], check=True
        )
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    root = work / f"checkov-{files}"
    if not root.exists():
        generate(root, files, ("terraform", "kubernetes"))
    count, total = tree_size(root)
    # mtlslint's run is short enough for one blip of a shared machine to move it: more runs.
    repeat = max(repeat, 5)
    theirs, ours = median_runs(
        [
            [
                str(binary),
                "-d",
                str(root),
                "--framework",
                "terraform,kubernetes",
                "--quiet",
                "--compact",
                "--skip-download",
                "-o",
                "json",
            ],
            scan_command(root, "--no-cache"),
        ],
        repeat,
    )
    return (
        f"Checkov {version.strip()} and mtlslint on the same Terraform + Kubernetes corpus "
        f"(median of {repeat}, taken in turns; Checkov with `--framework terraform,kubernetes "
        "--quiet --compact "
        "--skip-download`, mtlslint with `--no-cache`).\n\n"
        f"**{count:,} files, {total / 1e6:.1f} MB**\n\n"
        + TABLE_HEAD
        + "\n"
        + row("Checkov", theirs, count, total)
        + "\n"
        + row("mtlslint", ours, count, total, f"{theirs.wall / ours.wall:.1f}x faster than Checkov")
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,5000,10000", help="corpus sizes (files)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, help="keep corpora and caches here")
    parser.add_argument("--skip-terraform", action="store_true")
    parser.add_argument("--hcl2-max", type=int, default=1000, help="python-hcl2 up to this size")
    parser.add_argument("--checkov", action="store_true", help="install and compare Checkov")
    parser.add_argument("--checkov-files", type=int, default=1000)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = args.work or Path(tempfile.mkdtemp(prefix="mtlslint-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    sections = [
        "## Machine\n\n" + machine(),
        "## Start-up\n\n" + startup(work, args.repeat),
        "## Configuration trees\n\n" + config_corpus(work, sizes, args.repeat, args.jobs),
    ]
    if not args.skip_terraform:
        sections.append(
            "## Terraform\n\n"
            + terraform_corpus(work, sizes, args.repeat, args.jobs, args.hcl2_max)
        )
    if args.checkov:
        sections.append("## Checkov\n\n" + checkov(work, args.checkov_files, args.repeat))
    print("\n\n".join(sections))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
