"""`python -m rasa_bot.quality report|tune`: the held-out quality report, or the threshold tuning."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH

RESULTS = PROJECT_ROOT / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=("report", "tune"))
    parser.add_argument("--model", type=Path, action="append",
                        help="the model (default: the shipped one); tune takes several, trained with different seeds")
    parser.add_argument("--data", type=Path, help="labelled messages (default: tests/nlu, or tests/nlu_tuning to tune)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    models = args.model or [MODEL_PATH]
    if args.command == "report" and len(models) > 1:
        parser.error("report measures one model")
    if args.command == "tune":
        # Both gates open: the sweep replays every threshold from the raw confidences.
        os.environ["HANDOFF_INTENT_THRESHOLD"] = "0"
        os.environ["HANDOFF_ANSWER_THRESHOLD"] = "0"
        os.environ["HANDOFF_ANSWER_CLOSENESS_THRESHOLD"] = "0"
    # Imported late: Rasa and TensorFlow take seconds to import, and the settings are read once.
    from handoff.settings import get_handoff_settings
    from rasa_bot.quality.evaluate import evaluate
    from rasa_bot.quality.examples import load_examples

    get_handoff_settings.cache_clear()
    settings = get_handoff_settings()
    data = args.data or PROJECT_ROOT / "tests" / ("nlu_tuning" if args.command == "tune" else "nlu")
    examples = load_examples(data)
    if args.command == "report":
        from rasa_bot.quality.report import write_report

        outcomes = evaluate(models[0], examples)
        print("\n".join(write_report(outcomes, settings, args.out, models[0])))
        print(f"\nwritten: {args.out / 'quality.md'}, {args.out / 'quality.json'}")
        return 0
    from rasa_bot.quality.report import figure_table
    from rasa_bot.quality.tune import choose, curve_lines, plot, sweep, worst_of

    points = worst_of([sweep(evaluate(model, examples), settings) for model in models])
    chosen = choose(points)
    print("\n".join(curve_lines(points, chosen)))
    print(f"\nchosen: intent_threshold {chosen.intent_threshold:.2f}, answer_threshold {chosen.answer_threshold:.2f}, "
          f"answer_closeness_threshold {chosen.closeness_threshold:.2f} "
          f"(tuning set, {len(examples)} messages, worst of {len(models)} model(s))")
    print("\n".join(figure_table(chosen.figures)))
    plot(points, chosen, args.out / "threshold_curve.png")
    print(f"\nplot: {args.out / 'threshold_curve.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
