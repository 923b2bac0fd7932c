"""The reference engine (``engine="plain"``): the equations, step by step, one conv per connection per step.

Each step ``t`` every area ``i`` computes

    drive_i(t) = ff_i(o_{i-1}(t - d_ff) [+ k_i(o_{i-2}(t - d_ff))]) [+ rec_i(y_i(t - d_rec))]
                 [+ skip_i(o_{i-2}(t - d_skip))] [+ up(fb_i(o_{i+1}(t - d_fb)))]
    h_i(t)     = h_i(t-1) + alpha (drive_i(t) - g a_i(t-1) - h_i(t-1))   (Euler; RK4 optional)
    u_i(t)     = supralin(relu(post_i(h_i(t))))
    N_i(t)     = N_i(t-1) + alpha_N (mean_c u_i(t) - N_i(t-1))          (normalisation pool)
    y_i(t)     = u_i(t) / (sigma + N_i(t))        o_i(t) = pool_i(y_i(t))
    a_i(t)     = a_i(t-1) + alpha_a (y_i(t) - a_i(t-1))                 (adaptation state)
    logits(t)  = W mean_{x,y} o_last(t) + b

with ``o_{-1}`` the input frames (after the model's ``stem``, if it has one); without ``normalisation`` y = u,
without ``adaptation`` g = 0; ``post_i`` is an area's output stage where it has one (CORnet-RT's conv1 and
norm1), else the identity; ``k_i`` is an architectural skip (CordsNet's, ``AreaSpec.input_skip``). An area that
integrates rates (``AreaSpec.rate``, CordsNet) integrates ``relu(drive_i(t) - g a_i(t-1))`` instead. The read-out
sees ``o_last(t)``, or the sum of the last few areas' outputs (``readout_areas``).
A connection whose source has not responded yet carries nothing (not even a bias), so an area stays
exactly zero until its first input arrives (``None`` below). Skip and feedback can also be
multiplicative: they then scale the feedforward drive, ``ff * (1 + s)``, before the recurrent input
is added. The recurrent input joins before the feedforward conv instead (``recurrence_target=input``)
or after the integrator (``output``).

:func:`run` is this loop as it reads; the fast engine (:mod:`dynvision.models.fast`) must give the
same logits, responses and gradients, which the tests check against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from dynvision.models.dynamics import AreaState

if TYPE_CHECKING:
    from dynvision.models.network import Area, TemporalNetwork


def add(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    """Sum of two inputs where either may not have arrived yet."""
    if a is None:
        return b
    return a if b is None else a + b


def combine(drive: torch.Tensor | None, extra: torch.Tensor | None, mode: str) -> torch.Tensor | None:
    """A skip or feedback input joins the drive: added, or scaling it by ``1 + extra`` (nothing to scale: nothing)."""
    if mode == "multiplicative":
        return drive if drive is None or extra is None else drive * (1 + extra)
    return add(drive, extra)


def readout_features(outputs: list[torch.Tensor | None]) -> torch.Tensor | None:
    """What the read-out sees at a step: the sum of the outputs of the last areas (None while all are silent)."""
    features = None
    for output in outputs:
        features = add(features, output)
    return features


def layer_stats(y: torch.Tensor) -> torch.Tensor:
    """Mean and std of |activity| over the units of each sample: ``(..., C, H, W) -> (..., 2)``."""
    a = y.abs().flatten(-3).float()
    return torch.stack([a.mean(-1), a.std(-1, unbiased=False)], -1)


def silent_record(frames: torch.Tensor, area: Area, size: torch.Size, mode: str) -> torch.Tensor:
    """What ``record`` shows of an area that has not responded: zeros over ``frames`` (steps, batch)."""
    n, b = frames.shape[:2]
    if mode == "layer":
        return frames.new_zeros((n, b, 2), dtype=torch.float32)
    return frames.new_zeros((n, b, area.out_channels, *size))


def _at(history: list | torch.Tensor, t: int) -> torch.Tensor | None:
    """The value at step ``t``, or None before the first step (nothing has arrived)."""
    return history[t] if 0 <= t < len(history) else None


def run(net: TemporalNetwork, frames: torch.Tensor, sizes: list, mode: str | None):
    """Logits ``(steps, B, n_classes)`` and ``{area: responses (steps, B, ...)}`` of time-major ``frames``.

    ``frames`` include the idle steps (:class:`~dynvision.models.trial.Trial`); ``sizes`` are the areas'
    (state, output) sizes; ``mode`` is None, ``layer`` or ``unit``.
    """
    dyn, trial, target = net.dynamics, net.trial, net.dynamics.recurrence_target
    areas = list(net.layers.values())
    keep = max(dyn.delay_ff, dyn.delay_rec, dyn.delay_skip, dyn.delay_fb) + 1  # how far back a step reads
    states = [AreaState() for _ in areas]  # h_i(t), and the pool and adaptation state where an area has them
    y: list[list[torch.Tensor | None]] = [[] for _ in areas]  # y_i(t)
    o: list[list[torch.Tensor | None]] = [[] for _ in areas]  # o_i(t) = pool_i(y_i(t))
    recorded: list[list[torch.Tensor | None]] = [[] for _ in areas]
    logits = []
    for t in range(frames.shape[0]):
        with torch.set_grad_enabled(trial.learns_at(t)):
            if trial.truncates_at(t, dyn.tbptt_steps):
                for state in states:
                    state.detach()
                y = [[None if v is None else v.detach() for v in history] for history in y]
            for i, area in enumerate(areas):
                size = sizes[i][0]
                u = _at(frames, t - dyn.delay_ff) if i == 0 else _at(o[i - 1], t - dyn.delay_ff)
                if (
                    area.input_skip is not None
                    and (k := _at(frames if i == 1 else o[i - 2], t - dyn.delay_ff)) is not None
                ):
                    u = add(u, area.input_skip(k))
                prev = _at(y[i], t - dyn.delay_rec)
                r = area.rec(prev) if area.rec is not None and prev is not None else None
                if target == "input":
                    u = add(u, r)
                drive = None if u is None else area.ff(u)
                if area.skip is not None and (s := _at(o[i - 2], t - dyn.delay_skip)) is not None:
                    drive = combine(drive, area.skip_input(s, size), dyn.skip_mode)
                if area.feedback is not None and (f := _at(o[i + 1], t - dyn.delay_fb)) is not None:
                    drive = combine(drive, area.feedback_input(f, size), dyn.feedback_mode)
                if target == "middle":
                    drive = add(drive, r)
                y_t = area.step(states[i], drive, r if target == "output" else None)
                y[i].append(y_t)
                o[i].append(None if y_t is None else area.output(y_t))
                if t >= keep:  # no delay reaches this far back any more
                    y[i][t - keep] = o[i][t - keep] = None
                if mode is not None:
                    recorded[i].append(y_t)
            last = readout_features([history[t] for history in o[-net.readout_areas :]])
            if last is None:  # a silent last area: the read-out gives its bias
                last = frames.new_zeros((frames.shape[1], areas[-1].out_channels))
            logits.append(net.readout(last))
    responses = {}
    if mode is not None:
        for i, (name, area) in enumerate(net.layers.items()):
            silent = silent_record(frames[:1], area, sizes[i][0], mode)[0]
            rows = [silent if v is None else (layer_stats(v) if mode == "layer" else v) for v in recorded[i]]
            responses[name] = torch.stack([row.to(silent.dtype) for row in rows])
    return torch.stack([lg.to(logits[-1].dtype) for lg in logits]), responses
