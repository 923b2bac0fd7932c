"""The fast engine (``engine="fast"``, the default): the reference's dynamics with less work per step.

Activity is kept channels-last (oneDNN's fast layout for the DyRCNN family's convs; ``channels_last`` of the
model, measured per architecture, see the package README) or as it reads. For inference without
feedback or input-targeted recurrence it runs area by area (:func:`run_by_area`): every
state-independent op (feedforward convs, skips, pooling, read-out) is applied to all time steps in
one call, and only the recurrent conv and the integrator stay inside the time loop. With gradients it
runs step by step (:func:`run_by_step`): there, step-sized working sets stay in cache and the backward
pass through whole-sequence tensors costs more than batching saves (measured, see the package README).
For a held image both paths use the shortcuts of :mod:`dynvision.models.held`. Logits, responses and
gradients equal those of the plain engine (:mod:`dynvision.models.plain`); the tests check it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from dynvision.models.dynamics import AreaState
from dynvision.models.held import HeldDrive, HeldFirstArea
from dynvision.models.plain import add, combine, layer_stats, readout_features, silent_record

if TYPE_CHECKING:
    from dynvision.models.network import Area, TemporalNetwork


@dataclass
class Seq:
    """Activity from step ``start`` to the last step, time-major ``(steps, B, C, H, W)``."""

    start: int
    data: torch.Tensor

    def delayed(self, steps: int, total: int) -> Seq | None:
        if self.start + steps >= total:
            return None
        return Seq(self.start + steps, self.data[: total - self.start - steps])


def seq_layout(data: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``(T, B, C, H, W)`` stored as T, B, H, W, C (every frame and every ``flatten(0, 1)`` is channels-last), or
    contiguous as it reads."""
    if not channels_last:
        return data.contiguous()
    return data.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def stack_seq(frames: list[torch.Tensor], channels_last: bool) -> torch.Tensor:
    """Stack ``(B, C, H, W)`` frames into a sequence of the layout of :func:`seq_layout` with a single copy."""
    if not channels_last:
        return torch.stack(frames)
    return torch.stack([f.permute(0, 2, 3, 1) for f in frames]).permute(0, 1, 4, 2, 3)


def run(net: TemporalNetwork, frames: torch.Tensor, sizes: list, mode: str | None, held: list[bool] | None):
    """Like :func:`dynvision.models.plain.run`, for channels-last ``frames``; ``held``: which steps show a held
    image (None for a frame sequence). Runs area by area or step by step as ``net.path`` says."""
    return (run_by_area if net.path == "by_area" else run_by_step)(net, frames, sizes, mode, held)


# -- area by area (inference) ----------------------------------------------------------------------
def run_by_area(net: TemporalNetwork, frames: torch.Tensor, sizes: list, mode: str | None, held: list[bool] | None):
    dyn, n = net.dynamics, frames.shape[0]
    areas = list(net.layers.values())
    outputs: list[Seq | None] = []
    responses: dict[str, torch.Tensor] = {}
    source: Seq | None = Seq(0, frames)
    first = held_first_area(net, frames, held)
    if first is not None:
        scales = Seq(dyn.delay_ff, first.scales)
    for i, (name, area) in enumerate(net.layers.items()):
        u = source.delayed(dyn.delay_ff, n) if source is not None else None
        if first is not None and i == 0:  # the area is s(t) times fixed maps
            if mode is not None:
                y = Seq(scales.start, first.activity * scales.data)
                responses[name] = _record_seq(frames, area, sizes[i][0], y, mode)
            outputs.append(Seq(scales.start, first.output * scales.data) if first.feeds_skip else None)
            source = None
            continue
        if first is not None and i == 1:
            s = scales.delayed(dyn.delay_ff, n)
            drive = None if s is None else Seq(s.start, first.next_drive(s.data))
        elif i == 0 and held is not None and u is not None:
            drive = _held_sequence(HeldDrive(area, frames, held), u, net.channels_last)
        else:
            if area.input_skip is not None:
                u = _with_input_skip(area, u, Seq(0, frames) if i == 1 else outputs[i - 2], n, dyn.delay_ff)
            drive = _map(area.ff, u)
        if area.skip is not None and outputs[i - 2] is not None:
            s = outputs[i - 2].delayed(dyn.delay_skip, n)
            s = _map(lambda z, a=area, size=sizes[i][0]: a.skip_input(z, size), s)
            drive = _combine_seq(drive, s, dyn.skip_mode)
        y = _integrate_area(net, area, drive, n)
        if mode is not None:
            responses[name] = _record_seq(frames, area, sizes[i][0], y, mode)
        source = _map(area.output, y) if area.pool is not None else y
        outputs.append(source)
    k = net.n_classes
    logits = net.readout(frames.new_zeros((1, areas[-1].out_channels))).expand(n, frames.shape[1], k)
    features = None
    for output in outputs[-net.readout_areas :]:
        features = _combine_seq(features, output, "additive")
    if features is not None:
        last = _map(net.readout, features).data
        logits = torch.cat([logits[: features.start].to(last.dtype), last])
    return logits, responses


def _with_input_skip(area: Area, u: Seq | None, source: Seq | None, n: int, delay: int) -> Seq | None:
    """The area's input ``u`` plus its architectural skip of ``source`` (two areas below) ``delay`` steps later."""
    if source is None:
        return u
    return _combine_seq(u, _map(area.input_skip, source.delayed(delay, n)), "additive")


def _map(fn: Callable[[torch.Tensor], torch.Tensor], seq: Seq | None) -> Seq | None:
    """Apply a state-independent module to every step of ``seq`` in one call."""
    if seq is None:
        return None
    steps, batch = seq.data.shape[:2]
    return Seq(seq.start, fn(seq.data.flatten(0, 1)).unflatten(0, (steps, batch)))


def _held_sequence(drives: HeldDrive, u: Seq, channels_last: bool) -> Seq:
    """The first area's drive over the steps of ``u``: one conv per kind of frame, repeated over the steps."""
    steps = [drives.at(t) for t in range(u.data.shape[0])]
    if len(drives.drives) == 1:
        return Seq(u.start, steps[0].unsqueeze(0).expand(len(steps), *steps[0].shape))
    return Seq(u.start, stack_seq(steps, channels_last))


def _combine_seq(drive: Seq | None, extra: Seq | None, mode: str) -> Seq | None:
    """:func:`~dynvision.models.plain.combine` for sequences that may start at different steps."""
    if extra is None or drive is None:
        return drive if mode == "multiplicative" or extra is None else extra
    first, second = (drive, extra) if drive.start <= extra.start else (extra, drive)
    lead = second.start - first.start
    if mode == "multiplicative":
        if drive.start >= extra.start:
            return Seq(drive.start, drive.data * (1 + extra.data[drive.start - extra.start :]))
        return Seq(drive.start, torch.cat([drive.data[:lead], drive.data[lead:] * (1 + extra.data)]))
    return Seq(first.start, torch.cat([first.data[:lead], first.data[lead:] + second.data]))


def _integrate_area(net: TemporalNetwork, area: Area, drive: Seq | None, n: int) -> Seq | None:
    """The per-step loop of the area-by-area path (inference), and of a separable first area's response
    to a drive of ones: integrator plus recurrent conv."""
    if drive is None:
        return None
    dyn, rec, target = net.dynamics, area.rec, net.dynamics.recurrence_target
    state = AreaState()
    ys: list[torch.Tensor] = []
    for t in range(drive.start, n):
        back = t - drive.start - dyn.delay_rec
        r = rec(ys[back]) if rec is not None and back >= 0 else None
        d = drive.data[t - drive.start]
        ys.append(area.step(state, add(d, r) if target == "middle" else d, r if target == "output" else None))
    return Seq(drive.start, stack_seq(ys, net.channels_last))


def _record_seq(frames: torch.Tensor, area: Area, size: torch.Size, y: Seq | None, mode: str) -> torch.Tensor:
    out = silent_record(frames, area, size, mode)
    if y is None:
        return out
    values = layer_stats(y.data) if mode == "layer" else y.data
    return torch.cat([out[: y.start], values.to(out.dtype)])


def held_first_area(net: TemporalNetwork, frames: torch.Tensor, held: list[bool] | None) -> HeldFirstArea | None:
    """:class:`~dynvision.models.held.HeldFirstArea` for these frames, with the first area's response to a
    drive of ones over the steps after the image arrives; None when the first area is not separable."""
    areas = list(net.layers.values())
    if not HeldFirstArea.applies(areas, net.dynamics, held):
        return None
    drive = areas[0].ff(frames[0])
    steps = frames.shape[0] - net.dynamics.delay_ff
    ones = drive.new_ones((1, areas[0].out_channels, 1, 1))
    unit = _integrate_area(net, areas[0], Seq(0, ones.expand(steps, *ones.shape)), steps)
    return HeldFirstArea(areas, drive, unit.data)


# -- step by step (training) -----------------------------------------------------------------------
def run_by_step(net: TemporalNetwork, frames: torch.Tensor, sizes: list, mode: str | None, held: list[bool] | None):
    """The reference loop on channels-last activity, with the held-image shortcuts.

    With ``held`` the first area's feedforward drive is computed once per kind of frame (shown or blank)
    and grad mode, and reused; a separable first area is its fixed maps scaled per step.
    """
    dyn, trial, n = net.dynamics, net.trial, frames.shape[0]
    areas = list(net.layers.values())
    keep = max(dyn.delay_ff, dyn.delay_rec, dyn.delay_skip, dyn.delay_fb) + 1
    ys: list[list[torch.Tensor | None]] = [[] for _ in areas]
    outs: list[list[torch.Tensor | None]] = [[] for _ in areas]
    states = [AreaState() for _ in areas]
    logits, recorded = [], {name: [] for name in net.areas}
    drives = HeldDrive(areas[0], frames, held) if held is not None else None

    def read(history: list, t: int) -> torch.Tensor | None:
        return history[t] if 0 <= t < len(history) else None

    first = held_first_area(net, frames, held)
    separable = first is not None
    if separable:
        scales = [None] * dyn.delay_ff + list(first.scales)

    for t in range(n):
        with torch.set_grad_enabled(trial.learns_at(t)):
            if trial.truncates_at(t, dyn.tbptt_steps):
                for state in states:
                    state.detach()
                ys = [[None if y is None else y.detach() for y in hist] for hist in ys]
            for i, area in enumerate(areas):
                size = sizes[i][0]
                if separable and i == 0:  # the area is s(t) times fixed maps
                    s = scales[t]
                    ys[0].append(None)
                    outs[0].append(None if s is None or not first.feeds_skip else first.output * s)
                    if mode is not None:
                        recorded[net.areas[0]].append(None if s is None else first.activity * s)
                    continue
                u = frames[t - dyn.delay_ff] if i == 0 and t >= dyn.delay_ff else None
                if i:
                    u = read(outs[i - 1], t - dyn.delay_ff)
                if (
                    area.input_skip is not None
                    and (k := read(frames if i == 1 else outs[i - 2], t - dyn.delay_ff)) is not None
                ):
                    u = add(u, area.input_skip(k))
                prev = read(ys[i], t - dyn.delay_rec)
                r = area.rec(prev) if area.rec is not None and prev is not None else None
                if dyn.recurrence_target == "input":
                    u = add(u, r)
                if separable and i == 1:
                    s = read(scales, t - dyn.delay_ff)
                    drive = None if s is None else first.next_drive(s)
                elif u is None:
                    drive = None
                elif i == 0 and drives is not None:
                    drive = drives.at(t - dyn.delay_ff)
                else:
                    drive = area.ff(u)
                if area.skip is not None and (s := read(outs[i - 2], t - dyn.delay_skip)) is not None:
                    drive = combine(drive, area.skip_input(s, size), dyn.skip_mode)
                if area.feedback is not None and (f := read(outs[i + 1], t - dyn.delay_fb)) is not None:
                    drive = combine(drive, area.feedback_input(f, size), dyn.feedback_mode)
                if dyn.recurrence_target == "middle":
                    drive = add(drive, r)
                y = area.step(states[i], drive, r if dyn.recurrence_target == "output" else None)
                ys[i].append(y)
                outs[i].append(None if y is None else area.output(y))
                if t >= keep:  # ring buffer: forget what no delay can reach any more
                    ys[i][t - keep] = outs[i][t - keep] = None
                if mode is not None:
                    recorded[net.areas[i]].append(y)
            last = readout_features([history[t] for history in outs[-net.readout_areas :]])
            features = last if last is not None else frames.new_zeros((frames.shape[1], areas[-1].out_channels))
            logits.append(net.readout(features))
    responses = {}
    if mode is not None:
        for i, (name, values) in enumerate(recorded.items()):
            empty = silent_record(frames[:1], areas[i], sizes[i][0], mode)[0]
            rows = [empty if y is None else (layer_stats(y) if mode == "layer" else y) for y in values]
            responses[name] = torch.stack([r.to(empty.dtype) for r in rows])
    return torch.stack([lg.to(logits[-1].dtype) for lg in logits]), responses
