"""Start-up benchmark (the editor issue's target: a usable window within 1.0 s of launching flowdesk).

Run:  python tests/bench/bench_startup.py [--runs N] [--against DIR]
Launches the real app (the ``flowdesk`` console script) in a subprocess, offscreen, on a private
library, settings file, keyring and Qt settings folder, with ``FLOWDESK_STARTUP_PROBE`` set: the app
writes its phase marks once its window has been painted and Qt's event loop is idle, then quits (see
``flowdesk/ui/startup_probe.py``). Time counts from just before the process is spawned. Cases are
interleaved run by run; a warm-up round goes first (disk cache; bytecode caches: the children run
without ``PYTHONDONTWRITEBYTECODE``, so flowdesk's ``.pyc`` files exist, as in an installed flowdesk).

The baselines are whole processes, ``python -c pass`` and ``python -c "import PySide6.QtWidgets"``,
measured in the same rounds: compare ratios, the machine is shared and noisy. The CPU column (user +
system time of the whole process, exit included) is steadier than wall time on a busy machine.
``--against DIR`` also times the flowdesk package in DIR (a copy of an older checkout's ``flowdesk/``
with ``resources/`` inside it as ``flowdesk/resources``; it needs the probe too), interleaved.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
OPENED = "parallel-summarisation"
PHASES = [  # (column, mark that ends it); "interpreter" ends when the flowdesk package is imported
    ("imports", "imports"),
    ("library", "store"),
    ("services", "services"),
    ("window", "window"),
    ("open/welcome", "shown"),
    ("first paint", "idle"),
]


def flowdesk_command() -> list[str]:
    script = Path(sys.executable).with_name("flowdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowdesk"]


def private_env(folder: Path) -> dict[str, str]:
    """The environment tests/conftest.py gives flowdesk subprocesses, plus a private Qt settings folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLOWDESK_") and k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PYTHONDONTWRITEBYTECODE")
    }
    folder.mkdir(parents=True, exist_ok=True)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        FLOWDESK_DB=str(folder / "library.db"),
        FLOWDESK_CONFIG=str(folder / "settings.json"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        HOME=str(folder),  # QSettings (window layout, recent workflows): never the user's
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CACHE_HOME=str(folder / "cache"),
    )
    return env


def realistic_library(env: dict[str, str]) -> None:
    """Every example imported and two of them run, so the opened workflow has a history."""
    run = flowdesk_command()
    for path in sorted(EXAMPLES.glob("*.json")):
        subprocess.run([*run, "import", str(path)], env=env, check=True, capture_output=True)
    subprocess.run([*run, "run", OPENED, "--approve", "all"], env=env, check=True, capture_output=True)
    subprocess.run([*run, "run", "code-review-loop"], env=env, check=True, capture_output=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Process:
    """A plain command, timed from spawn to exit."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str]) -> None:
        self.label, self.argv, self.env = label, argv, env
        self.totals: list[float] = []
        self.cpu: list[float] = []

    def __call__(self) -> None:
        cpu, t0 = _children_cpu(), time.perf_counter()
        subprocess.run(self.argv, env=self.env, check=True)
        self.totals.append(time.perf_counter() - t0)
        self.cpu.append(_children_cpu() - cpu)

    def reset(self) -> None:
        self.totals.clear()
        self.cpu.clear()


class App(Process):
    """The app, timed from spawn to the idle window; keeps each run's phase marks."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], probe: Path) -> None:
        super().__init__(label, [*flowdesk_command(), *args], {**env, "FLOWDESK_STARTUP_PROBE": str(probe)})
        self.probe = probe
        self.phases: list[dict[str, float]] = []

    def __call__(self) -> None:
        self.probe.unlink(missing_ok=True)
        cpu, spawned = _children_cpu(), time.time()
        done = subprocess.run(self.argv, env=self.env, capture_output=True, timeout=60)
        if done.returncode != 0 or not self.probe.exists():
            raise SystemExit(f"{self.label}: exit {done.returncode}\n{done.stderr.decode(errors='replace')}")
        self.cpu.append(_children_cpu() - cpu)
        report = json.loads(self.probe.read_text(encoding="utf-8"))
        marks = report["marks"]
        phases = {"interpreter": report["entered_wall"] - spawned}
        previous = 0.0
        for column, mark in PHASES:
            phases[column] = marks[mark] - previous
            previous = marks[mark]
        self.phases.append(phases)
        self.totals.append(phases["interpreter"] + marks["idle"])

    def reset(self) -> None:
        super().reset()
        self.phases.clear()


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}"


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        sys.stdout.write(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
        if i == 0:
            sys.stdout.write("-+-".join("-" * w for w in widths) + "\n")
    sys.stdout.write("\n")


def app_cases(folder: Path, against: Path | None) -> list[App]:
    empty_env, full_env = private_env(folder / "empty"), private_env(folder / "full")
    realistic_library(full_env)
    cases = [
        App("flowdesk (empty library: welcome view)", [], empty_env, folder / "probe-empty.json"),
        App(f"flowdesk open {OPENED} (9 nodes, 2 runs)", ["open", OPENED], full_env, folder / "probe-full.json"),
    ]
    if against is not None:  # the other checkout's package wins over the installed (editable) one
        for env in (empty_env, full_env):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(against), env.get("PYTHONPATH")]))
        cases += [
            App(f"{cases[0].label}, {against.name}", [], empty_env, folder / "probe-empty-against.json"),
            App(f"{cases[1].label}, {against.name}", ["open", OPENED], full_env, folder / "probe-full-against.json"),
        ]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="timed rounds (after one warm-up round)")
    parser.add_argument("--against", type=Path, help="also time the flowdesk package in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("FLOWDESK_BENCH_DIR")) as tmp:
        folder = Path(tmp)
        apps = app_cases(folder, args.against.resolve() if args.against else None)
        env = private_env(folder / "plain")
        python = Process("python -c pass", [sys.executable, "-c", "pass"], env)
        qt = Process("python -c 'import PySide6.QtWidgets'", [sys.executable, "-c", "import PySide6.QtWidgets"], env)
        cases: list[Process] = [python, qt, *apps]
        for case in cases:  # warm-up: creates the empty library, fills the disk and bytecode caches
            case()
            case.reset()
        for _ in range(args.runs):
            for case in cases:
                case()
        base_python, base_qt = statistics.median(python.totals), statistics.median(qt.totals)
        header = ("to a usable window", "median ms", "min ms", "CPU ms", "x python", "x PySide6 import")
        rows: list[tuple[str, ...]] = [header]
        for case in cases:
            median = statistics.median(case.totals)
            ratios = (f"{median / base_python:.1f}", f"{median / base_qt:.1f}")
            rows.append((case.label, _ms(median), _ms(min(case.totals)), _ms(statistics.median(case.cpu)), *ratios))
        _table(rows)
        columns = ["interpreter"] + [column for column, _ in PHASES]
        breakdown: list[tuple[str, ...]] = [("phase medians, ms", *columns, "total")]
        for app in apps:
            medians = [statistics.median(p[c] for p in app.phases) for c in columns]
            breakdown.append((app.label, *(_ms(m) for m in medians), _ms(statistics.median(app.totals))))
        _table(breakdown)
        sys.stdout.write(
            "interpreter: spawn to the flowdesk package imported; imports: the CLI and the app's modules;\n"
            "library: opening the store; services: settings, providers, tools, engine services;\n"
            "window: the node kinds and the main window; open/welcome: recovery check and the welcome view or the\n"
            "opened workflow; first paint: until the first frame is painted and the event loop is idle.\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
