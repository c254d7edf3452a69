"""The hub's classifier on CLINC150 (Full split): in-scope accuracy and out-of-scope recall.

Method: `TextClassifier` (the class `Hub.build` fits) is trained on `train` + `oos_train` (the
out-of-scope examples as one extra class, "oos"). A message is out of scope when its predicted
label is "oos" or its confidence is under a threshold. Hyper-parameters (C of the logistic
regression) and the threshold are chosen on `val` + `oos_val` only: for each C, the highest
threshold keeping in-scope val accuracy within 1 point of that C's best; then the C with the best
mean of val accuracy and val out-of-scope recall. Figures are then measured once on
`test` + `oos_test`.

Run: .venv/bin/python bench/routing_clinc150.py [--data PATH] [--c 10 20 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from chatwootai.routing.classifier import ClassifierParams, Prediction, TextClassifier

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "data_full.json"
"""The dataset beside the repository (``../shared/data/clinc150``); ``--data`` for another."""
OOS = "oos"
PUBLISHED = {  # Larson et al. 2019, Table 2, Full split, oos-train
    "FastText": (89.0, 9.7),
    "SVM": (91.0, 14.5),
    "DialogFlow": (91.7, 14.0),
    "Rasa": (91.5, 45.3),
    "MLP (USE)": (93.5, 47.4),
    "BERT": (96.9, 40.3),
}
THRESHOLDS = [round(0.02 * i, 2) for i in range(31)]


def scores(
    in_scope: list[tuple[Prediction, str]], out_of_scope: list[Prediction], threshold: float
) -> tuple[float, float]:
    """In-scope accuracy and out-of-scope recall, in percent, at `threshold`."""
    accuracy = sum(p.label == gold and p.score >= threshold for p, gold in in_scope)
    recall = sum(p.label == OOS or p.score < threshold for p in out_of_scope)
    return 100 * accuracy / len(in_scope), 100 * recall / len(out_of_scope)


def main() -> None:
    """Fit, tune on val, report on test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--c", type=float, nargs="+", default=[10.0, 20.0, 50.0])
    args = parser.parse_args()
    data = json.loads(args.data.read_text())
    train = data["train"] + data["oos_train"]
    texts = [text for text, _ in train]
    labels = [OOS if intent == "oos" else intent for _, intent in train]

    fit_seconds: dict[float, float] = {}
    fit_cpu: dict[float, float] = {}
    best: tuple[float, float, float, TextClassifier] | None = None  # objective, C, threshold
    print(f"{'C':>6} {'threshold':>9} {'val acc':>8} {'val oos recall':>15} {'fit s':>6}")
    for c in args.c:
        started = time.perf_counter()
        started_cpu = time.process_time()
        model = TextClassifier.fit(texts, labels, ClassifierParams(c=c))
        fit_s = time.perf_counter() - started
        fit_seconds[c] = fit_s
        fit_cpu[c] = time.process_time() - started_cpu
        val = [(model.predict(t), gold) for t, gold in data["val"]]
        val_oos = [model.predict(t) for t, _ in data["oos_val"]]
        top = max(scores(val, val_oos, th)[0] for th in THRESHOLDS)
        threshold = max(th for th in THRESHOLDS if scores(val, val_oos, th)[0] >= top - 1.0)
        accuracy, recall = scores(val, val_oos, threshold)
        print(f"{c:>6g} {threshold:>9.2f} {accuracy:>8.2f} {recall:>15.1f} {fit_s:>6.1f}")
        objective = (accuracy + recall) / 2
        if best is None or objective > best[0]:
            best = (objective, c, threshold, model)
    assert best is not None
    _, c, threshold, model = best

    test = [(t, gold) for t, gold in data["test"]]
    timings: list[int] = []
    predictions: list[tuple[Prediction, str]] = []
    for text, gold in test:
        started_ns = time.perf_counter_ns()
        prediction = model.predict(text)
        timings.append(time.perf_counter_ns() - started_ns)
        predictions.append((prediction, gold))
    oos = [model.predict(t) for t, _ in data["oos_test"]]
    accuracy, recall = scores(predictions, oos, threshold)
    timings.sort()
    print()
    print(f"chosen on val: C={c:g}, out-of-scope threshold={threshold:.2f}")
    print(f"test: {len(test)} in-scope, {len(oos)} out-of-scope messages")
    print(f"{'classifier':<22} {'in-scope acc':>12} {'oos recall':>10}")
    print(f"{'hub TextClassifier':<22} {accuracy:>12.1f} {recall:>10.1f}")
    for name, (acc, rec) in PUBLISHED.items():
        print(f"{name + ' (published)':<22} {acc:>12.1f} {rec:>10.1f}")
    print(
        f"predict: median {statistics.median(timings) / 1000:.0f} µs, "
        f"p99 {timings[int(0.99 * len(timings))] / 1000:.0f} µs per message "
        f"(time.perf_counter_ns around TextClassifier.predict, {len(timings)} test messages, "
        f"150+1 classes)"
    )
    print("test figures at each threshold (in-scope accuracy / out-of-scope recall):")
    for th in THRESHOLDS[:21]:
        acc, rec = scores(predictions, oos, th)
        mark = "  <- chosen on val" if th == threshold else ""
        print(f"  {th:.2f}  {acc:5.1f} / {rec:5.1f}{mark}")
    print(
        f"fit: {fit_seconds[c]:.0f} s wall, {fit_cpu[c]:.0f} s CPU for the chosen C; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)"
    )
    print(
        "command: .venv/bin/python bench/routing_clinc150.py "
        + " ".join(f"--c {' '.join(f'{x:g}' for x in args.c)}".split())
    )


if __name__ == "__main__":
    main()
