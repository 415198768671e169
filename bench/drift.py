"""Drift benchmark (issue 16, "Measured on scenarios"): how soon the drift alarms and the review
queue notice a new topic, an existing intent in new words and a stale FAQ answer, and how often
they raise an alarm when nothing drifted. docs/drift_bench.md describes scenarios and figures.

    record   sends every distinct message of the scenario once to the real bot (a system started on
             free loopback ports, or a running one: --rasa-url/--redis-url need its capture) and
             saves its outputs to bench/results/drift_recording_<scenario>.json
    replay   samples drift runs and no-drift runs from the recording per seed, feeds the drift
             monitor and the review queue's clustering, and writes bench/results/drift.md and .json
    bound    prints about how many turns the best fallback- or handoff-rate detector needs on average to
             notice the scenario's drift within its false-alarm budget (bench/drift_bound.py)
    retrain  accepts the proposals of one seed's run as labelled, retrains a model into a
             temporary path, records the new topic with it and reports what the bot does now
             (trains a model: 15+ minutes)

    PYTHONPATH=. .venv/bin/python bench/drift.py record [--scenario shop] [--concurrency 4]
    PYTHONPATH=. .venv/bin/python bench/drift.py replay [--scenario shop] [--seeds 5] [--tuning]
    PYTHONPATH=. .venv/bin/python bench/drift.py bound [--scenario shop]
    PYTHONPATH=. .venv/bin/python bench/drift.py retrain [--scenario shop] [--training-seeds 11 23]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from bench.drift_record import record, save
from bench.drift_replay import (
    Detectors,
    detection_delays,
    drifting_subjects,
    false_alarms,
    proposal_quality,
    replay,
)
from bench.drift_report import SeedResult, machine, markdown, summarise, table_rows
from bench.drift_scenario import Scenario, ScenarioError, load_scenario
from bench.drift_stream import RecordedOutput, Recording, build_stream
from bench.report import print_table
from bench.system import ONE_ADDRESS_LOAD_LIMITS, add_system_arguments, bench_system

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def recording_path(scenario: Scenario) -> Path:
    return RESULTS / f"drift_recording_{scenario.name}.json"


def load_recording(scenario: Scenario, path: Path) -> Recording:
    """The recorded outputs by message text; SystemExit when a scenario message is missing."""
    if not path.is_file():
        raise SystemExit(f"no recording at {path}: run `bench/drift.py record --scenario {scenario.name}` first")
    outputs = json.loads(path.read_text(encoding="utf-8"))["outputs"]
    missing = [m.text for m in scenario.distinct_messages() if m.text not in outputs]
    if missing:
        raise SystemExit(f"{len(missing)} scenario messages are not in {path} (e.g. {missing[0]!r}): record again")
    return {text: RecordedOutput.from_json(raw) for text, raw in outputs.items()}


def run_seed(scenario: Scenario, recording: Recording, seed: int, detectors: Callable[[], Detectors],
             no_drift_turns: int) -> SeedResult:
    """One seed: a drift run and a no-drift run, each with fresh detectors from `detectors()`."""
    stream = build_stream(scenario, recording, seed, scenario.turns, scenario.drift_point)
    result = replay(stream, detectors())
    calm = build_stream(scenario, recording, seed, no_drift_turns, None)
    calm_result = replay(calm, detectors(), cluster=False)
    return SeedResult(seed, detection_delays(result, scenario.drift_point, drifting_subjects(scenario, recording)),
                      proposal_quality(result, stream), len(false_alarms(result, scenario.drift_point)),
                      no_drift_turns, len(false_alarms(calm_result, None)))


def command_record(args: argparse.Namespace, scenario: Scenario) -> None:
    with bench_system(args, env=dict(ONE_ADDRESS_LOAD_LIMITS), needs_agent=False) as system:
        recording = record(system, scenario.distinct_messages(), args.concurrency)
    path = recording_path(scenario)
    save({"scenario": scenario.name, **recording}, path)
    print(f"wrote {path}")


def command_replay(args: argparse.Namespace, scenario: Scenario) -> None:
    # The real detectors are imported here only: recording works without them.
    from bench.drift_detectors import real_detectors

    recording = load_recording(scenario, recording_path(scenario))
    seeds = (scenario.tuning_seeds if args.tuning else scenario.evaluation_seeds)[:args.seeds]
    if len(seeds) < args.seeds:
        raise SystemExit(f"the scenario has only {len(seeds)} such seeds")
    detectors = real_detectors()
    results = []
    for seed in seeds:
        results.append(run_seed(scenario, recording, seed, detectors, args.no_drift_turns))
        print(f"seed {seed}: delays {dict(results[-1].delays)}, no-drift alarms {results[-1].no_drift_alarms}",
              flush=True)
    summary = summarise(results)
    where = machine()
    print_table(["figure", "median", "worst", "target", ""], table_rows(summary))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drift.json").write_text(json.dumps({"scenario": scenario.name, "machine": where,
                                                    "tuning": args.tuning, **summary}, indent=1, default=str))
    (RESULTS / "drift.md").write_text(markdown(summary, scenario.name, where))
    print(f"wrote {RESULTS / 'drift.md'} and drift.json")


def command_bound(args: argparse.Namespace, scenario: Scenario) -> None:
    from bench.drift_bound import rate_bounds

    recording = load_recording(scenario, recording_path(scenario))
    per_false_alarm = args.no_drift_turns
    rows = [[bound.observed, _share_or_dash(bound.before), _share_or_dash(bound.after), f"{bound.divergence:.4f}",
             f"{bound.turns_on_average:.0f}"] for bound in rate_bounds(scenario, recording, per_false_alarm)]
    print(f"scenario {scenario.name}: about how many turns after the drift point the best rate detector with one "
          f"false alarm per {per_false_alarm:,} turns needs on average (ln {per_false_alarm:,} / KL, asymptotic)")
    print_table(["what it observes", "rate before", "after", "KL nats/turn", "turns on average"], rows)


def _share_or_dash(share: float | None) -> str:
    return "-" if share is None else f"{share:.3f}"


def command_retrain(args: argparse.Namespace, scenario: Scenario) -> None:
    from bench.drift_detectors import real_detectors
    from bench.drift_retrain import retrain_and_check

    recording = load_recording(scenario, recording_path(scenario))
    seed = scenario.evaluation_seeds[0]
    stream = build_stream(scenario, recording, seed, scenario.turns, scenario.drift_point)
    result = replay(stream, real_detectors()())
    retrain_and_check(args, scenario, result.proposals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("command", choices=("record", "replay", "bound", "retrain"))
    parser.add_argument("--scenario", default="shop", help="a directory name under bench/scenarios/ (shop)")
    parser.add_argument("--concurrency", type=int, default=4, help="record: messages in flight (4)")
    parser.add_argument("--seeds", type=int, default=5, help="replay: evaluation seeds to run (5)")
    parser.add_argument("--tuning", action="store_true", help="replay: the tuning seeds instead")
    parser.add_argument("--training-seeds", type=int, nargs="+", default=None,
                        help="retrain: one model per seed in place of config.yml's random_seed")
    parser.add_argument("--no-drift-turns", type=int, default=None,
                        help="replay: turns per no-drift run; bound: turns per false alarm allowed "
                        "(default: the scenario's no-drift turns)")
    add_system_arguments(parser)
    args = parser.parse_args()
    try:
        scenario = load_scenario(BENCH / "scenarios" / args.scenario)
    except ScenarioError as error:
        raise SystemExit(f"bad scenario: {error}") from None
    args.no_drift_turns = args.no_drift_turns or scenario.no_drift_turns
    if not (1 <= args.concurrency <= 16 and 1 <= args.seeds <= 50 and 1 <= args.no_drift_turns <= 1_000_000):
        raise SystemExit("keep the figures within the bounds --help shows")
    commands = {"record": command_record, "replay": command_replay, "bound": command_bound, "retrain": command_retrain}
    commands[args.command](args, scenario)


if __name__ == "__main__":
    main()
