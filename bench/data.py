"""Benchmark of dynvision-data, measured in one run on the same 32x32 data.

1. Loader throughput (images/s, warm epoch): FFCV .beton loader, the plain PyTorch fallback, and torchvision's
   ImageFolder + PIL DataLoader, all with the same batch size and workers.
2. Temporal expansion: time to build a (B, T, C, H, W) batch with each stimulus loader, relative to a forward pass
   of DyRCNNx4 on that batch (a small stand-in conv net when dynvision.models is not installed).
3. With --learn-seconds S: test accuracy of DyRCNNx4 trained on the embedded dataset for S CPU seconds.

Usage: .venv/bin/python bench/data.py [--n-per-class 300] [--batch-size 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def images_per_second(loader, epochs: int = 2) -> tuple[float, float]:
    """(first epoch, last epoch) images/s; the first includes start-up (FFCV compiles its pipeline then)."""
    rates = []
    for _ in range(epochs):
        start, count = time.perf_counter(), 0
        for images, _ in loader:
            count += len(images)
        rates.append(count / (time.perf_counter() - start))
    return rates[0], rates[-1]


def loader_benchmark(root: Path, batch_size: int, workers: int) -> dict[str, tuple[float, float]]:
    import torch
    import torchvision
    from torchvision import transforms

    from dynvision.data import build_dataloader, get_dataset_info
    from dynvision.data.ffcv_io import write_betons

    info = get_dataset_info("embedded")
    results = {}
    write_betons("embedded", data_root=root, ratio=0.9, seed=0)
    common = {"data_root": root, "batch_size": batch_size, "num_workers": workers, "shuffle": True}
    results["ffcv"] = images_per_second(build_dataloader("embedded", "train", use_ffcv=True, **common))
    results["fallback"] = images_per_second(build_dataloader("embedded", "train", **common))
    # ImageFolder reads all of raw/train (10/9 of the train split); images/s stays comparable.
    folder = torchvision.datasets.ImageFolder(
        str(root / "raw/embedded/train"),
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(info.mean, info.std)]),
    )
    results["imagefolder"] = images_per_second(
        torch.utils.data.DataLoader(
            folder, batch_size=batch_size, shuffle=True, num_workers=workers, persistent_workers=workers > 0
        )
    )
    return results


def stand_in_model(n_classes: int):
    """A small recurrent-free conv net applied per frame, used when dynvision.models is unavailable."""
    import torch

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(64, n_classes),
    )

    def forward(x):
        batch, steps = x.shape[:2]
        return net(x.flatten(0, 1)).view(batch, steps, -1)

    return forward


def expansion_benchmark(batch: int, tsteps: int, repeats: int) -> tuple[str, float, dict[str, float]]:
    import torch

    from dynvision.data.stimuli import create_stimulus

    try:
        from dynvision.models import create_model

        model = create_model("DyRCNNx4", n_classes=10, tsteps=tsteps).eval()
        model_name = "DyRCNNx4"
    except Exception as error:  # the models package is optional here
        print(f"dynvision.models unavailable ({type(error).__name__}: {error}); timing a stand-in conv net")
        model, model_name = stand_in_model(10), "stand-in conv net"
    images = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch,))
    loaders = {
        "StimulusRepetition": {"tsteps": tsteps},
        "StimulusDuration": {"tsteps": tsteps, "intro": 2, "stim": tsteps // 2},
        "StimulusContrast": {"tsteps": tsteps, "intro": 2, "stim": tsteps // 2, "contrast": 0.5},
        "StimulusInterval": {"tsteps": tsteps, "intro": 2, "stim": 3, "interval": 4},
        "StimulusNoise gaussian static": {"tsteps": tsteps, "ssnr": 0.5},
        "StimulusNoise phasescrambled dynamic": {
            "tsteps": tsteps,
            "ssnr": 0.5,
            "noisetype": "phasescrambled",
            "tempmode": "dynamic",
        },
    }
    with torch.no_grad():
        inputs, _ = create_stimulus("StimulusRepetition", tsteps=tsteps)(images, labels)
        model(inputs)  # warm-up
        start = time.perf_counter()
        for _ in range(repeats):
            model(inputs)
        forward = (time.perf_counter() - start) / repeats
    costs = {}
    for label, args in loaders.items():
        stimulus = create_stimulus(label.split()[0], **args)
        stimulus(images, labels, seed=0)
        start = time.perf_counter()
        for seed in range(repeats * 5):
            stimulus(images, labels, seed=seed)
        costs[label] = (time.perf_counter() - start) / (repeats * 5)
    return model_name, forward, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=300, help="embedded training images per class")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model-batch", type=int, default=32, help="batch size of the expansion benchmark")
    parser.add_argument("--tsteps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-root", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--learn-seconds", type=float, default=0, help="CPU seconds of DyRCNNx4 training (0: skip)")
    args = parser.parse_args()

    import torch

    from dynvision.data.get import get_data

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root or Path(tmp)
        options = {"n_train_per_class": args.n_per_class, "n_test_per_class": 1}
        get_data("embedded", root, progress=False, embedded_options=options, force=args.data_root is None)
        print(f"torch threads: {torch.get_num_threads()}, batch size {args.batch_size}, workers {args.workers}")
        rates = loader_benchmark(root, args.batch_size, args.workers)
    print(f"\nloader throughput on {args.n_per_class * 10} embedded 32x32 images (images/s)")
    print(f"  {'loader':<12} {'first epoch':>12} {'warm epoch':>12}")
    for name, (first, warm) in rates.items():
        print(f"  {name:<12} {first:>12.0f} {warm:>12.0f}")
    base = rates["imagefolder"][1]
    print(f"  ratio ffcv / imagefolder:     {rates['ffcv'][1] / base:.2f}x  (target >= 3x)")
    print(f"  ratio fallback / imagefolder: {rates['fallback'][1] / base:.2f}x")

    model_name, forward, costs = expansion_benchmark(args.model_batch, args.tsteps, args.repeats)
    print(f"\ntemporal expansion of a ({args.model_batch}, 3, 32, 32) batch to T={args.tsteps}")
    print(f"  {model_name} forward: {forward * 1000:.1f} ms per batch")
    for label, cost in costs.items():
        print(f"  {label:<38} {cost * 1000:8.2f} ms  = {100 * cost / forward:5.2f}% of the forward (target < 5%)")

    if args.learn_seconds > 0:
        from dynvision.data.learnability import learn_embedded
        from dynvision.models import create_model

        torch.manual_seed(0)
        model = create_model("DyRCNNx4", n_classes=10, tsteps=6)
        steps, accuracy = learn_embedded(model, 6, cpu_seconds=args.learn_seconds)
        print(f"\nDyRCNNx4 (T=6, batch 32) trained {args.learn_seconds:.0f} CPU s on embedded ({steps} steps)")
        print(f"  test accuracy {accuracy:.3f} = {accuracy / 0.1:.1f}x chance (target >= 3x at 120 s)")


if __name__ == "__main__":
    main()
