"""``quantrail scenario run PATH...``: pass/fail per scenario, with a diff of expected vs seen.

Exit codes: 0 when every scenario passes, 1 when any fails, 2 when a file is invalid (the error
names the file and the key; no scenario runs then).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from quantrail.scenario.format import Scenario, ScenarioFileError, load_scenario, scenario_files
from quantrail.scenario.runner import ScenarioResult, run_scenario

EXIT_PASSED, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


async def run_paths(paths: list[Path], console: Console, redis_url: str | None = None) -> int:
    files = scenario_files(paths)
    missing = [p for p in files if not p.exists()]
    if missing:
        console.print(f"[red]invalid:[/red] no such scenario file: {missing[0]}")
        return EXIT_INVALID
    if not files:
        where = ", ".join(map(str, paths))
        console.print(f"[red]invalid:[/red] no scenario files found in {where}")
        return EXIT_INVALID
    loaded: list[tuple[Path, Scenario]] = []
    for path in files:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioFileError as exc:
            console.print(f"[red]invalid:[/red] {exc}")
            return EXIT_INVALID
    results = [await run_scenario(s, str(p), redis_url=redis_url) for p, s in loaded]
    for result in results:
        _report(console, result)
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")
    return EXIT_FAILED if failed else EXIT_PASSED


def _report(console: Console, result: ScenarioResult) -> None:
    mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
    seen = result.seen
    executed = f"; executed: {seen.execution.summary()}" if seen.execution else ""
    console.print(
        f"{mark} {result.name}  [dim]{result.path}[/dim]\n"
        f"     seen: {seen.mode.value} ({seen.reason}), gross {seen.gross_exposure_pct}%, "
        f"{len(seen.distinct_intents)} intents{executed}",
        highlight=False,
    )
    for line in result.diff:
        console.print(f"     [red]- {line}[/red]", highlight=False)
