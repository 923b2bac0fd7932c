"""The time course of a trial: idle warm-up, the frames, and the labels the loss reads.

A trial is ``idle`` blank steps, then its frames (``n_timesteps``, alias ``tsteps``). The idle steps
run without gradient so that the network settles into its spontaneous state; their outputs are cut
off, so logits, responses and labels cover the frames only. A held image (input ``(B, C, H, W)``) is
shown or blanked per slot of ``presentation_pattern``; a temporal input ``(B, T, C, H, W)`` brings
its own frames. Labels ``(B,)`` of a held image become ``(B, T)`` with -1 on blank frames, and for
any labels the first ``loss_reaction_time`` ms after each onset are -1 as well.

The numbers are fields of the model's ``Dynamics``; this module is the one place that turns them into
frames and labels, for the network's forward and for the Lightning system's training and test steps.
Stimuli of ``dynvision.data`` give frames and per-frame labels only: idle steps are the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from dynvision.models.spec import Dynamics


@dataclass(frozen=True)
class Trial:
    """One trial's time course, read from a model's dynamics (``Trial.of(model.dynamics)``).

    Attributes:
        frames: steps a held image is presented for (a temporal input brings its own number).
        idle: blank steps run before the frames, without gradient; their outputs are cut off.
        pattern: '1'/'0' slots splitting a held image's frames into shown and blank ones.
        reaction_steps: steps after each onset whose labels the loss ignores.
    """

    frames: int = 20
    idle: int = 0
    pattern: str = "1"
    reaction_steps: int = 0

    @classmethod
    def of(cls, dynamics: Dynamics) -> Trial:
        return cls(
            dynamics.n_timesteps, dynamics.idle_timesteps, dynamics.presentation_pattern, dynamics.reaction_steps
        )

    def presentation_mask(self, n_steps: int | None = None) -> torch.Tensor:
        """True where a held image is shown, False on blank frames: ``(n_steps,)``, equal slots of the pattern."""
        n_steps = self.frames if n_steps is None else n_steps
        slots = torch.tensor([int(c) for c in self.pattern], dtype=torch.bool)
        index = torch.div(torch.arange(n_steps) * len(self.pattern), n_steps, rounding_mode="floor")
        return slots[index]

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Time-major steps ``(idle + T, B, C, H, W)``: the idle blanks, then the frames of ``x``."""
        if x.dim() == 4:
            mask = self.presentation_mask().to(x.device)
            frames = x.unsqueeze(0) * mask.to(x.dtype)[:, None, None, None, None]
        elif x.dim() == 5:
            frames = x.transpose(0, 1)
        else:
            raise ValueError(f"input of shape {tuple(x.shape)} must be (B, C, H, W) or (B, T, C, H, W)")
        if self.idle:
            frames = torch.cat([frames.new_zeros((self.idle, *frames.shape[1:])), frames])
        return frames.contiguous()

    def outputs(self, values: torch.Tensor) -> torch.Tensor:
        """Time-major values over all steps -> batch-first ``(B, T, ...)`` over the frames (idle cut off)."""
        return values[self.idle :].transpose(0, 1)

    def learns_at(self, step: int) -> bool:
        """Whether gradients flow at this step (counted with the idle steps): never while idle."""
        return step >= self.idle and torch.is_grad_enabled()

    def truncates_at(self, step: int, every: int | None) -> bool:
        """Whether truncated BPTT cuts the state before this step: every ``every`` frames after the first."""
        return every is not None and step > self.idle and (step - self.idle) % every == 0

    def labels(self, labels: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        """Per-frame labels ``(B, T)`` for the loss, -1 where it ignores a frame.

        Held labels ``(B,)`` follow the presentation pattern (-1 on blank frames); then, for held and
        per-frame labels alike, the first ``reaction_steps`` frames after every onset (label turning from
        -1 to a class) are set to -1.
        """
        if labels.dim() == 1:
            shown = self.presentation_mask(n_steps or self.frames).to(labels.device)
            labels = torch.where(shown, labels[:, None], torch.full_like(labels[:, None], -1))
        labels = labels.clone()
        reaction = self.reaction_steps
        if reaction:
            valid = labels >= 0
            onset = valid & ~F.pad(valid[:, :-1], (1, 0), value=False)
            since = torch.zeros_like(labels)
            for t in range(labels.shape[1]):
                since[:, t] = torch.where(onset[:, t], 0, since[:, t - 1] + 1 if t else reaction)
            labels[valid & (since < reaction)] = -1
        return labels
