"""Throughput of DyRCNNx4 (32x32, 20 steps, batch 32) per recurrence type, fast vs plain engine, fp32.

Prints images x time steps per second for a training step (forward, backward, Adam) and for inference,
the speedup of the default ``fast`` engine over the ``plain`` reference, achieved FLOP/s as a fraction of
this machine's conv fwd+bwd peak (measured in the same run, the same way; FLOPs are those of the plain
formulation, so the fast engine, which skips repeated work, can exceed 100%), the share of a fast
training step spent in Python between operators (``py%``: one profiled step, wall time outside every
operator the profiler records, so an upper bound), peak RSS, and what importing the package adds to
``import torch``. Fast and plain runs alternate and the best of ``--repeats`` is kept. ``--precision
bf16-mixed`` runs both engines and the peak conv under CPU autocast (as Lightning's ``bf16-mixed``
does), for CPUs with native bf16. On a shared CPU wall-clock time mostly measures the neighbours, so
by default the process CPU time of one thread is measured (``--clock wall`` for wall-clock time):
compare the ratios, not the absolute numbers.

Usage: python bench/models.py [--rctypes full,self] [--repeats 2] [--threads 1] [--clock cpu|wall] [--tff MS]
                              [--precision 32|bf16-mixed]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import torch

from dynvision.models import RECURRENCE_TYPES, create_model
from dynvision.models.summary import count_flops

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
PRECISIONS = ("32", "bf16-mixed")
clock = CLOCKS["cpu"]


def autocast(precision: str) -> contextlib.AbstractContextManager:
    """CPU autocast to bf16 for ``bf16-mixed``, nothing for ``32``."""
    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast("cpu", dtype=torch.bfloat16)


def timed(fn: Callable[[], None]) -> float:
    start = clock()
    fn()
    return clock() - start


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the profiler's start/stop lines, which its C++ side writes straight to file descriptor 2."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def python_share(step: Callable[[], None]) -> float:
    """Share of one step's wall time spent outside every operator the profiler records."""
    with quiet_stderr(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        step()
        total = time.perf_counter() - start
    inside = sum(event.self_cpu_time_total for event in prof.key_averages()) / 1e6
    return max(0.0, 1 - inside / total)


def import_cost() -> tuple[float, list[str]]:
    """Seconds that ``import dynvision.models`` and its first model class add to ``import torch`` (fresh
    process), and which heavy libraries that pulls in."""
    code = (
        "import sys, time, torch\nstart = time.perf_counter()\nimport dynvision.models\n"
        "from dynvision.models import DyRCNNx4\nprint(time.perf_counter() - start)\n"
        "heavy = ('pytorch_lightning', 'lightning', 'torchvision', 'pandas', 'matplotlib')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    seconds, heavy = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")[:2]
    return float(seconds), [m for m in heavy.split(",") if m]


def conv_peak(repeats: int, precision: str = "32") -> float:
    """FLOP/s of a large, well-shaped 3x3 conv forward + backward: this machine's practical conv peak."""
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False)
    x = torch.randn(64, 64, 32, 32, requires_grad=True)
    flops = 3 * 2 * 64 * 64 * 9 * 32 * 32 * 64  # forward + input gradient + weight gradient

    def step() -> None:
        with autocast(precision):
            y = conv(x)
        y.float().sum().backward()

    step()
    return flops / min(timed(step) for _ in range(repeats))


def workloads(
    rctype: str, engine: str, batch: int, steps: int, tff: float | None = None, precision: str = "32"
) -> tuple[Callable, Callable, int]:
    """A training step and an inference pass of DyRCNNx4 with the engine forced (``tff=None``: default delay)."""

    torch.manual_seed(0)
    model = create_model("DyRCNNx4", rctype=rctype, tsteps=steps, engine=engine, n_classes=10, tff=tff)
    x = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch * steps,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast(precision):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), labels).backward()
        optimizer.step()

    def infer() -> None:
        model.eval()
        with torch.no_grad(), autocast(precision):
            model(x)

    with torch.no_grad():
        model(x[:1])  # finds the area sizes outside the count
    flops = count_flops(model, x[:1]) / steps  # forward FLOPs per image and step of this engine's run
    return train_step, infer, flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rctypes", default=",".join(RECURRENCE_TYPES))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument("--tff", type=float, default=None, help="feedforward delay in ms (default: the model's)")
    parser.add_argument("--precision", choices=PRECISIONS, default="32", help="32 or bf16-mixed (CPU autocast)")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    peak = conv_peak(args.repeats + 2, args.precision)
    images = args.batch * args.steps
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; DyRCNNx4 32x32, T={args.steps}, "
        f"batch {args.batch}, precision {args.precision}, "
        f"t_feedforward {'default' if args.tff is None else args.tff} ms; "
        f"images x time steps per second of {args.clock} time (best of {args.repeats})"
    )
    print(f"conv fwd+bwd peak (64->64 3x3, 32x32, batch 64): {peak / 1e9:.1f} GFLOP/s")
    print(f"{'':<26}{'---------- training ----------':>34}{'---------- inference ---------':>34}")
    print(
        f"{'rctype':<15}{'MFLOP/img/t':>11}{'fast':>7}{'plain':>7}{'fast/pl':>8}{'%peak f/p':>12}"
        f"{'fast':>7}{'plain':>7}{'fast/pl':>8}{'%peak f/p':>12}{'py%':>5}"
    )
    speedups, infer_speedups = [], []
    for rctype in args.rctypes.split(","):
        fast_train, fast_infer, _ = workloads(rctype, "fast", args.batch, args.steps, args.tff, args.precision)
        plain_train, plain_infer, flops = workloads(rctype, "plain", args.batch, args.steps, args.tff, args.precision)
        best = {"ft": [], "pt": [], "fi": [], "pi": []}
        for fn in (fast_train, plain_train, fast_infer, plain_infer):
            fn()  # warm-up
        for _ in range(args.repeats):
            best["ft"].append(timed(fast_train))
            best["pt"].append(timed(plain_train))
            best["fi"].append(timed(fast_infer))
            best["pi"].append(timed(plain_infer))
        rate = {k: images / min(v) for k, v in best.items()}
        overhead = python_share(fast_train)
        speedups.append(rate["ft"] / rate["pt"])
        train_peak = [rate[k] * 3 * flops / peak for k in ("ft", "pt")]  # backward costs about 2x forward
        infer_peak = [rate[k] * flops / peak for k in ("fi", "pi")]
        print(
            f"{rctype:<15}{flops / 1e6:>11.1f}{rate['ft']:>7.0f}{rate['pt']:>7.0f}{rate['ft'] / rate['pt']:>7.2f}x"
            f"{train_peak[0]:>6.0%}/{train_peak[1]:<5.0%}{rate['fi']:>7.0f}{rate['pi']:>7.0f}"
            f"{rate['fi'] / rate['pi']:>7.2f}x{infer_peak[0]:>6.0%}/{infer_peak[1]:<5.0%}{overhead:>5.1%}",
            flush=True,
        )
        infer_speedups.append(rate["fi"] / rate["pi"])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def geo(values: list[float]) -> float:
        return torch.tensor(values).log().mean().exp().item()

    print(
        f"default engine (fast) vs plain, geometric mean: training {geo(speedups):.2f}x, "
        f"inference {geo(infer_speedups):.2f}x; peak RSS {rss:.0f} MB"
    )
    seconds, heavy = import_cost()
    print(f"import dynvision.models + DyRCNNx4 after torch: {seconds:.3f} s; heavy libraries: {heavy or 'none'}")


if __name__ == "__main__":
    main()
