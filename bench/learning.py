"""How well and how fast a model learns the embedded dataset, and whether its activity decays after the stimulus.

Trains one model (default: the workflow's default, DyRCNNx4 with its default arguments) on the embedded
dataset held in memory, with the workflow's training settings, and prints per epoch the validation
accuracy at the last scored step and the wall time, then the test accuracy at the last scored step, the
accuracy over the default contrast protocol (40 ms of the image at contrast 1 and 0.1), and the blank
decay of each area (:func:`dynvision.models.stability.blank_decay`: activity at the end of 60 blank steps
after a brief stimulus over its peak; below 1 the model settles, above 1 it runs away).

Usage: python bench/learning.py [--args ':lossrt=10+rctype=full+tsteps=8'] [--epochs 4] [--lr 0.003] [--images 3000]
                                [--batch 32] [--energy 0] [--threads 2]
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
    total = time.perf_counter() - start
    tx, ty = tensors("test", 100)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx, ty), batch_size=64)
    print(f"training: {total:.0f} s for {options.epochs} epochs of {options.images} images")
    print(f"accuracy at the last scored step: val {accuracy(model, val):.3f}  test {accuracy(model, test):.3f}")
    model.eval()
    for contrast in (1.0, 0.1):
        stimulus = create_stimulus("StimulusContrast", dt=model.dt, trialms=60, introms=4, stimms=40, contrast=contrast)
        with torch.no_grad():
            inputs, _ = stimulus(tx, ty)
            correct = (model(inputs).argmax(-1) == ty[:, None]).float().mean(0)
        course = "  ".join(f"{t * model.dt:g}:{float(a):.2f}" for t, a in enumerate(correct) if t % 3 == 0)
        print(f"contrast {contrast:g}, 40 ms stimulus from 4 ms, accuracy over time (ms:acc): {course}")
    decay = blank_decay(model, tx[:16])
    print("blank decay (activity after 60 blank steps / peak): " + "  ".join(f"{a} {v:.3g}" for a, v in decay.items()))


if __name__ == "__main__":
    main()
