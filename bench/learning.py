"""How well and how fast a model learns the embedded dataset, and whether its activity decays after the stimulus.

Trains one model (default: the workflow's default, DyRCNNx4 with its default arguments) on the embedded
dataset held in memory, with the workflow's training settings, and prints per epoch the validation
accuracy at the last scored step and the wall time, then the test accuracy at the last scored step, the
accuracy over the default contrast protocol (40 ms of the image at contrast 1 and 0.1), the accuracy during a
200 ms stimulus with each area's sustained response, each area's repetition ratio after gaps of 16-128 ms, and
the blank decay of each area (:func:`dynvision.models.stability.blank_decay`: activity at the end of 60 blank steps
after a brief stimulus over its peak; below 1 the model settles, above 1 it runs away).

Usage: python bench/learning.py [--args ':lossrt=10+rctype=full+tsteps=8'] [--epochs 4] [--lr 0.003] [--images 3000]
                                [--batch 32] [--energy 0] [--threads 2] [--save FILE | --load FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import pytorch_lightning as pl
import torch

from dynvision.data.embedded import generate_embedded
from dynvision.data.registry import get_dataset_info
from dynvision.data.stimuli import create_stimulus
from dynvision.models import create_model
from dynvision.models.grammar import parse_args
from dynvision.models.stability import blank_decay
from dynvision.models.training import train
from dynvision.workflow.runtime import accuracy


def tensors(split: str, n_per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised images (N, 3, 32, 32) and labels of one split of the embedded dataset."""
    info = get_dataset_info("embedded")
    images, labels = generate_embedded(split, n_per_class)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    x = (x - torch.tensor(info.mean).view(1, 3, 1, 1)) / torch.tensor(info.std).view(1, 3, 1, 1)
    return x, torch.from_numpy(labels)


PROBE_IMAGES = 200
"""Test images of the long protocols (200 ms stimulus, intervals): 20 per class keep them to minutes on 2 cores."""


class EpochReport(pl.Callback):
    """Prints each epoch's validation accuracy (over every scored step) and its wall time."""

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        acc = float(trainer.callback_metrics.get("val_acc", float("nan")))
        seconds = time.perf_counter() - self.start
        print(f"epoch {trainer.current_epoch + 1}: val_acc {acc:.3f}  {seconds:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="DyRCNNx4")
    parser.add_argument("--args", default=":lossrt=10+rctype=full+tsteps=8", help="model arguments, :k=v+k=v")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--images", type=int, default=3000, help="training images per epoch")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--energy", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", help="also save the trained network's state dict to this file")
    parser.add_argument("--load", help="measure this saved state dict (of --model with --args) instead of training")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    x, y = tensors("train", 500)
    n_val = len(x) // 10
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:n_val], y[:n_val]), batch_size=64)
    generator = torch.Generator().manual_seed(options.seed)
    sampler = torch.utils.data.RandomSampler(range(len(x) - n_val), num_samples=options.images, generator=generator)
    train_set = torch.utils.data.TensorDataset(x[n_val:], y[n_val:])
    loader = torch.utils.data.DataLoader(train_set, batch_size=options.batch, sampler=sampler)
    model = create_model(options.model, **parse_args(options.args))
    if options.load:
        model.load_state_dict(torch.load(options.load, weights_only=True))
        print(f"loaded {options.load} (no training)")
    else:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            train(
                model,
                loader,
                val,
                max_epochs=options.epochs,
                checkpoint_dir=folder,
                progress_bar=False,
                resume=False,
                lr=options.lr,
                energy_weight=options.energy,
                callbacks=[EpochReport()],
            )
        print(f"training: {time.perf_counter() - start:.0f} s for {options.epochs} epochs of {options.images} images")
    if options.save:
        torch.save(model.state_dict(), options.save)
    tx, ty = tensors("test", 100)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx, ty), batch_size=64)
    print(f"accuracy at the last scored step: val {accuracy(model, val):.3f}  test {accuracy(model, test):.3f}")
    model.eval()
    for contrast in (1.0, 0.1):
        stimulus = create_stimulus("StimulusContrast", dt=model.dt, trialms=60, introms=4, stimms=40, contrast=contrast)
        with torch.no_grad():
            inputs, _ = stimulus(tx, ty)
            correct = (model(inputs).argmax(-1) == ty[:, None]).float().mean(0)
        course = "  ".join(f"{t * model.dt:g}:{float(a):.2f}" for t, a in enumerate(correct) if t % 3 == 0)
        print(f"contrast {contrast:g}, 40 ms stimulus from 4 ms, accuracy over time (ms:acc): {course}")
    sustained(model, tx[:PROBE_IMAGES], ty[:PROBE_IMAGES])
    repetition(model, tx[:PROBE_IMAGES], ty[:PROBE_IMAGES])
    decay = blank_decay(model, tx[:16])
    print("blank decay (activity after 60 blank steps / peak): " + "  ".join(f"{a} {v:.3g}" for a, v in decay.items()))


def forward(model: torch.nn.Module, inputs: torch.Tensor, batch: int = 100) -> tuple[torch.Tensor, dict]:
    """Logits and each area's mean response of a long protocol, a batch of images at a time (a whole test set of
    long trials at once would not fit in memory)."""
    logits, means = [], {}
    with torch.no_grad():
        for start in range(0, len(inputs), batch):
            part, recorded = model(inputs[start : start + batch], record="layer")
            logits.append(part)
            for area in model.areas:
                means.setdefault(area, []).append(recorded[area][..., 0])
    return torch.cat(logits), {area: torch.cat(parts) for area, parts in means.items()}


def sustained(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Accuracy while an image stays on for 200 ms, and each area's response at its end over its peak (adaptation
    lowers a sustained response; it should not silence an area or lose the image)."""
    stimulus = create_stimulus("StimulusDuration", dt=model.dt, trialms=220, introms=4, stimms=200)
    inputs, _ = stimulus(images, labels)
    logits, recorded = forward(model, inputs)
    correct = (logits.argmax(-1) == labels[:, None]).float().mean(0)
    end = stimulus.presentation().index(True) + round(200 / model.dt) - 1
    course = "  ".join(f"{t * model.dt:g}:{float(a):.2f}" for t, a in enumerate(correct[: end + 1]) if t % 10 == 0)
    print(f"200 ms stimulus from 4 ms, accuracy over time (ms:acc): {course}; at its end {float(correct[end]):.2f}")
    ratios = {area: recorded[area].mean(0) for area in model.areas}
    text = "  ".join(f"{area} {float(c[end] / c[: end + 1].max()):.2f}" for area, c in ratios.items())
    print(f"sustained response at the end of the 200 ms stimulus / peak: {text}")


def repetition(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Each area's repetition ratio of two 16 ms presentations against the single-presentation control."""
    from dynvision.viz.measures import repetition_parts, stimulus_periods

    rows = {}
    for gap in (16, 32, 64, 128):
        courses = []
        for repeat in (True, False):
            stimulus = create_stimulus("StimulusInterval", dt=model.dt, trialms=220, introms=4, stimms=16,
                                       intervalms=gap, repeat=repeat)  # fmt: skip
            inputs, _ = stimulus(images, labels)
            _, recorded = forward(model, inputs)
            courses.append({area: recorded[area].mean(0).double().numpy() for area in model.areas})
        times = torch.arange(len(stimulus.presentation())).double().numpy() * model.dt
        periods = stimulus_periods(times, create_stimulus("StimulusInterval", dt=model.dt, trialms=220, introms=4,
                                   stimms=16, intervalms=gap).presentation())  # fmt: skip
        delays = model.first_response_steps()
        for area in model.areas:
            ratio = repetition_parts(times, courses[0][area], periods, courses[1][area], delays[area] * model.dt)[0]
            rows.setdefault(area, []).append(f"{gap}:{ratio:.2f}")
    for area, values in rows.items():
        print(f"{area} repetition ratio (gap ms: second / first, against the control): {'  '.join(values)}")


if __name__ == "__main__":
    main()
