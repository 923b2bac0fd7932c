"""What a model accepts, known without torch: names, the dynamics fields with their checks, models, aliases.

This module owns the names a model accepts (recurrence types, targets, integrators), the
:class:`Dynamics` fields with their checks, the built-in models and their keywords and the aliases; the
one parser and encoder of argument strings (``:rctype=full+tsteps=20``) is :mod:`dynvision.models.grammar`.

Every caller uses it: the models CLI, :func:`dynvision.models.create_model`, the zoo classes and the
workflow's configuration checks. So ``none`` (a recurrence type: text), ``null`` (no value: None),
``true``/``false``, numbers (``0001`` stays text), ``36,64`` (a tuple) mean the same everywhere, and
:func:`canonical_model_args` + :func:`dynvision.models.grammar.encode_args` give one model one file name (``tau=10`` and
``tau=10.0`` are the same model, written ``tau=10``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from dynvision.models.grammar import closest, coerce, format_value

RECURRENCE_TYPES = (
    "none",
    "self",
    "full",
    "depthwise",
    "pointwise",
    "depthpointwise",
    "pointdepthwise",
    "local",
    "localdepthwise",
    "identity",
)
RECURRENCE_TARGETS = ("input", "middle", "output")
INTEGRATORS = ("euler", "rk4")
ENGINES = ("fast", "plain")
CONNECTION_MODES = ("additive", "multiplicative")
MAX_TIMESTEPS = 10_000
"""The longest trial a model accepts: a bound against typos such as tsteps=100000000 (25 GB of activity)."""


def _connection_mode(name: str, value: bool | str) -> str | None:
    """``skip``/``feedback`` accept booleans or a mode name; returns the mode or None when off."""
    if value is True:
        return "additive"
    if value is False:
        return None
    if value in CONNECTION_MODES:
        return value
    raise ValueError(f"{name}={value!r} is invalid; valid: true, false, {', '.join(CONNECTION_MODES)}")


def steps_from_ms(name: str, value_ms: float, dt: float) -> int:
    """Turn a delay in ms into a whole number of time steps, ``round(value / dt)``."""
    if value_ms < 0:
        raise ValueError(f"{name}={format_value(value_ms)} is negative; delays must be >= 0 ms")
    return round(value_ms / dt)


@dataclass
class Dynamics:
    """Temporal settings of a model. Times are in ms; delays become ``round(t / dt)`` steps.

    Attributes:
        n_timesteps: frames of a trial (a static image is held for this many; a temporal input brings
            its own length). Idle steps come before them.
        dt: integration step in ms. tau: membrane time constant in ms; ``alpha = dt / tau``.
        t_feedforward, t_recurrence, t_skip, t_feedback: conduction delays in ms.
        recurrence_type, recurrence_target: which recurrent connection and where it joins the area.
        skip, feedback: off, ``True``/``"additive"`` or ``"multiplicative"``.
        supralinearity: exponent n of ``k sign(x)|x|^n`` on the area output (None = off), gain k.
        normalisation: divide each area's output by ``norm_sigma`` plus a pool of its activity that
            integrates over ``t_norm`` ms (0: instantaneous); see ``DivisiveNormalisation``.
        adaptation: gain of a subtractive adaptation current with time constant ``t_adaptation`` ms
            (0 = off); see ``Adaptation``.
        retina: prepend a retina stage (its own area with dynamics) before the first area.
        train_tau: learn tau per area. integration: ``euler`` or ``rk4``.
        idle_timesteps: blank warm-up steps run without gradient before the frames.
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
    normalisation: bool = False
    norm_sigma: float = 1.0
    t_norm: float = 20.0
    adaptation: float = 0.0
    t_adaptation: float = 100.0
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
        for f in fields(self):
            setattr(self, f.name, coerce(f.name, getattr(self, f.name), str(f.type)))
        self._check_ranges()
        self._check_choices()
        self.skip_mode = _connection_mode("skip", self.skip)
        self.feedback_mode = _connection_mode("feedback", self.feedback)
        if self.feedforward_only:
            self.recurrence_type, self.skip_mode, self.feedback_mode = "none", None, None
        self.delay_ff = steps_from_ms("t_feedforward", self.t_feedforward, self.dt)
        self.delay_rec = steps_from_ms("t_recurrence", self.t_recurrence, self.dt)
        self.delay_skip = steps_from_ms("t_skip", self.t_skip, self.dt)
        self.delay_fb = steps_from_ms("t_feedback", self.t_feedback, self.dt)
        self.reaction_steps = steps_from_ms("loss_reaction_time", self.loss_reaction_time, self.dt)
        if self.recurrence_type != "none" and self.delay_rec < 1:
            raise ValueError(
                f"t_recurrence={format_value(self.t_recurrence)} is below one step (dt={format_value(self.dt)}); "
                "recurrence needs >= dt"
            )
        if self.feedback_mode and self.delay_fb < 1:
            raise ValueError(
                f"t_feedback={format_value(self.t_feedback)} is below one step (dt={format_value(self.dt)}); "
                "feedback needs >= dt"
            )

    def _check_ranges(self) -> None:
        if self.dt <= 0:
            raise ValueError(f"dt={format_value(self.dt)} must be > 0 ms")
        if self.tau <= 0:
            raise ValueError(f"tau={format_value(self.tau)} must be > 0 ms")
        if self.dt > self.tau:
            raise ValueError(
                f"dt={format_value(self.dt)} > tau={format_value(self.tau)}: alpha=dt/tau must be <= 1; "
                "lower dt or raise tau"
            )
        for name, value, low in (
            ("n_timesteps", self.n_timesteps, 1),
            ("idle_timesteps", self.idle_timesteps, 0),
            ("recurrence_kernel", self.recurrence_kernel, 1),
        ):
            if value < low:
                raise ValueError(f"{name}={value} must be >= {low}")
        if self.n_timesteps + self.idle_timesteps > MAX_TIMESTEPS:
            raise ValueError(
                f"n_timesteps={self.n_timesteps} + idle_timesteps={self.idle_timesteps} is over {MAX_TIMESTEPS} steps"
            )
        if self.tbptt_steps is not None and self.tbptt_steps < 1:
            raise ValueError(f"tbptt_steps={self.tbptt_steps} must be >= 1 or null")
        if self.loss_reaction_time < 0:
            raise ValueError(f"loss_reaction_time={format_value(self.loss_reaction_time)} must be >= 0 ms")
        if self.supralinearity is not None and self.supralinearity <= 0:
            raise ValueError(f"supralinearity={format_value(self.supralinearity)} must be > 0 (or null: off)")
        if self.norm_sigma <= 0:
            raise ValueError(f"norm_sigma={format_value(self.norm_sigma)} must be > 0")
        if self.adaptation < 0:
            raise ValueError(f"adaptation={format_value(self.adaptation)} must be >= 0 (0: off)")
        for name, value, zero in (("t_norm", self.t_norm, True), ("t_adaptation", self.t_adaptation, False)):
            if (value != 0 or not zero) and value < self.dt:
                allowed = "0 (instantaneous) or >= dt" if zero else ">= dt"
                raise ValueError(f"{name}={format_value(value)} must be {allowed} (dt={format_value(self.dt)})")

    def _check_choices(self) -> None:
        for name, valid in (
            ("recurrence_type", RECURRENCE_TYPES),
            ("recurrence_target", RECURRENCE_TARGETS),
            ("integration", INTEGRATORS),
            ("engine", ENGINES),
        ):
            if getattr(self, name) not in valid:
                raise ValueError(f"{name}={getattr(self, name)!r} is unknown; valid: {', '.join(valid)}")
        pattern = self.presentation_pattern
        if not pattern or set(pattern) - {"0", "1"} or "1" not in pattern:
            raise ValueError(f"presentation_pattern={pattern!r} must be a string of 0/1 with at least one 1")


def first_response_steps(dynamics: Dynamics, n_areas: int, input_skips: Sequence[int] = ()) -> list[int]:
    """Step (0 = first input frame, no idle steps) at which each of ``n_areas`` chained areas first gets any drive.

    The input reaches the first area after ``d_ff`` steps and every further area ``d_ff`` steps later;
    additive skip (``d_skip`` from two areas below), the architectural skips of the areas in ``input_skips``
    (``d_ff`` from two areas below, the second area's from the input) and feedback (``d_fb`` from the area
    above) can only shorten that path. Multiplicative connections need a drive to act on.
    """
    dyn, inf = dynamics, 10**9
    first = [inf] * n_areas
    for _ in range(n_areas + 1):
        for i in range(n_areas):
            options = [dyn.delay_ff + (first[i - 1] if i else 0)]
            if i in input_skips:
                options.append(dyn.delay_ff + (first[i - 2] if i >= 2 else 0))
            if dyn.skip_mode == "additive" and i >= 2:
                options.append(first[i - 2] + dyn.delay_skip)
            if dyn.feedback_mode == "additive" and i + 1 < n_areas:
                options.append(first[i + 1] + dyn.delay_fb)
            first[i] = min(first[i], *options)
    return first


def late_response_refusal(dynamics: Dynamics, n_areas: int, input_skips: Sequence[int] = ()) -> str | None:
    """Why ``n_areas`` chained areas cannot learn in a trial of ``n_timesteps`` frames: the last area (which the
    read-out sees) would first respond after the last frame. None if it responds in time."""
    last = first_response_steps(dynamics, n_areas, input_skips)[-1]
    if last < dynamics.n_timesteps:
        return None
    tff, dt = (format_value(value) for value in (dynamics.t_feedforward, dynamics.dt))
    return (
        f"its last area first responds at step {last} (tff={tff} ms per area, dt={dt} ms), after the last of "
        f"tsteps={dynamics.n_timesteps}; raise tsteps or lower tff"
    )


DYNAMICS_ARGS = tuple(f.name for f in fields(Dynamics))
DYNAMICS_TYPES = {f.name: str(f.type) for f in fields(Dynamics)}

# --- the built-in models ------------------------------------------------------------------------------
ALIASES = {
    "rctype": "recurrence_type",
    "rctarget": "recurrence_target",
    "rckernel": "recurrence_kernel",
    "tsteps": "n_timesteps",
    "tff": "t_feedforward",
    "trc": "t_recurrence",
    "tsk": "t_skip",
    "tfb": "t_feedback",
    "idle": "idle_timesteps",
    "lossrt": "loss_reaction_time",
    "pattern": "presentation_pattern",
    "supralin": "supralinearity",
    "supragain": "supralinearity_gain",
    "norm": "normalisation",
    "normsigma": "norm_sigma",
    "tnorm": "t_norm",
    "adapt": "adaptation",
    "tadapt": "t_adaptation",
    "traintau": "train_tau",
    "ffonly": "feedforward_only",
    "tbptt": "tbptt_steps",
    "classes": "n_classes",
    "inchannels": "input_channels",
    "convs": "convs_per_area",
    "kernel": "kernel_size",
    "areas": "area_names",
}
"""Short names (as in file names, where ``_`` separates fields) of the long argument names."""
SHORT_NAMES = {long: short for short, long in ALIASES.items()}
KEYWORD_TYPES = {
    "channels": "tuple[int]",
    "convs_per_area": "int",
    "kernel_size": "int",
    "area_names": "tuple[str]",
    "n_classes": "int",
    "input_channels": "int",
    "head": "str",
}
"""Types of the models' own keywords (the dynamics fields carry theirs)."""
_DYRCNN = ("channels", "convs_per_area", "kernel_size", "area_names")
_EVERY_MODEL = ("n_classes", "input_channels")


@dataclass(frozen=True)
class ModelEntry:
    """A built-in model: its number of areas (without a retina), its own keywords and the dynamics defaults
    that differ from :class:`Dynamics`."""

    areas: int
    keywords: tuple[str, ...] = ()
    dynamics: Mapping[str, Any] = field(default_factory=dict)
    input_skips: tuple[int, ...] = ()
    """The areas with an architectural skip from two areas below (:func:`first_response_steps`)."""

    def n_areas(self, kwargs: Mapping[str, Any], dynamics: Dynamics) -> int:
        """Areas of the model built with (long-named) ``kwargs``: ``channels`` sets them where it is a keyword."""
        channels = kwargs.get("channels") if "channels" in self.keywords else None
        areas = len(coerce("channels", channels, "tuple[int]")) if channels is not None else self.areas
        return areas + int(dynamics.retina)


_MECHANISMS = {"normalisation": True, "adaptation": 2.0, "t_adaptation": 40.0}
"""The DyRCNN family's defaults: divisive normalisation and adaptation on (measured in bench/learning.py: the
default model learns faster with them and its activity settles after the stimulus)."""

BUILTIN_MODELS: dict[str, ModelEntry] = {
    "AlexNet": ModelEntry(5, ("head",), dynamics={"recurrence_type": "none"}),
    "CorNetRT": ModelEntry(4, dynamics={"recurrence_type": "identity", "tau": 2.0}),
    "CordsNet": ModelEntry(8, ("image_size",), {"tau": 10.0}, input_skips=(1, 2, 3, 4, 5, 6, 7)),
    "DyRCNNx2": ModelEntry(2, _DYRCNN, _MECHANISMS),
    "DyRCNNx4": ModelEntry(4, _DYRCNN, _MECHANISMS),
    "DyRCNNx8": ModelEntry(4, _DYRCNN, _MECHANISMS),
    "ResNet18": ModelEntry(5, dynamics={"recurrence_type": "none"}),
}
"""Each built-in model; all of them also take ``n_classes``, ``input_channels`` and the dynamics."""


def builtin_arguments(name: str) -> list[str] | None:
    """Every keyword a built-in model accepts, in the order of its signature; None for any other name."""
    entry = BUILTIN_MODELS.get(name)
    return None if entry is None else [*entry.keywords, *_EVERY_MODEL, *DYNAMICS_ARGS]


def sized_for(name: str, image_size: int) -> dict[str, int]:
    """``{"image_size": image_size}`` for a built-in model built for one image size (CordsNet), else nothing."""
    return {"image_size": image_size} if "image_size" in (builtin_arguments(name) or ()) else {}


def map_arguments(name: str, kwargs: Mapping[str, Any], valid: list[str]) -> dict[str, Any]:
    """Map aliases to long names, drop ``None`` (= the model's default), refuse keys not in ``valid``, and type
    the values of known arguments."""
    resolved: dict[str, Any] = {}
    for key, value in kwargs.items():
        long = ALIASES.get(key, key)
        if long not in valid:
            known = [*valid, *(short for short, target in ALIASES.items() if target in valid)]
            aliases = ", ".join(f"{a}->{b}" for a, b in ALIASES.items() if b in valid)
            raise ValueError(
                f"{name} has no argument {key!r}{closest(key, known)}; valid: {', '.join(valid)} (aliases: {aliases})"
            )
        if long in resolved:
            raise ValueError(f"argument {long!r} given twice (as {key!r} and under another name)")
        if value is not None:
            kind = DYNAMICS_TYPES.get(long) or KEYWORD_TYPES.get(long)
            resolved[long] = coerce(key, value, kind) if kind else value  # a bad value named as it was written
    return resolved


def split_dynamics(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Long-named arguments split into (the model's own keywords, the dynamics fields)."""
    own = {key: value for key, value in kwargs.items() if key not in DYNAMICS_TYPES}
    return own, {key: value for key, value in kwargs.items() if key in DYNAMICS_TYPES}


def model_dynamics(
    name: str,
    kwargs: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    valid: Iterable[str] | None = None,
) -> Dynamics:
    """The checked :class:`Dynamics` of a model built with ``kwargs`` (long names or aliases), no torch needed.

    Args:
        name: the model, for messages; a built-in model's dynamics defaults and keywords are known here.
        kwargs: its arguments; the model's own keywords are type-checked, the dynamics fully checked.
        defaults: the model's own dynamics defaults (default: those of :data:`BUILTIN_MODELS`).
        valid: the keywords it accepts (default: a built-in model's, else every known keyword).
    """
    entry = BUILTIN_MODELS.get(name)
    if defaults is None:
        defaults = entry.dynamics if entry else {}
    if valid is None:
        valid = builtin_arguments(name) or [*KEYWORD_TYPES, *DYNAMICS_ARGS]
    own, dynamics = split_dynamics(map_arguments(name, kwargs, list(valid)))
    for key, value in own.items():
        if key in KEYWORD_TYPES:
            coerce(key, value, KEYWORD_TYPES[key])
    return Dynamics(**{**defaults, **dynamics})


def canonical_model_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Model arguments under their short names with typed values: one model, one set of arguments.

    ``{"recurrence_type": "full", "tau": 10.0}`` and ``{"rctype": "full", "tau": 10}`` both give
    ``{"rctype": "full", "tau": 10.0}``, which :func:`dynvision.models.grammar.encode_args` writes
    ``:rctype=full+tau=10``.
    Keys it does not know (a third-party model's) pass unchanged.
    """
    canonical: dict[str, Any] = {}
    for key, value in args.items():
        long = ALIASES.get(key, key)
        kind = DYNAMICS_TYPES.get(long) or KEYWORD_TYPES.get(long)
        short = SHORT_NAMES.get(long, long)
        if short in canonical:
            raise ValueError(f"argument {long!r} given twice (as {key!r} and under another name)")
        canonical[short] = value if kind is None or value is None else coerce(key, value, kind)
    return canonical
