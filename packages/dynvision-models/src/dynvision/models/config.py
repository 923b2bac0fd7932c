"""The dynamics arguments every temporal model shares, validated once with one-line errors (no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from dynvision.models.names import INTEGRATORS, RECURRENCE_TARGETS, RECURRENCE_TYPES

ENGINES = ("fast", "plain")
CONNECTION_MODES = ("additive", "multiplicative")


def steps_from_ms(name: str, value_ms: float, dt: float) -> int:
    """Turn a delay in ms into a whole number of time steps, ``round(value / dt)``."""
    if value_ms < 0:
        raise ValueError(f"{name}={value_ms} is negative; delays must be >= 0 ms")
    return round(value_ms / dt)


def _connection_mode(name: str, value: bool | str) -> str | None:
    """``skip``/``feedback`` accept booleans or a mode name; returns the mode or None when off."""
    if value is True:
        return "additive"
    if value is False or value is None:
        return None
    if isinstance(value, str) and value in CONNECTION_MODES:
        return value
    raise ValueError(f"{name}={value!r} is invalid; valid: true, false, {', '.join(CONNECTION_MODES)}")


@dataclass
class Dynamics:
    """Temporal settings of a model. Times are in ms; delays become ``round(t / dt)`` steps.

    Attributes:
        n_timesteps: steps a static image is held for (a temporal input brings its own length).
        dt: integration step in ms. tau: membrane time constant in ms; ``alpha = dt / tau``.
        t_feedforward, t_recurrence, t_skip, t_feedback: conduction delays in ms.
        recurrence_type, recurrence_target: which recurrent connection and where it joins the area.
        skip, feedback: off, ``True``/``"additive"`` or ``"multiplicative"``.
        supralinearity: exponent n of ``k sign(x)|x|^n`` on the area output (None = off), gain k.
        retina: prepend a retina stage (its own area with dynamics) before the first area.
        train_tau: learn tau per area. integration: ``euler`` or ``rk4``.
        idle_timesteps: blank warm-up steps run without gradient before the stimulus.
        presentation_pattern: '1'/'0' string splitting a held image's steps into shown/blank slots.
        loss_reaction_time: ms after each stimulus onset whose labels are ignored by the loss.
        feedforward_only: switch off recurrence, skip and feedback.
        tbptt_steps: detach the state every this many steps (truncated BPTT), None = full BPTT.
        engine: ``fast`` (channels-last; inference batched over time area by area) or ``plain``
            (the reference: step by step, one conv per connection per step). Same dynamics.
    """

    n_timesteps: int = 20
    dt: float = 2.0
    tau: float = 8.0
    t_feedforward: float = 2.0
    t_recurrence: float = 2.0
    t_skip: float = 2.0
    t_feedback: float = 4.0
    recurrence_type: str = "full"
    recurrence_target: str = "middle"
    recurrence_kernel: int = 3
    skip: bool | str = False
    feedback: bool | str = False
    supralinearity: float | None = None
    supralinearity_gain: float = 1.0
    retina: bool = False
    train_tau: bool = False
    integration: str = "euler"
    idle_timesteps: int = 0
    presentation_pattern: str = "1"
    loss_reaction_time: float = 0.0
    feedforward_only: bool = False
    tbptt_steps: int | None = None
    engine: str = "fast"

    def __post_init__(self) -> None:
        if self.dt <= 0:
            raise ValueError(f"dt={self.dt} must be > 0 ms")
        if self.tau <= 0:
            raise ValueError(f"tau={self.tau} must be > 0 ms")
        if self.dt > self.tau:
            raise ValueError(f"dt={self.dt} > tau={self.tau}: alpha=dt/tau must be <= 1; lower dt or raise tau")
        if int(self.n_timesteps) < 1:
            raise ValueError(f"n_timesteps={self.n_timesteps} must be >= 1")
        if int(self.idle_timesteps) < 0:
            raise ValueError(f"idle_timesteps={self.idle_timesteps} must be >= 0")
        for name, valid in (
            ("recurrence_type", RECURRENCE_TYPES),
            ("recurrence_target", RECURRENCE_TARGETS),
            ("integration", INTEGRATORS),
            ("engine", ENGINES),
        ):
            if getattr(self, name) not in valid:
                raise ValueError(f"{name}={getattr(self, name)!r} is unknown; valid: {', '.join(valid)}")
        pattern = str(self.presentation_pattern)
        if not pattern or set(pattern) - {"0", "1"} or "1" not in pattern:
            raise ValueError(f"presentation_pattern={pattern!r} must be a string of 0/1 with at least one 1")
        self.presentation_pattern = pattern
        self.skip_mode = _connection_mode("skip", self.skip)
        self.feedback_mode = _connection_mode("feedback", self.feedback)
        if self.feedforward_only:
            self.recurrence_type, self.skip_mode, self.feedback_mode = "none", None, None
        if self.tbptt_steps is not None and int(self.tbptt_steps) < 1:
            raise ValueError(f"tbptt_steps={self.tbptt_steps} must be >= 1 or None")
        if self.loss_reaction_time < 0:
            raise ValueError(f"loss_reaction_time={self.loss_reaction_time} must be >= 0 ms")
        self.n_timesteps, self.idle_timesteps = int(self.n_timesteps), int(self.idle_timesteps)
        self.delay_ff = steps_from_ms("t_feedforward", self.t_feedforward, self.dt)
        self.delay_rec = steps_from_ms("t_recurrence", self.t_recurrence, self.dt)
        self.delay_skip = steps_from_ms("t_skip", self.t_skip, self.dt)
        self.delay_fb = steps_from_ms("t_feedback", self.t_feedback, self.dt)
        self.reaction_steps = steps_from_ms("loss_reaction_time", self.loss_reaction_time, self.dt)
        if self.recurrence_type != "none" and self.delay_rec < 1:
            raise ValueError(
                f"t_recurrence={self.t_recurrence} is below one step (dt={self.dt}); recurrence needs >= dt"
            )
        if self.feedback_mode and self.delay_fb < 1:
            raise ValueError(f"t_feedback={self.t_feedback} is below one step (dt={self.dt}); feedback needs >= dt")


DYNAMICS_ARGS = tuple(f.name for f in fields(Dynamics))
