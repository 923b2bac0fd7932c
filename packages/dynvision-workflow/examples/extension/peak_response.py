"""Custom analysis: peak of the mean response of each area, read from a `_test_responses.pt` file."""

import argparse
import csv
import os
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    data = torch.load(args.responses, weights_only=True)
    rows = []
    for area in data["areas"]:
        trace = data["responses"][area]["mean"].float().mean(dim=0)  # average over samples -> (T,)
        peak = int(trace.argmax())
        rows.append({"area": area, "peak_time_ms": peak * data["dt"], "peak_response": float(trace[peak])})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_name(f".{args.output.name}.tmp")
    with temporary.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["area", "peak_time_ms", "peak_response"])
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, args.output)


if __name__ == "__main__":
    main()
