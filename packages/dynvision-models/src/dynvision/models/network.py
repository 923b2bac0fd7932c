"""Assembly of a temporal model: areas of leaky integrators wired by delayed connections, and its contract.

A zoo model lists its areas (:class:`AreaSpec`: feedforward pathway, channels, pooling); the
:class:`TemporalNetwork` adds to each its recurrence, integrator and supralinearity (:class:`Area`),
the skip and feedback connections the dynamics ask for, an optional retina stage and a read-out
(:mod:`dynvision.models.heads`; by default averaged over space, then linear). Its contract: input
``(B, T, C, H, W)``, or an image ``(B, C, H, W)`` held for ``n_timesteps``; output logits
``(B, T, n_classes)`` and, with ``record``, responses per area.

The other concepts live in their own modules:

- :mod:`dynvision.models.plain`: the equations and the reference loop that transcribes them;
- :mod:`dynvision.models.fast`: the fast engine (channels-last, inference area by area);
- :mod:`dynvision.models.held`: the fast engine's shortcuts for a held image;
- :mod:`dynvision.models.trial`: the time course of a trial (idle steps, presentation, labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dynvision.models import fast, plain
from dynvision.models.dynamics import Adaptation, AreaState, DivisiveNormalisation, LeakyIntegrator, Supralinearity
from dynvision.models.heads import AveragedLinear
from dynvision.models.held import HeldFirstArea, held_frames
from dynvision.models.recurrence import build_recurrence
from dynvision.models.spec import Dynamics, first_response_steps
from dynvision.models.trial import Trial

__all__ = ["RECORD_MODES", "RETINA_CHANNELS", "Area", "AreaSpec", "HeldFirstArea", "TemporalNetwork"]

RECORD_MODES = ("layer", "unit")
RETINA_CHANNELS = 9


@dataclass
class AreaSpec:
    """What a zoo model says about one area; the engine adds dynamics and connections."""

    name: str
    ff: nn.Module
    in_channels: int
    out_channels: int
    pool: nn.Module | None = None
    recurrent: bool = True
    post: nn.Module | None = None
    """A stage between the integrator and the rectification (CORnet-RT's ``conv1 -> norm1``); None: none."""
    rate: bool = False
    """Integrate the rectified drive (``tau dr/dt = -r + relu(drive)``, CordsNet's form) instead of the drive."""
    input_skip: nn.Module | None = None
    """The architecture's own skip (CordsNet's): its output, of the output of the area two below (for the second
    area: of the input frames), is added to the area's input before the feedforward pathway, with its delay."""


class Area(nn.Module):
    """One visual area: feedforward pathway, recurrence, integrator and output pooling."""

    def __init__(self, spec: AreaSpec, dyn: Dynamics) -> None:
        super().__init__()
        self.ff = spec.ff
        self.in_channels, self.out_channels = spec.in_channels, spec.out_channels
        rctype = dyn.recurrence_type if spec.recurrent else "none"
        target_channels = spec.in_channels if dyn.recurrence_target == "input" else spec.out_channels
        self.rec = build_recurrence(rctype, spec.out_channels, target_channels, dyn.recurrence_kernel)
        self.integrator = LeakyIntegrator(dyn.tau, dyn.dt, dyn.integration, dyn.train_tau)
        self.supralin = (
            Supralinearity(dyn.supralinearity, dyn.supralinearity_gain) if dyn.supralinearity is not None else None
        )
        self.normalisation = DivisiveNormalisation(dyn.norm_sigma, dyn.t_norm, dyn.dt) if dyn.normalisation else None
        self.adaptation = Adaptation(dyn.adaptation, dyn.t_adaptation, dyn.dt) if dyn.adaptation > 0 else None
        self.pool = spec.pool
        self.post = spec.post
        self.rate = spec.rate
        self.input_skip = spec.input_skip
        self.skip: nn.Conv2d | None = None
        self.feedback: nn.Conv2d | None = None

    def activate(self, h: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.post(h) if self.post is not None else h)
        return self.supralin(y) if self.supralin is not None else y

    def step(
        self, state: AreaState, drive: torch.Tensor | None, late: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """Advance ``state`` by one step of ``drive``; the area's output ``y`` (None while nothing has arrived).

        The adaptation current of the last step is subtracted from the drive (rectified where the area
        integrates rates), the integrator advances, ``late`` (recurrence targeting the output) is added, then
        rectification, supralinearity and divisive normalisation give ``y``, which feeds the adaptation state.
        """
        if drive is not None and self.adaptation is not None:
            drive = self.adaptation.current(drive, state.adaptation)
        if drive is not None and self.rate:
            drive = F.relu(drive)
        state.h = self.integrator(state.h, drive)
        if state.h is None:
            return None
        y = self.activate(state.h if late is None else state.h + late)
        if self.normalisation is not None:
            y, state.pool = self.normalisation(y, state.pool)
        if self.adaptation is not None:
            state.adaptation = self.adaptation(y, state.adaptation)
        return y

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return self.pool(y) if self.pool is not None else y

    def skip_input(self, source: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """Resize the (larger) skip source first, then its 1x1 conv: the conv runs on the small map."""
        if source.shape[-2:] != size:
            source = F.adaptive_avg_pool2d(source, size)
        return self.skip(source)

    def feedback_input(self, source: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """1x1 conv on the (small) source, then upsample to the area's size."""
        out = self.feedback(source)
        return out if out.shape[-2:] == size else F.interpolate(out, size=tuple(size), mode="nearest")


def _record_mode(record: bool | str | None) -> str | None:
    if record is None or record is False:
        return None
    if record is True:
        return "layer"
    if record not in RECORD_MODES:
        raise ValueError(f"record={record!r} is unknown; valid: None, True, {', '.join(RECORD_MODES)}")
    return record


class TemporalNetwork(nn.Module):
    """Base class of every zoo model: a chain of areas with temporal dynamics and a read-out (``head``).

    ``stem``: a stateless input stage applied to every frame before the first area (CordsNet's); the read-out
    sees the sum of the outputs of the last ``readout_areas`` areas (CordsNet reads its two last ones).
    """

    inference_chunk = 16
    """Samples per pass of fast inference at most (measured on a 2-core AVX2 CPU, 32 px, 20 steps: the DyRCNN
    family within 3 % of its best, the reference models 2-3x faster than with 4 samples)."""
    inference_memory = 512 * 2**20
    """Bytes the largest area's activity over a trial may take per pass of fast inference (fewer samples per
    pass for large images)."""
    channels_last = True
    """The fast engine's activity layout: channels-last (faster for the DyRCNN family's convs) or as it reads
    (faster for the reference models' kernels and norms; measured per architecture)."""

    def __init__(
        self,
        specs: list[AreaSpec],
        *,
        n_classes: int,
        input_channels: int,
        dynamics: Dynamics,
        head: nn.Module | None = None,
        stem: nn.Module | None = None,
        readout_areas: int = 1,
    ) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"n_classes={n_classes} must be >= 1")
        if specs[0].input_skip is not None:
            raise ValueError(f"the first area {specs[0].name} has no area two below it to skip from")
        self.dynamics = dyn = dynamics
        self.n_classes, self.input_channels = int(n_classes), int(input_channels)
        if dyn.retina:
            retina = nn.Conv2d(input_channels, RETINA_CHANNELS, 5, padding=2)
            specs = [AreaSpec("retina", retina, input_channels, RETINA_CHANNELS, recurrent=False), *specs]
        self.stem = stem
        self.layers = nn.ModuleDict({spec.name: Area(spec, dyn) for spec in specs})
        self.readout_areas = int(readout_areas)
        areas = list(self.layers.values())
        for i, area in enumerate(areas):
            if dyn.skip_mode and i >= 2:
                area.skip = nn.Conv2d(areas[i - 2].out_channels, area.out_channels, 1, bias=False)
            if dyn.feedback_mode and i + 1 < len(areas):
                area.feedback = nn.Conv2d(areas[i + 1].out_channels, area.out_channels, 1, bias=False)
        self.classifier = head if head is not None else AveragedLinear(areas[-1].out_channels, n_classes)
        self._sizes: dict[tuple[int, int], list[tuple[torch.Size, torch.Size]]] = {}

    # -- public attributes of the contract -------------------------------------------------------
    @property
    def areas(self) -> list[str]:
        return list(self.layers.keys())

    @property
    def n_timesteps(self) -> int:
        return self.dynamics.n_timesteps

    @property
    def dt(self) -> float:
        return self.dynamics.dt

    @property
    def path(self) -> str:
        """How the next forward runs: ``by_area`` (batched over time) or ``by_step``.

        Area by area needs the fast engine, no gradient, no feedback and no input-targeted recurrence.
        """
        dyn = self.dynamics
        possible = dyn.engine == "fast" and not dyn.feedback_mode and dyn.recurrence_target != "input"
        return "by_area" if possible and not torch.is_grad_enabled() else "by_step"

    @property
    def trial(self) -> Trial:
        """The time course of a trial, read from ``dynamics`` (idle steps, presentation, label masking)."""
        return Trial.of(self.dynamics)

    def presentation_mask(self, n_steps: int) -> torch.Tensor:
        """:meth:`Trial.presentation_mask <dynvision.models.trial.Trial.presentation_mask>` of this model."""
        return self.trial.presentation_mask(n_steps)

    def temporal_labels(self, labels: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        """:meth:`Trial.labels <dynvision.models.trial.Trial.labels>` of this model: per-step labels for the loss."""
        return self.trial.labels(labels, n_steps)

    # -- introspection ---------------------------------------------------------------------------
    def connection_delays(self) -> dict[str, float]:
        """Delay in ms of each kind of connection this model has (``t_feedforward``, ``t_recurrence``, ...)."""
        dyn = self.dynamics
        delays = {"t_feedforward": dyn.t_feedforward}
        if any(area.rec is not None for area in self.layers.values()):
            delays["t_recurrence"] = dyn.t_recurrence
        if dyn.skip_mode:
            delays["t_skip"] = dyn.t_skip
        if dyn.feedback_mode:
            delays["t_feedback"] = dyn.t_feedback
        return delays

    def first_response_steps(self) -> dict[str, int]:
        """:func:`~dynvision.models.spec.first_response_steps` of each area: the step at which it first gets
        any drive (0 = first input frame, no idle steps)."""
        steps = first_response_steps(self.dynamics, len(self.layers), self.input_skip_areas)
        return dict(zip(self.areas, steps, strict=True))

    @property
    def input_skip_areas(self) -> tuple[int, ...]:
        """Indices of the areas with an architectural skip from two areas below (:attr:`AreaSpec.input_skip`)."""
        return tuple(i for i, area in enumerate(self.layers.values()) if area.input_skip is not None)

    # -- forward ---------------------------------------------------------------------------------
    def forward(
        self, x: torch.Tensor, record: bool | str | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits ``(B, T, n_classes)``; with ``record`` also ``{area: responses over time}``.

        ``record="layer"`` (or True) gives ``(B, T, 2)``: mean and std of |activity| per sample and
        step; ``record="unit"`` gives the full activity ``(B, T, C, H, W)``.
        """
        mode = _record_mode(record)
        if x.dim() in (4, 5) and x.shape[-3] != self.input_channels:
            raise ValueError(f"input has {x.shape[-3]} channels; the model expects {self.input_channels}")
        if chunk := self._chunk(x):
            parts = [self(part, record=record) for part in x.split(chunk)]
            if mode is None:
                return torch.cat(parts)
            responses = {name: torch.cat([p[1][name] for p in parts]) for name in self.areas}
            return torch.cat([p[0] for p in parts]), responses
        trial = self.trial
        frames = trial.inputs(x)
        if self.stem is not None:
            frames = self.stem(frames.flatten(0, 1)).unflatten(0, frames.shape[:2])
        sizes = self._area_sizes(frames[0])
        if self.dynamics.engine == "plain":
            logits, responses = plain.run(self, frames, sizes, mode)
        else:
            frames = fast.seq_layout(frames, self.channels_last)
            logits, responses = fast.run(self, frames, sizes, mode, self._held_frames(x, frames.shape[0]))
        if mode is None:
            return trial.outputs(logits)
        return trial.outputs(logits), {name: trial.outputs(r) for name, r in responses.items()}

    def readout(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of the last area's output ``(B, C, H, W)`` (or ``(B, C)`` zeros while it is silent; the sum of
        the last ``readout_areas`` outputs): the ``classifier`` head (:mod:`dynvision.models.heads`; by default
        averaged over space, then linear)."""
        return self.classifier(features)

    def _chunk(self, x: torch.Tensor) -> int | None:
        """Samples per pass where fast inference runs a batch a few samples at a time (None: all at once), so that
        whole-sequence tensors stay small: at most ``inference_chunk``, and the largest area's activity over the
        trial within ``inference_memory`` bytes.

        Samples are independent unless a batch norm normalises over the batch (training mode).
        """
        if self.path != "by_area" or x.shape[0] <= 1:
            return None
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in self.modules()):
            return None
        frame = x[:1] if x.dim() == 4 else x[:1, 0]
        if self.stem is not None:
            frame = self.stem(frame)
        sizes = self._area_sizes(frame)
        units = max(area.out_channels * h * w for area, ((h, w), _) in zip(self.layers.values(), sizes, strict=True))
        steps = self.trial.idle + (self.trial.frames if x.dim() == 4 else x.shape[1])
        chunk = max(1, min(self.inference_chunk, self.inference_memory // (units * steps * x.element_size())))
        return chunk if x.shape[0] > chunk else None

    def _held_frames(self, x: torch.Tensor, n: int) -> list[bool] | None:
        """:func:`~dynvision.models.held.held_frames`: which of ``n`` steps show a held image (fast engine)."""
        return held_frames(self, x, n)

    def _measure_sizes(self, frame: torch.Tensor) -> list[tuple[torch.Size, torch.Size]]:
        """(state size, output size) of every area, or a one-line error where the image is too small for it."""
        sizes, x = [], frame[:1].new_zeros((1, *frame.shape[1:]))
        with torch.no_grad():
            for name, area in self.layers.items():
                try:
                    h = area.ff(x)
                    x = area.output(h)
                except RuntimeError as error:  # a kernel larger than what is left of the image
                    height, width = frame.shape[-2:]
                    raise ValueError(
                        f"{type(self).__name__} cannot take {height}x{width} px images: area {name} gets a "
                        f"{tuple(x.shape[-2:])} map ({str(error).splitlines()[0]}); use larger images"
                    ) from None
                sizes.append((h.shape[-2:], x.shape[-2:]))
        return sizes

    def _area_sizes(self, frame: torch.Tensor) -> list[tuple[torch.Size, torch.Size]]:
        """(state size, output size) of every area for this input size, found once with a blank frame."""
        key = tuple(frame.shape[-2:])
        if key not in self._sizes:
            modes = [m.training for m in self.modules()]
            self.eval()
            try:
                self._sizes[key] = self._measure_sizes(frame)
            finally:
                for m, mode in zip(self.modules(), modes, strict=True):
                    m.training = mode
        sizes = self._sizes[key]
        if self.dynamics.recurrence_target == "input" and self.dynamics.recurrence_type != "none":
            inputs = [frame.shape[-2:]] + [o for _, o in sizes[:-1]]
            for name, (h, _), s in zip(self.areas, sizes, inputs, strict=True):
                if h != s:
                    raise ValueError(
                        f"recurrence_target=input needs areas that keep the spatial size; {name} maps "
                        f"{tuple(s)} to {tuple(h)}; use recurrence_target=middle or output"
                    )
        return sizes
