"""The temporal engine: areas of leaky integrators wired by delayed connections.

Each step ``t`` every area ``i`` computes

    drive_i(t) = ff_i(o_{i-1}(t - d_ff)) [+ rec_i(y_i(t - d_rec))] [+ skip_i(o_{i-2}(t - d_skip))]
                 [+ up(fb_i(o_{i+1}(t - d_fb)))]
    h_i(t)     = h_i(t-1) + alpha (drive_i(t) - h_i(t-1))          (Euler; RK4 optional)
    y_i(t)     = supralin(relu(h_i(t)))           o_i(t) = pool_i(y_i(t))

with ``o_{-1}`` the input frames. A connection whose source has not responded yet carries nothing
(not even a bias), so an area stays exactly zero until its first input arrives. Skip and feedback
can also be multiplicative: they then scale the feedforward drive, ``ff * (1 + s)``, before the
recurrent input is added.

Two engines give the same dynamics. ``plain`` is the reference: the equations step by step, one
conv per connection per step, in the input's memory layout. ``fast`` (default) keeps all activity
channels-last and, for inference without feedback or input-targeted recurrence, runs area by area:
every state-independent op (feedforward convs, skip, pooling, read-out) is applied to all time steps
at once, a few samples per pass, and only the recurrent conv and the integrator stay inside the time
loop. With gradients it runs step by step (channels-last): there, step-sized working sets stay in
cache and the backward pass through whole-sequence tensors costs more than batching saves
(measured, see the package README). For a held image the fast engine also skips repeated work: the
first area's feedforward conv runs once per kind of frame, and when the first area has no recurrence
(``none``, or the retina) or ``self`` recurrence, its response is one map scaled over time per channel
(:class:`HeldFirstArea`); without recurrence the second area's feedforward conv then runs once too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dynvision.models.dynamics import LeakyIntegrator, Supralinearity
from dynvision.models.recurrence import SelfRecurrence, build_recurrence
from dynvision.models.spec import Dynamics

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
        self.pool = spec.pool
        self.skip: nn.Conv2d | None = None
        self.feedback: nn.Conv2d | None = None

    def activate(self, h: torch.Tensor) -> torch.Tensor:
        y = F.relu(h)
        return self.supralin(y) if self.supralin is not None else y

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return self.pool(y) if self.pool is not None else y


class HeldFirstArea:
    """The first area's response to a held image when only that image drives it: separable in space and time.

    With the image shown on every step and no feedback, a first area without recurrence, or with ``self``
    recurrence (one weight per channel), evolves unit by unit, and every step on the way is positively
    homogeneous: the integrator (Euler or RK4, both linear), the recurrent weight, ReLU, the supralinearity
    and max or average pooling. So the area's activity is ``Y * sigma(t)``: one map ``Y = activate(D)`` of
    the image's drive ``D``, scaled per channel by the area's own response to a drive of ones,
    ``sigma(t) = y_1(t) / activate(1)`` (a unit with a negative drive never responds, and ``Y`` is zero
    there). Its output is ``O * sigma(t)`` with ``O = pool(Y)``, so the area's maps are computed once, not
    once per step. Without recurrence ``sigma`` is the same for every channel, and a second area whose
    feedforward pathway is one conv runs it once too: ``W*(s O) + b = s (W*O) + b``. Exact, gradients
    included (not with truncated BPTT, which would cut ``sigma`` but not ``D``).
    """

    def __init__(self, areas: list[Area], drive: torch.Tensor, unit_response: torch.Tensor) -> None:
        """``drive``: ``D``; ``unit_response``: the first area's activity for a drive of ones, ``(T, 1, C, 1, 1)``."""
        self.area = areas[0]
        self.activity = self.area.activate(drive)
        self.output = self.area.output(self.activity)
        uniform = self.area.rec is None  # every channel then has the same scale
        scales = unit_response / self.area.activate(unit_response.new_ones(()))
        self.scales = scales[:, :, :1] if uniform else scales
        self.next_ff = ff = areas[1].ff
        self.next_once = uniform and type(ff) is nn.Conv2d and ff.padding_mode == "zeros"
        if self.next_once:
            self.next_map = F.conv2d(self.output, ff.weight, None, ff.stride, ff.padding, ff.dilation, ff.groups)
            self.next_bias = None if ff.bias is None else ff.bias[:, None, None]
        self.feeds_skip = len(areas) > 2 and areas[2].skip is not None  # the third area reads the output itself

    @staticmethod
    def applies(areas: list[Area], dyn: Dynamics, held: list[bool] | None) -> bool:
        """Whether the first area is separable for these frames (``held``: which steps show the image)."""
        if held is None or not all(held) or len(areas) < 2 or dyn.tbptt_steps is not None or dyn.feedback_mode:
            return False
        if dyn.delay_ff >= len(held):  # the image never reaches the first area
            return False
        first, second = areas[0], areas[1]
        per_channel_rec = isinstance(first.rec, SelfRecurrence) and first.supralin is None
        unit_by_unit = first.rec is None or (per_channel_rec and dyn.recurrence_target != "input")
        positive_gain = first.supralin is None or first.supralin.gain > 0
        homogeneous_pool = first.pool is None or isinstance(first.pool, (nn.MaxPool2d, nn.AvgPool2d))
        second_sees_only_ff = dyn.recurrence_target != "input" or second.rec is None
        return unit_by_unit and positive_gain and homogeneous_pool and second_sees_only_ff

    def next_drive(self, s: torch.Tensor) -> torch.Tensor:
        """The second area's feedforward drive where this area's scale is ``s`` (one step, or a stack of them)."""
        if self.next_once:
            return self.next_map * s if self.next_bias is None else torch.addcmul(self.next_bias, self.next_map, s)
        scaled = self.output * s
        if scaled.dim() == 4:
            return self.next_ff(scaled)
        return self.next_ff(scaled.flatten(0, 1)).unflatten(0, scaled.shape[:2])


@dataclass
class Seq:
    """Activity from step ``start`` to the last step, time-major ``(steps, B, C, H, W)``."""

    start: int
    data: torch.Tensor

    def delayed(self, steps: int, total: int) -> Seq | None:
        if self.start + steps >= total:
            return None
        return Seq(self.start + steps, self.data[: total - self.start - steps])


def _add(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


def _combine(drive: torch.Tensor | None, extra: torch.Tensor | None, mode: str) -> torch.Tensor | None:
    if mode == "multiplicative":
        return drive if drive is None or extra is None else drive * (1 + extra)
    return _add(drive, extra)


def channels_last_seq(data: torch.Tensor) -> torch.Tensor:
    """``(T, B, C, H, W)`` stored as T, B, H, W, C: every frame and every ``flatten(0, 1)`` is channels-last."""
    return data.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def stack_channels_last(frames: list[torch.Tensor]) -> torch.Tensor:
    """Stack ``(B, C, H, W)`` frames into a channels-last sequence with a single copy."""
    return torch.stack([f.permute(0, 2, 3, 1) for f in frames]).permute(0, 1, 4, 2, 3)


def _record_mode(record: bool | str | None) -> str | None:
    if record is None or record is False:
        return None
    if record is True:
        return "layer"
    if record not in RECORD_MODES:
        raise ValueError(f"record={record!r} is unknown; valid: None, True, {', '.join(RECORD_MODES)}")
    return record


def layer_stats(y: torch.Tensor) -> torch.Tensor:
    """Mean and std of |activity| over the units of each sample: ``(..., C, H, W) -> (..., 2)``."""
    a = y.abs().flatten(-3).float()
    return torch.stack([a.mean(-1), a.std(-1, unbiased=False)], -1)


class TemporalNetwork(nn.Module):
    """Base class of every zoo model: a chain of areas with temporal dynamics and a linear read-out."""

    inference_chunk = 4  # samples per pass of fast inference (best measured on a 2-core AVX2 CPU)

    def __init__(self, specs: list[AreaSpec], *, n_classes: int, input_channels: int, dynamics: Dynamics) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"n_classes={n_classes} must be >= 1")
        self.dynamics = dyn = dynamics
        self.n_classes, self.input_channels = int(n_classes), int(input_channels)
        if dyn.retina:
            retina = nn.Conv2d(input_channels, RETINA_CHANNELS, 5, padding=2)
            specs = [AreaSpec("retina", retina, input_channels, RETINA_CHANNELS, recurrent=False), *specs]
        self.layers = nn.ModuleDict({spec.name: Area(spec, dyn) for spec in specs})
        areas = list(self.layers.values())
        for i, area in enumerate(areas):
            if dyn.skip_mode and i >= 2:
                area.skip = nn.Conv2d(areas[i - 2].out_channels, area.out_channels, 1, bias=False)
            if dyn.feedback_mode and i + 1 < len(areas):
                area.feedback = nn.Conv2d(areas[i + 1].out_channels, area.out_channels, 1, bias=False)
        self.classifier = nn.Linear(areas[-1].out_channels, n_classes)
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
        """Step (0 = first input frame, no idle steps) at which each area first gets any drive.

        The input reaches the first area after ``d_ff`` steps and every further area ``d_ff`` steps
        later; additive skip (``d_skip`` from two areas below) and feedback (``d_fb`` from the area
        above) can only shorten that path. Multiplicative connections need a drive to act on.
        """
        dyn, n = self.dynamics, len(self.layers)
        inf = 10**9
        first = [inf] * n
        for _ in range(n + 1):
            for i in range(n):
                options = [dyn.delay_ff + (first[i - 1] if i else 0)]
                if dyn.skip_mode == "additive" and i >= 2:
                    options.append(first[i - 2] + dyn.delay_skip)
                if dyn.feedback_mode == "additive" and i + 1 < n:
                    options.append(first[i + 1] + dyn.delay_fb)
                first[i] = min(first[i], *options)
        return dict(zip(self.areas, first, strict=True))

    # -- input and labels ------------------------------------------------------------------------
    def presentation_mask(self, n_steps: int) -> torch.Tensor:
        """1 where a held image is shown, 0 on blank steps, from ``presentation_pattern``."""
        pattern = self.dynamics.presentation_pattern
        slots = torch.tensor([int(c) for c in pattern], dtype=torch.bool)
        index = torch.div(torch.arange(n_steps) * len(pattern), n_steps, rounding_mode="floor")
        return slots[index]

    def temporal_labels(self, labels: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        """Per-step labels for the loss: held labels follow the presentation pattern, and the first
        ``loss_reaction_time`` ms after every onset (label turning from -1 to a class) are set to -1."""
        if labels.dim() == 1:
            n_steps = n_steps or self.n_timesteps
            shown = self.presentation_mask(n_steps).to(labels.device)
            labels = torch.where(shown, labels[:, None], torch.full_like(labels[:, None], -1))
        labels = labels.clone()
        reaction = self.dynamics.reaction_steps
        if reaction:
            valid = labels >= 0
            onset = valid & ~F.pad(valid[:, :-1], (1, 0), value=False)
            since = torch.zeros_like(labels)
            for t in range(labels.shape[1]):
                since[:, t] = torch.where(onset[:, t], 0, since[:, t - 1] + 1 if t else reaction)
            labels[valid & (since < reaction)] = -1
        return labels

    def _frames(self, x: torch.Tensor) -> torch.Tensor:
        """Time-major frames ``(idle + T, B, C, H, W)``: idle blanks, then the (patterned) stimulus."""
        if x.dim() == 4:
            mask = self.presentation_mask(self.n_timesteps).to(x.device)
            frames = x.unsqueeze(0) * mask.to(x.dtype)[:, None, None, None, None]
        elif x.dim() == 5:
            frames = x.transpose(0, 1)
        else:
            raise ValueError(f"input of shape {tuple(x.shape)} must be (B, C, H, W) or (B, T, C, H, W)")
        if frames.shape[2] != self.input_channels:
            raise ValueError(f"input has {frames.shape[2]} channels; the model expects {self.input_channels}")
        idle = self.dynamics.idle_timesteps
        if idle:
            frames = torch.cat([frames.new_zeros((idle, *frames.shape[1:])), frames])
        return frames.contiguous()

    def _area_sizes(self, frame: torch.Tensor) -> list[tuple[torch.Size, torch.Size]]:
        """(state size, output size) of every area for this input size, found once with a blank frame."""
        key = tuple(frame.shape[-2:])
        if key not in self._sizes:
            modes = [m.training for m in self.modules()]
            self.eval()
            sizes, x = [], frame[:1].new_zeros((1, *frame.shape[1:]))
            with torch.no_grad():
                for area in self.layers.values():
                    h = area.ff(x)
                    x = area.output(h)
                    sizes.append((h.shape[-2:], x.shape[-2:]))
            for m, mode in zip(self.modules(), modes, strict=True):
                m.training = mode
            self._sizes[key] = sizes
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

    # -- connections -----------------------------------------------------------------------------
    @staticmethod
    def _skip_input(area: Area, source: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """Resize the (larger) skip source first, then its 1x1 conv: the conv runs on the small map."""
        if source.shape[-2:] != size:
            source = F.adaptive_avg_pool2d(source, size)
        return area.skip(source)

    @staticmethod
    def _feedback_input(area: Area, source: torch.Tensor, size: torch.Size) -> torch.Tensor:
        """1x1 conv on the (small) source, then upsample to the area's size."""
        out = area.feedback(source)
        return out if out.shape[-2:] == size else F.interpolate(out, size=tuple(size), mode="nearest")

    # -- forward ---------------------------------------------------------------------------------
    def forward(
        self, x: torch.Tensor, record: bool | str | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits ``(B, T, n_classes)``; with ``record`` also ``{area: responses over time}``.

        ``record="layer"`` (or True) gives ``(B, T, 2)``: mean and std of |activity| per sample and
        step; ``record="unit"`` gives the full activity ``(B, T, C, H, W)``.
        """
        mode = _record_mode(record)
        if self._chunked(x):
            parts = [self(part, record=record) for part in x.split(self.inference_chunk)]
            if mode is None:
                return torch.cat(parts)
            responses = {name: torch.cat([p[1][name] for p in parts]) for name in self.areas}
            return torch.cat([p[0] for p in parts]), responses
        frames = self._frames(x)
        sizes = self._area_sizes(frames[0])
        if self.dynamics.engine == "fast":
            frames = channels_last_seq(frames)
        held = self._held_frames(x, frames.shape[0])
        run = self._run_by_area if self.path == "by_area" else self._run_by_step
        logits, responses = run(frames, sizes, mode, held)
        idle = self.dynamics.idle_timesteps
        logits = logits[idle:].transpose(0, 1)
        if mode is None:
            return logits
        return logits, {name: r[idle:].transpose(0, 1) for name, r in responses.items()}

    def _chunked(self, x: torch.Tensor) -> bool:
        """Fast inference runs a few samples at a time so that whole-sequence tensors stay in cache.

        Samples are independent unless a batch norm normalises over the batch (training mode).
        """
        if self.path != "by_area" or x.shape[0] <= self.inference_chunk:
            return False
        return not any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in self.modules())

    def _held_frames(self, x: torch.Tensor, n: int) -> list[bool] | None:
        """For a held image in the fast engine: which frames show it (the others are blank), else None.

        A held image gives only two distinct frames, so the first area's feedforward conv needs to run
        once per kind of frame, not once per step. Not when that conv also sees the recurrent state
        (``recurrence_target=input``) or when it holds train-mode batch norm or dropout.
        """
        dyn, first = self.dynamics, next(iter(self.layers.values()))
        if x.dim() != 4 or dyn.engine != "fast" or (dyn.recurrence_target == "input" and first.rec is not None):
            return None
        stateful = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
        if any(isinstance(m, stateful) and m.training for m in first.ff.modules()):
            return None
        shown = self.presentation_mask(self.n_timesteps).tolist()
        return [False] * (n - len(shown)) + shown

    def _grad_at(self, t: int) -> bool:
        return t >= self.dynamics.idle_timesteps and torch.is_grad_enabled()

    def _truncate_at(self, t: int) -> bool:
        k, idle = self.dynamics.tbptt_steps, self.dynamics.idle_timesteps
        return k is not None and t > idle and (t - idle) % k == 0

    @staticmethod
    def _map(fn: Callable[[torch.Tensor], torch.Tensor], seq: Seq | None) -> Seq | None:
        """Apply a state-independent module to every step of ``seq`` in one call."""
        if seq is None:
            return None
        steps, batch = seq.data.shape[:2]
        return Seq(seq.start, fn(seq.data.flatten(0, 1)).unflatten(0, (steps, batch)))

    def _record_empty(self, frames: torch.Tensor, area: Area, size: torch.Size, mode: str) -> torch.Tensor:
        n, b = frames.shape[:2]
        if mode == "layer":
            return frames.new_zeros((n, b, 2), dtype=torch.float32)
        return frames.new_zeros((n, b, area.out_channels, *size))

    def _readout(self, features: torch.Tensor) -> torch.Tensor:
        features = features.to(self.classifier.weight.dtype)  # bf16 activity is averaged in the read-out's dtype
        return self.classifier(features.mean((-2, -1)) if features.dim() > 2 else features)

    def _run_by_area(self, frames, sizes, mode, held=None):
        dyn, n = self.dynamics, frames.shape[0]
        areas = list(self.layers.values())
        outputs: list[Seq | None] = []
        responses: dict[str, torch.Tensor] = {}
        source: Seq | None = Seq(0, frames)
        first = self._held_first_area(areas, frames, held)
        if first is not None:
            scales = Seq(dyn.delay_ff, first.scales)
        for i, (name, area) in enumerate(self.layers.items()):
            u = source.delayed(dyn.delay_ff, n) if source is not None else None
            if first is not None and i == 0:  # the area is s(t) times fixed maps
                if mode is not None:
                    y = Seq(scales.start, first.activity * scales.data)
                    responses[name] = self._record_seq(frames, area, sizes[i][0], y, mode)
                outputs.append(Seq(scales.start, first.output * scales.data) if first.feeds_skip else None)
                source = None
                continue
            if first is not None and i == 1:
                s = scales.delayed(dyn.delay_ff, n)
                drive = None if s is None else Seq(s.start, first.next_drive(s.data))
            elif i == 0 and held is not None and u is not None:
                drive = self._held_drive(area, u, held)
            else:
                drive = self._map(area.ff, u)
            if area.skip is not None and outputs[i - 2] is not None:
                s = outputs[i - 2].delayed(dyn.delay_skip, n)
                s = self._map(lambda z, a=area, size=sizes[i][0]: self._skip_input(a, z, size), s)
                drive = self._combine_seq(drive, s, dyn.skip_mode)
            y = self._integrate_area(area, drive, n)
            if mode is not None:
                responses[name] = self._record_seq(frames, area, sizes[i][0], y, mode)
            source = self._map(area.output, y) if area.pool is not None else y
            outputs.append(source)
        k = self.classifier.out_features
        logits = self._readout(frames.new_zeros((1, areas[-1].out_channels))).expand(n, frames.shape[1], k)
        if source is not None:
            start = source.start
            last = self._map(self._readout, source).data
            logits = torch.cat([logits[:start].to(last.dtype), last])
        return logits, responses

    @staticmethod
    def _held_drive(area: Area, u: Seq, held: list[bool]) -> Seq:
        """The first area's drive for a held image: one conv per kind of frame, repeated over the steps."""
        kinds = held[: u.data.shape[0]]
        ff = {kind: area.ff(u.data[kinds.index(kind)]) for kind in set(kinds)}
        if len(ff) == 1:
            (frame,) = ff.values()
            return Seq(u.start, frame.unsqueeze(0).expand(len(kinds), *frame.shape))
        return Seq(u.start, stack_channels_last([ff[kind] for kind in kinds]))

    @staticmethod
    def _combine_seq(drive: Seq | None, extra: Seq | None, mode: str) -> Seq | None:
        if extra is None or drive is None:
            return drive if mode == "multiplicative" or extra is None else extra
        first, second = (drive, extra) if drive.start <= extra.start else (extra, drive)
        lead = second.start - first.start
        if mode == "multiplicative":
            if drive.start >= extra.start:
                return Seq(drive.start, drive.data * (1 + extra.data[drive.start - extra.start :]))
            return Seq(drive.start, torch.cat([drive.data[:lead], drive.data[lead:] * (1 + extra.data)]))
        return Seq(first.start, torch.cat([first.data[:lead], first.data[lead:] + second.data]))

    def _held_first_area(
        self, areas: list[Area], frames: torch.Tensor, held: list[bool] | None
    ) -> HeldFirstArea | None:
        """:class:`HeldFirstArea` for these frames, with the first area's response to a drive of ones over the
        steps after the image arrives; None when the first area is not separable."""
        if not HeldFirstArea.applies(areas, self.dynamics, held):
            return None
        drive = areas[0].ff(frames[0])
        steps = frames.shape[0] - self.dynamics.delay_ff
        ones = drive.new_ones((1, areas[0].out_channels, 1, 1))
        unit = self._integrate_area(areas[0], Seq(0, ones.expand(steps, *ones.shape)), steps)
        return HeldFirstArea(areas, drive, unit.data)

    def _integrate_area(self, area: Area, drive: Seq | None, n: int) -> Seq | None:
        """The per-step loop of the area-by-area path (inference), and of a separable first area's response
        to a drive of ones: integrator plus recurrent conv."""
        if drive is None:
            return None
        dyn, rec, target = self.dynamics, area.rec, self.dynamics.recurrence_target
        h: torch.Tensor | None = None
        ys: list[torch.Tensor] = []
        for t in range(drive.start, n):
            back = t - drive.start - dyn.delay_rec
            r = rec(ys[back]) if rec is not None and back >= 0 else None
            d = drive.data[t - drive.start]
            h = area.integrator(h, _add(d, r) if target == "middle" else d)
            ys.append(area.activate(_add(h, r) if target == "output" else h))
        return Seq(drive.start, stack_channels_last(ys))

    def _record_seq(self, frames, area: Area, size, y: Seq | None, mode: str) -> torch.Tensor:
        out = self._record_empty(frames, area, size, mode)
        if y is None:
            return out
        values = layer_stats(y.data) if mode == "layer" else y.data
        return torch.cat([out[: y.start], values.to(out.dtype)])

    def _run_by_step(self, frames, sizes, mode, held=None):
        """The equations as they read: every connection is one conv per step.

        With ``held`` (fast engine, held image) the first area's feedforward drive is computed once per
        kind of frame (shown or blank) and grad mode, and reused: autograd sums its gradient over the reuses.
        """
        dyn, n = self.dynamics, frames.shape[0]
        areas = list(self.layers.values())
        keep = max(dyn.delay_ff, dyn.delay_rec, dyn.delay_skip, dyn.delay_fb) + 1
        ys: list[list[torch.Tensor | None]] = [[] for _ in areas]
        outs: list[list[torch.Tensor | None]] = [[] for _ in areas]
        states: list[torch.Tensor | None] = [None] * len(areas)
        logits, recorded = [], {name: [] for name in self.areas}

        held_drive: dict[tuple[bool, bool], torch.Tensor] = {}

        def read(history: list, t: int) -> torch.Tensor | None:
            return history[t] if 0 <= t < len(history) else None

        def first_drive(t: int) -> torch.Tensor:
            key = (held[t], torch.is_grad_enabled())
            if key not in held_drive:
                held_drive[key] = areas[0].ff(frames[t])
            return held_drive[key]

        first = self._held_first_area(areas, frames, held)
        separable = first is not None
        if separable:
            scales = [None] * dyn.delay_ff + list(first.scales)

        for t in range(n):
            with torch.set_grad_enabled(self._grad_at(t)):
                if self._truncate_at(t):
                    states = [None if h is None else h.detach() for h in states]
                    ys = [[None if y is None else y.detach() for y in hist] for hist in ys]
                for i, area in enumerate(areas):
                    size = sizes[i][0]
                    if separable and i == 0:  # the area is s(t) times fixed maps
                        s = scales[t]
                        ys[0].append(None)
                        outs[0].append(None if s is None or not first.feeds_skip else first.output * s)
                        if mode is not None:
                            recorded[self.areas[0]].append(None if s is None else first.activity * s)
                        continue
                    u = frames[t - dyn.delay_ff] if i == 0 and t >= dyn.delay_ff else None
                    if i:
                        u = read(outs[i - 1], t - dyn.delay_ff)
                    prev = read(ys[i], t - dyn.delay_rec)
                    r = area.rec(prev) if area.rec is not None and prev is not None else None
                    if dyn.recurrence_target == "input":
                        u = _add(u, r)
                    if separable and i == 1:
                        s = read(scales, t - dyn.delay_ff)
                        drive = None if s is None else first.next_drive(s)
                    elif u is None:
                        drive = None
                    elif i == 0 and held is not None:
                        drive = first_drive(t - dyn.delay_ff)
                    else:
                        drive = area.ff(u)
                    if area.skip is not None and (s := read(outs[i - 2], t - dyn.delay_skip)) is not None:
                        drive = _combine(drive, self._skip_input(area, s, size), dyn.skip_mode)
                    if area.feedback is not None and (f := read(outs[i + 1], t - dyn.delay_fb)) is not None:
                        drive = _combine(drive, self._feedback_input(area, f, size), dyn.feedback_mode)
                    if dyn.recurrence_target == "middle":
                        drive = _add(drive, r)
                    h = states[i] = area.integrator(states[i], drive)
                    y = None if h is None else area.activate(_add(h, r) if dyn.recurrence_target == "output" else h)
                    ys[i].append(y)
                    outs[i].append(None if y is None else area.output(y))
                    if t >= keep:  # ring buffer: forget what no delay can reach any more
                        ys[i][t - keep] = outs[i][t - keep] = None
                    if mode is not None:
                        recorded[self.areas[i]].append(y)
                last = outs[-1][t]
                features = last if last is not None else frames.new_zeros((frames.shape[1], areas[-1].out_channels))
                logits.append(self._readout(features))
        responses = {}
        if mode is not None:
            for i, (name, values) in enumerate(recorded.items()):
                empty = self._record_empty(frames[:1], areas[i], sizes[i][0], mode)[0]
                rows = [empty if y is None else (layer_stats(y) if mode == "layer" else y) for y in values]
                responses[name] = torch.stack([r.to(empty.dtype) for r in rows])
        return torch.stack([lg.to(logits[-1].dtype) for lg in logits]), responses
