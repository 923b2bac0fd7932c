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

Other models and sizes: ``--models DyRCNNx4,AlexNet,ResNet18,CorNetRT,CordsNet`` (default DyRCNNx4 alone),
``--size 32|224`` (pixels, default 32) and ``--steps N`` (time steps, default 20). ``--rctypes`` applies to every
model named;
without it DyRCNNx4 runs every recurrence type and the other models their own (``none`` for AlexNet and ResNet18);
``default`` in the list stands for each model's own, and a model written ``name:rctype`` (``DyRCNNx4:full``) runs
that type whatever ``--rctypes`` says. With several models a row is labelled ``model:rctype``. A model whose FLOPs
cannot be counted shows ``-`` in the FLOP-based columns. ``--channels-last`` converts the model and the input to
channels-last memory format (as the Lightning system's ``channels_last``).
``--compile`` runs the model through ``torch.compile``; the first training step and inference pass, which compile,
are excluded from the throughput and reported per engine in an extra column (seconds).

On a GPU (``--device cuda``) every timing is wall-clock time between two ``torch.cuda.synchronize()`` calls over
enough calls to last about 50 ms (best of ``--repeats``), ``bf16-mixed`` is ``torch.autocast("cuda",
dtype=torch.bfloat16)``, fp32 convs run as cuDNN chooses (TF32 where ``torch.backends.cudnn.allow_tf32``, the
default), and %peak is against this GPU's bf16 conv peak, a large channels-last bf16 conv measured in the same run
(cuDNN autotuned), whatever ``--precision``; ``py%`` is not measured there (``-``), nor with ``--compile``, and the
last line adds the peak GPU memory. ``bash bench/gpu.sh`` runs the GPU checks in one go (under 8 minutes on an H100):
the GPU and versions, the models' training tests (Lightning puts them on the GPU), this benchmark in fp32 and
bf16-mixed at 32 and 224 px for DyRCNNx4 (full) and AlexNet, ResNet18, CorNetRT, once more compiled, and a short
``make experiment EXP=contrast`` with ``devices=1`` in a scratch folder, each step under its own time limit. With
``$OUT`` set it also writes its output to ``$OUT/gpu-bench.log``; without a CUDA device it says so and exits 0::

    bash bench/gpu.sh                       # or: OUT=/some/folder bash bench/gpu.sh
    python bench/models.py --device cuda --models DyRCNNx4:full,AlexNet,ResNet18,CorNetRT --channels-last
    python bench/models.py --device cuda --models DyRCNNx4:full --precision bf16-mixed --size 224 --compile

Usage: python bench/models.py [--rctypes full,self] [--repeats 2] [--threads 1] [--clock cpu|wall] [--tff MS]
                              [--precision 32|bf16-mixed] [--device cpu|cuda] [--models DyRCNNx4,AlexNet,...]
                              [--size 32|224] [--steps 20] [--batch 32] [--channels-last] [--compile]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import torch

from dynvision.models import RECURRENCE_TYPES, create_model
from dynvision.models.spec import sized_for
from dynvision.models.summary import count_flops

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
PRECISIONS = ("32", "bf16-mixed")
DEVICES = ("cpu", "cuda")
clock = CLOCKS["cpu"]
device = "cpu"
CUDA_TARGET_S = 0.05  # on a GPU one timing spans enough calls to last about this long


def autocast(precision: str) -> contextlib.AbstractContextManager:
    """Autocast to bf16 on this run's device for ``bf16-mixed``, nothing for ``32``."""
    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=torch.bfloat16)


def synchronize() -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], None], calls: int = 1) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls (on a GPU, between two synchronisations)."""
    synchronize()
    start = clock()
    for _ in range(calls):
        fn()
    synchronize()
    return (clock() - start) / calls


def calls_per_timing(fn: Callable[[], None]) -> int:
    """One call on a CPU; on a GPU as many as last about ``CUDA_TARGET_S`` (at most 50), so that launch
    latency and the synchronisation do not dominate a short step."""
    if device != "cuda":
        return 1
    return max(1, min(50, math.ceil(CUDA_TARGET_S / max(timed(fn), 1e-6))))


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


CUDA_PEAK_SHAPE = (128, 256, 56, 56)  # batch, channels, height, width of the GPU's peak conv (256 -> 256, 3x3)


def cuda_conv_peak(repeats: int) -> float:
    """FLOP/s of a large channels-last bf16 3x3 conv forward + backward on the GPU (cuDNN autotuned): its
    practical bf16 conv peak, whatever the precision of the models measured against it."""
    batch, channels, height, width = CUDA_PEAK_SHAPE
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False, device="cuda", dtype=torch.bfloat16)
    conv.to(memory_format=torch.channels_last)
    x = torch.randn(*CUDA_PEAK_SHAPE, device="cuda", dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    grad = torch.ones_like(x)
    flops = 3 * 2 * channels * channels * 9 * height * width * batch

    def step() -> None:
        conv(x).backward(grad)

    benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        for _ in range(3):
            step()  # autotunes, then warms up
        calls = calls_per_timing(step)
        return flops / min(timed(step, calls) for _ in range(repeats))
    finally:
        torch.backends.cudnn.benchmark = benchmark


def workloads(
    rctype: str | None,
    engine: str,
    batch: int,
    steps: int,
    tff: float | None = None,
    precision: str = "32",
    model_name: str = "DyRCNNx4",
    size: int = 32,
    channels_last: bool = False,
    compile: bool = False,
) -> tuple[Callable, Callable, float | None, str]:
    """A training step and an inference pass of a model with the engine forced (``tff=None``: default delay,
    ``rctype=None``: the model's own recurrence), its forward FLOPs per image and step (None where they cannot be
    counted) and the recurrence type it runs."""

    torch.manual_seed(0)
    sized = sized_for(model_name, size)  # CordsNet is built for one image size
    model = create_model(model_name, rctype=rctype, tsteps=steps, engine=engine, n_classes=10, tff=tff, **sized)
    model.to(device)
    x = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 10, (batch * steps,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    model.eval()  # batch norm (ResNet18) cannot train on one image; the steps below set the mode they run in
    with torch.no_grad():
        model(x[:1])  # finds the area sizes outside the count
    try:
        flops = count_flops(model, x[:1]) / steps  # forward FLOPs per image and step of this engine's run
    except Exception:  # a model the counter cannot follow: its FLOP-based columns show "-"
        flops = None
    resolved = getattr(getattr(model, "dynamics", None), "recurrence_type", None) or rctype or "default"
    if compile:
        model.compile()  # in place, as the Lightning system's ``compile``; compiles on the first call

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

    return train_step, infer, flops, resolved


def rows(models: list[str], rctypes: str | None) -> list[tuple[str, str | None]]:
    """(model, rctype) pairs: a model written ``name:rctype`` runs that type; the others run ``--rctypes``, or
    without it every type for DyRCNNx4 and their own for the other models; ``default`` (``None``) is the model's own."""
    pairs = []
    for entry in models:
        model, _, pinned = entry.partition(":")
        if pinned:
            names = [pinned]
        elif rctypes is not None:
            names = rctypes.split(",")
        elif model == "DyRCNNx4":
            names = list(RECURRENCE_TYPES)
        else:
            names = ["default"]
        pairs += [(model, None if name == "default" else name) for name in names]
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rctypes", default=None, help="comma list; default: all for DyRCNNx4, each other model's own ('default')"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="time steps per trial")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default=None, help="cpu (default) or wall; cuda: wall")
    parser.add_argument("--tff", type=float, default=None, help="feedforward delay in ms (default: the model's)")
    parser.add_argument("--precision", choices=PRECISIONS, default="32", help="32 or bf16-mixed (autocast)")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument(
        "--models", default="DyRCNNx4", help="comma list, e.g. DyRCNNx4:full,AlexNet,ResNet18,CorNetRT (name:rctype)"
    )
    parser.add_argument("--size", type=int, default=32, help="image size in pixels (32 or 224)")
    parser.add_argument("--channels-last", action="store_true", help="model and input in channels-last format")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (compile time apart)")
    args = parser.parse_args()
    global clock, device
    if args.device == "cuda":
        if not torch.cuda.is_available():
            parser.error("--device cuda: no CUDA device")
        if args.clock == "cpu":
            parser.error("--device cuda measures wall-clock time; leave out --clock cpu")
        args.clock = "wall"
    args.clock = args.clock or "cpu"
    clock = CLOCKS[args.clock]
    device = args.device
    models = args.models.split(",")
    pairs = rows(models, args.rctypes)
    torch.set_num_threads(args.threads)
    cuda = device == "cuda"
    peak = cuda_conv_peak(args.repeats + 2) if cuda else conv_peak(args.repeats + 2, args.precision)
    images = args.batch * args.steps
    if cuda:
        where = (
            f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
            f"{torch.cuda.get_device_name()}, TF32 convs {torch.backends.cudnn.allow_tf32}"
        )
    else:
        where = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    options = "".join(
        f", {name}" for name, on in (("channels-last", args.channels_last), ("compiled", args.compile)) if on
    )
    print(
        f"{where}; {','.join(models)} {args.size}x{args.size}, T={args.steps}, "
        f"batch {args.batch}, precision {args.precision}{options}, "
        f"t_feedforward {'default' if args.tff is None else args.tff} ms; "
        f"images x time steps per second of {args.clock} time (best of {args.repeats})"
    )
    if cuda:
        batch, channels, height, width = CUDA_PEAK_SHAPE
        print(
            f"bf16 conv fwd+bwd peak ({channels}->{channels} 3x3, {height}x{width}, batch {batch}, channels-last): "
            f"{peak / 1e12:.1f} TFLOP/s"
        )
    else:
        print(f"conv fwd+bwd peak (64->64 3x3, 32x32, batch 64): {peak / 1e9:.1f} GFLOP/s")
    labelled = len(models) > 1  # several models: rows say which
    width = max([15] + [len(f"{m}:{r or 'default'}") + 1 for m, r in pairs]) if labelled else 15
    compile_head = f"{'compile s f/p':>14}" if args.compile else ""
    print(f"{'':<{width + 11}}{'---------- training ----------':>34}{'---------- inference ---------':>34}")
    print(
        f"{'model:rctype' if labelled else 'rctype':<{width}}{'MFLOP/img/t':>11}{'fast':>7}{'plain':>7}{'fast/pl':>8}"
        f"{'%peak f/p':>12}{'fast':>7}{'plain':>7}{'fast/pl':>8}{'%peak f/p':>12}{'py%':>5}{compile_head}"
    )
    speedups, infer_speedups, failed = [], [], []
    for model_name, rctype in pairs:
        label = f"{model_name}:{rctype or 'default'}"
        try:
            common = (args.batch, args.steps, args.tff, args.precision, model_name, args.size, args.channels_last)
            fast_train, fast_infer, _, resolved = workloads(rctype, "fast", *common, args.compile)
            plain_train, plain_infer, flops, _ = workloads(rctype, "plain", *common, args.compile)
            label = f"{model_name}:{resolved}" if labelled else resolved
            fns = {"ft": fast_train, "pt": plain_train, "fi": fast_infer, "pi": plain_infer}
            first = {k: timed(fn) for k, fn in fns.items()}  # warm-up (with --compile: compiles)
            if cuda or args.compile:
                for fn in fns.values():
                    fn()  # a second warm-up: cuDNN's and the compiled graphs' first-call costs are gone by now
            calls = {k: calls_per_timing(fn) for k, fn in fns.items()}
            best = {k: [] for k in fns}
            for _ in range(args.repeats):
                for k, fn in fns.items():
                    best[k].append(timed(fn, calls[k]))
            rate = {k: images / min(v) for k, v in best.items()}
            overhead = f"{python_share(fast_train):>5.1%}" if not (cuda or args.compile) else f"{'-':>5}"
        except Exception as error:  # e.g. out of GPU memory at 224 px: say so and go on with the next row
            print(f"{label:<{width}} failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}", flush=True)
            failed.append(label)
            if cuda:
                torch.cuda.empty_cache()
            continue
        speedups.append(rate["ft"] / rate["pt"])
        if flops is None:
            mflops, train_pct, infer_pct = f"{'-':>11}", f"{'-':>12}", f"{'-':>12}"
        else:
            train_peak = [rate[k] * 3 * flops / peak for k in ("ft", "pt")]  # backward costs about 2x forward
            infer_peak = [rate[k] * flops / peak for k in ("fi", "pi")]
            mflops = f"{flops / 1e6:>11.1f}"
            train_pct = f"{train_peak[0]:>6.0%}/{train_peak[1]:<5.0%}"
            infer_pct = f"{infer_peak[0]:>6.0%}/{infer_peak[1]:<5.0%}"
        compile_s = ""
        if args.compile:
            compile_s = f"{first['ft'] + first['fi']:>7.1f}/{first['pt'] + first['pi']:<6.1f}"
        print(
            f"{label:<{width}}{mflops}{rate['ft']:>7.0f}{rate['pt']:>7.0f}{rate['ft'] / rate['pt']:>7.2f}x"
            f"{train_pct}{rate['fi']:>7.0f}{rate['pi']:>7.0f}"
            f"{rate['fi'] / rate['pi']:>7.2f}x{infer_pct}{overhead}{compile_s}",
            flush=True,
        )
        infer_speedups.append(rate["fi"] / rate["pi"])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def geo(values: list[float]) -> float:
        return torch.tensor(values).log().mean().exp().item()

    gpu_memory = f"; peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MB" if cuda else ""
    if speedups:
        print(
            f"default engine (fast) vs plain, geometric mean: training {geo(speedups):.2f}x, "
            f"inference {geo(infer_speedups):.2f}x; peak RSS {rss:.0f} MB{gpu_memory}"
        )
    seconds, heavy = import_cost()
    print(f"import dynvision.models + DyRCNNx4 after torch: {seconds:.3f} s; heavy libraries: {heavy or 'none'}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
