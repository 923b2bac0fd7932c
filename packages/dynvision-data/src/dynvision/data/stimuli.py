"""Temporal stimulus loaders: image batches (B, C, H, W) -> sequences (B, T, C, H, W) with labels (B, T).

A stimulus is a small frozen protocol object. Calling it is a pure function of (images, labels, arguments,
seed): the same call gives the same tensor, and every call returns freshly allocated tensors. Frames without a
stimulus show `blank_value` (0 = the dataset mean in normalised space) and carry the label -1.

A stimulus gives the `data_timesteps` frames of its protocol and their labels, nothing else: idle warm-up steps
before the frames are the model's (its `idle_timesteps`), run and cut off inside its forward. `tsteps` means the
same in both packages: the frames of a trial. Arguments accept the workflow's short aliases (`dsteps`/`tsteps`,
`stim`, `intro`, `interval`, `contrast`, `ssnr`, `noisetype`, `tempmode`, `noiseseed`).
Third-party stimuli register through the entry-point group `dynvision.stimuli` (name -> Stimulus subclass).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # torch is imported where tensors are made, so that arguments can be checked without it
    import torch

ENTRY_POINT_GROUP = "dynvision.stimuli"
NON_LABEL = -1

_STIMULI: dict[str, type[Stimulus]] = {}
_ENTRY_POINTS_LOADED = False


def register_stimulus(cls: type[Stimulus]) -> type[Stimulus]:
    """Class decorator adding a stimulus under its class name; duplicate names are refused."""
    if cls.__name__ in _STIMULI:
        raise ValueError(f"stimulus {cls.__name__!r} is already registered")
    _STIMULI[cls.__name__] = cls
    return cls


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        cls = entry.load()
        if entry.name not in _STIMULI:
            _STIMULI[entry.name] = cls


def list_stimuli() -> list[str]:
    """Names of all stimuli, built in and from installed entry points."""
    _load_entry_points()
    return sorted(_STIMULI)


def get_stimulus_class(name: str) -> type[Stimulus]:
    """Look a stimulus class up by name; unknown names raise one line listing the valid ones."""
    _load_entry_points()
    if name not in _STIMULI:
        raise ValueError(f"unknown stimulus loader {name!r}; valid choices: {', '.join(list_stimuli())}")
    return _STIMULI[name]


def create_stimulus(name: str, dt: float | None = None, **kwargs) -> Stimulus:
    """Build a stimulus from its name and (long or alias) arguments; `None` values mean "the default".

    String values (as they come from workflow wildcards like `tsteps=20`) are converted to the argument's type.
    Durations may be given in ms (`trialms`, `stimms`, `introms`, `intervalms`): they become frames of the
    model's time step `dt` ms, which must divide them.
    """
    return get_stimulus_class(name).from_kwargs(dt=dt, **kwargs)


MS_DURATIONS = {
    "trialms": "data_timesteps",
    "stimms": "stimulus_duration",
    "introms": "intro_duration",
    "intervalms": "interval_duration",
    "adaptms": "adapter_duration",
    "delayms": "delay_duration",
}
"""Durations given in ms (file-name friendly names, without `_`) and the frame counts they set."""


def frames_of(key: str, value, dt: float | None) -> int:
    """A duration of `value` ms as a whole number of frames of `dt` ms (one line naming the value if not)."""
    if dt is None:
        raise ValueError(f"{key}={value} is in ms and needs the model's time step dt")
    ms = _to_float(value)
    frames = round(ms / dt)
    if ms < 0 or abs(frames * dt - ms) > 1e-6 * max(1.0, abs(ms)):
        raise ValueError(f"{key}={value} ms is not a whole number >= 0 of frames of dt={dt:g} ms")
    return frames


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (use true/false)")


def _to_int(value) -> int:
    """Integers stay integers: 2.5, 2.0 and true are refused, never truncated."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def _to_float(value) -> float:
    number = float(value) if not isinstance(value, bool) else math.nan
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _optional_int(value) -> int | None:
    return None if value is None or str(value).lower() == "none" else _to_int(value)


_CONVERTERS = {"int": _to_int, "float": _to_float, "str": str, "bool": _to_bool, "int | None": _optional_int}


@dataclass(frozen=True)
class Stimulus:
    """Base protocol: `data_timesteps` frames, which of them show the image defined by the subclass."""

    data_timesteps: int = 20
    blank_value: float = 0.0

    ALIASES: ClassVar[dict[str, str]] = {
        "dsteps": "data_timesteps",
        "tsteps": "data_timesteps",
        "n_timesteps": "data_timesteps",
        "blank": "blank_value",
        "stim": "stimulus_duration",
        "intro": "intro_duration",
        "interval": "interval_duration",
        "noisetype": "noise_type",
        "tempmode": "temporal_mode",
        "noiseseed": "noise_seed",
        "corr": "correlation",
        "blanknoise": "noise_on_blank",
        "blurtype": "blur_type",
        "blurpx": "blur",
        "angle": "motion_angle",
    }

    @classmethod
    def argument_names(cls) -> list[str]:
        """Long names and the aliases (in frames and in ms) that map onto them."""
        fields = {f.name for f in dataclasses.fields(cls)}
        aliases = {**cls.ALIASES, **MS_DURATIONS}
        return sorted(fields | {alias for alias, target in aliases.items() if target in fields})

    @classmethod
    def from_kwargs(cls, dt: float | None = None, **kwargs) -> Stimulus:
        """Resolve aliases, drop None, convert strings and durations in ms (with `dt`, see `MS_DURATIONS`);
        unknown or doubled arguments raise one clear line."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        resolved: dict = {}
        given: dict[str, str] = {}  # field -> the key that set it
        for key, value in kwargs.items():
            if value is None:
                continue
            if key in MS_DURATIONS and MS_DURATIONS[key] in fields:
                value = frames_of(key, value, dt)
            name = MS_DURATIONS.get(key) if key in MS_DURATIONS else cls.ALIASES.get(key, key)
            if name not in fields:
                valid = cls.argument_names()
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ValueError(
                    f"unknown argument {key!r} for {cls.__name__}; valid choices: {', '.join(valid)}{hint}"
                )
            if name in resolved:
                raise ValueError(f"{cls.__name__}: argument {name!r} given twice (as {given[name]!r} and {key!r})")
            given[name] = key
            converter = _CONVERTERS.get(str(fields[name].type), lambda v: v)
            try:
                resolved[name] = converter(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{cls.__name__}: argument {key!r}={value!r} is not a valid {fields[name].type}"
                ) from None
        return cls(**resolved)

    def __post_init__(self) -> None:
        if self.data_timesteps < 1:
            raise ValueError(f"{type(self).__name__}: data_timesteps must be at least 1, got {self.data_timesteps}")
        self.presentation()  # validates the protocol early, before any batch is built

    def presentation(self) -> list[bool]:
        """Which protocol frames show the image (default: all)."""
        return [True] * self.data_timesteps

    def frames_on(self) -> torch.Tensor:
        """Boolean (T,): which frames show the image."""
        import torch

        return torch.tensor(self.presentation(), dtype=torch.bool)

    def image_on_frame(self, images: torch.Tensor) -> torch.Tensor:
        """What a stimulus frame shows (default: the image as is)."""
        return images

    def _blocks(self, **durations: int) -> list[bool]:
        """Concatenate named blank/stimulus blocks and check they fit in data_timesteps."""
        total = sum(durations.values())
        if any(value < 0 for value in durations.values()) or total > self.data_timesteps:
            listed = ", ".join(f"{k}={v}" for k, v in durations.items())
            raise ValueError(
                f"{type(self).__name__}: {listed} need {total} frames but data_timesteps={self.data_timesteps}"
            )
        frames = []
        for key, value in durations.items():
            frames += [key.startswith("stim")] * value
        return frames + [False] * (self.data_timesteps - total)

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, seed: int = 0, dtype: torch.dtype | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Turn a batch into a sequence.

        Args:
            images: (B, C, H, W) normalised images.
            labels: (B,) labels.
            seed: Seed of any randomness (noise); the output is a pure function of the inputs and the seed.
            dtype: Output dtype (default: the images' floating dtype).

        Returns:
            inputs (B, T, C, H, W) and labels (B, T) int64 with -1 on frames without a stimulus.
        """
        import torch

        if images.dim() != 4:
            raise ValueError(f"{type(self).__name__} expects images (B, C, H, W), got shape {tuple(images.shape)}")
        out_dtype = dtype or (images.dtype if images.is_floating_point() else torch.float32)
        on = self.frames_on().to(images.device)
        x = images.to(torch.float32)
        shown = self.image_on_frame(x)[:, None]
        frames = torch.where(on.view(1, -1, 1, 1, 1), shown, torch.tensor(self.blank_value, device=x.device))
        frames = self.add_noise(frames, x, on, seed)
        sequence_labels = torch.where(on.view(1, -1), labels.to(torch.int64).view(-1, 1), NON_LABEL)
        return frames.to(out_dtype), sequence_labels

    def add_noise(self, frames: torch.Tensor, images: torch.Tensor, on: torch.Tensor, seed: int) -> torch.Tensor:
        """Hook for stimuli that perturb the frames (default: none)."""
        return frames


@register_stimulus
@dataclass(frozen=True)
class StimulusRepetition(Stimulus):
    """The image on every frame (a static image held over time)."""


@register_stimulus
@dataclass(frozen=True)
class StimulusDuration(Stimulus):
    """Blank intro, the image for `stimulus_duration` frames, blank rest."""

    stimulus_duration: int = 5
    intro_duration: int = 2

    def presentation(self) -> list[bool]:
        return self._blocks(intro=self.intro_duration, stim=self.stimulus_duration)


@register_stimulus
@dataclass(frozen=True)
class StimulusContrast(StimulusDuration):
    """Like StimulusDuration with the normalised image scaled by `contrast` (1 = original, 0 = mean grey)."""

    contrast: float = 1.0
    stimulus_duration: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.contrast <= 1:
            raise ValueError(f"StimulusContrast: contrast must be between 0 and 1, got {self.contrast}")
        super().__post_init__()

    def image_on_frame(self, images: torch.Tensor) -> torch.Tensor:
        return images * self.contrast


@register_stimulus
@dataclass(frozen=True)
class StimulusInterval(Stimulus):
    """Two presentations of `stimulus_duration` frames separated by a blank `interval_duration`.

    With `repeat` false the second presentation's frames are blank (label -1) and all others the same: the
    single-presentation control against which a repetition's second response is measured.
    """

    stimulus_duration: int = 3
    intro_duration: int = 2
    interval_duration: int = 4
    repeat: bool = True

    def presentation(self) -> list[bool]:
        frames = self._blocks(
            intro=self.intro_duration,
            stim1=self.stimulus_duration,
            interval=self.interval_duration,
            stim2=self.stimulus_duration,
        )
        if not self.repeat:
            second = self.intro_duration + self.stimulus_duration + self.interval_duration
            frames[second : second + self.stimulus_duration] = [False] * self.stimulus_duration
        return frames


NOISE_TYPES = ("uniform", "gaussian", "poisson", "saltpepper", "phasescrambled")
TEMPORAL_MODES = ("static", "dynamic")


@register_stimulus
@dataclass(frozen=True)
class StimulusNoise(StimulusDuration):
    """StimulusDuration with additive noise at a signal-to-signal-plus-noise ratio `ssnr`.

    Noise is standardised to zero mean and unit variance per pixel (the power of a normalised image), and a
    stimulus frame is `sqrt(ssnr) * image + sqrt(1 - ssnr) * noise`: ssnr=1 is the clean image, ssnr=0 pure noise,
    and the noise power is `1 - ssnr` of the unit signal power, with nothing divided by ssnr.

    Attributes:
        ssnr: Signal / (signal + noise) power, 0..1.
        noise_type: uniform, gaussian, poisson (signal-dependent shot noise), saltpepper, phasescrambled
            (the image's own amplitude spectrum with random phases).
        temporal_mode: static (one noise pattern held over time) or dynamic (fresh noise every frame).
        noise_seed: Fixes the noise regardless of the call's seed (same noise for every batch).
        correlation: Spatial correlation length (Gaussian kernel sigma, pixels) of gaussian noise; 0 = white.
        noise_on_blank: Also put noise (at power 1 - ssnr) on blank frames.
        saltpepper_density: Fraction of pixels hit by salt-and-pepper noise.
    """

    stimulus_duration: int = 10
    ssnr: float = 0.5
    noise_type: str = "gaussian"
    temporal_mode: str = "static"
    noise_seed: int | None = None
    correlation: float = 0.0
    noise_on_blank: bool = False
    saltpepper_density: float = 0.1

    def __post_init__(self) -> None:
        name = type(self).__name__
        if not 0.0 <= self.ssnr <= 1.0:
            raise ValueError(f"{name}: ssnr must be between 0 and 1, got {self.ssnr}")
        if self.noise_type not in NOISE_TYPES:
            raise ValueError(f"{name}: unknown noise_type {self.noise_type!r}; valid choices: {', '.join(NOISE_TYPES)}")
        if self.temporal_mode not in TEMPORAL_MODES:
            raise ValueError(
                f"{name}: unknown temporal_mode {self.temporal_mode!r}; valid choices: {', '.join(TEMPORAL_MODES)}"
            )
        if self.correlation < 0:
            raise ValueError(f"{name}: correlation must be >= 0, got {self.correlation}")
        if not 0 < self.saltpepper_density <= 1:
            raise ValueError(f"{name}: saltpepper_density must be in (0, 1], got {self.saltpepper_density}")
        super().__post_init__()

    def image_on_frame(self, images: torch.Tensor) -> torch.Tensor:
        return images * math.sqrt(self.ssnr)

    def add_noise(self, frames: torch.Tensor, images: torch.Tensor, on: torch.Tensor, seed: int) -> torch.Tensor:
        if self.ssnr == 1.0:
            return frames
        generator = self._generator(images, seed)
        n_patterns = frames.shape[1] if self.temporal_mode == "dynamic" else 1
        noise = self._noise(images, generator, n_patterns)
        scale = math.sqrt(1.0 - self.ssnr)
        if self.noise_on_blank:
            return frames.add_(noise, alpha=scale)
        return frames.addcmul_(noise, on.view(1, -1, 1, 1, 1).to(frames.dtype), value=scale)

    def _generator(self, images: torch.Tensor, seed: int) -> torch.Generator:
        """The noise's random generator: seeded by `noise_seed` if given, else by the call's seed."""
        import torch

        return torch.Generator(device=images.device).manual_seed(
            int(self.noise_seed if self.noise_seed is not None else seed)
        )

    def _noise(self, images: torch.Tensor, generator: torch.Generator, n_patterns: int) -> torch.Tensor:
        """Zero-mean, unit-variance noise (B, n_patterns, C, H, W), all patterns drawn in one vectorised call."""
        import torch

        batch, channels, height, width = images.shape
        shape, device = (batch, n_patterns, channels, height, width), images.device
        if self.noise_type == "uniform":
            return (torch.rand(shape, generator=generator, device=device) - 0.5) * math.sqrt(12.0)
        if self.noise_type == "gaussian":
            noise = torch.randn(shape, generator=generator, device=device)
            return _spatially_correlate(noise, self.correlation) if self.correlation > 0 else noise
        if self.noise_type == "poisson":
            # Shot noise whose variance follows the image brightness (min-max scaled per sample).
            low = images.amin(dim=(1, 2, 3), keepdim=True)
            high = images.amax(dim=(1, 2, 3), keepdim=True)
            rate = (1.0 + 20.0 * (images - low) / (high - low).clamp_min(1e-6))[:, None].expand(shape)
            counts = torch.poisson(rate.contiguous(), generator=generator)
            return (counts - rate) / rate.mean(dim=(2, 3, 4), keepdim=True).sqrt()
        if self.noise_type == "saltpepper":
            pixel_shape = (batch, n_patterns, 1, height, width)
            hit = torch.rand(pixel_shape, generator=generator, device=device) < self.saltpepper_density
            sign = torch.randint(0, 2, pixel_shape, generator=generator, device=device) * 2.0 - 1.0
            return (hit * sign / math.sqrt(self.saltpepper_density)).expand(shape).contiguous()
        return _phase_scrambled(images, generator, n_patterns)


ADAPTERS = ("none", "same", "different")


@register_stimulus
@dataclass(frozen=True)
class StimulusNoiseAdaptation(StimulusNoise):
    """Noise adaptation (Vinken et al. 2023): an adapter of noise alone, a blank delay, then a noisy test image.

    Frames: `intro_duration` blank, `adapter_duration` adapter, `delay_duration` blank, `stimulus_duration` test
    (`sqrt(ssnr) * image + sqrt(1 - ssnr) * noise`, the only labelled frames), blank rest. The adapter shows
    the test's own noise pattern (`same`), an independent pattern of the same kind and power (`different`) or
    nothing (`none`); the test's noise is the same in all three, so they differ only in what came before.
    """

    adapter_duration: int = 10
    delay_duration: int = 2
    adapter: str = "same"

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.adapter not in ADAPTERS:
            raise ValueError(f"{name}: unknown adapter {self.adapter!r}; valid choices: {', '.join(ADAPTERS)}")
        if self.temporal_mode != "static" or self.noise_on_blank:
            raise ValueError(
                f"{name}: the adapter repeats one noise pattern, so temporal_mode must be static and noise_on_blank "
                f"false (got {self.temporal_mode}, {self.noise_on_blank})"
            )
        super().__post_init__()

    def presentation(self) -> list[bool]:
        return self._blocks(
            intro=self.intro_duration,
            adapter=self.adapter_duration,
            delay=self.delay_duration,
            stim=self.stimulus_duration,
        )

    def adapter_frames(self) -> list[bool]:
        """Which protocol frames show the adapter."""
        start = self.intro_duration
        frames = [False] * self.data_timesteps
        frames[start : start + self.adapter_duration] = [True] * self.adapter_duration
        return frames

    def add_noise(self, frames: torch.Tensor, images: torch.Tensor, on: torch.Tensor, seed: int) -> torch.Tensor:
        if self.ssnr == 1.0:
            return frames
        import torch

        generator = self._generator(images, seed)
        scale = math.sqrt(1.0 - self.ssnr)
        test_noise = self._noise(images, generator, 1)
        frames.addcmul_(test_noise, on.view(1, -1, 1, 1, 1).to(frames.dtype), value=scale)
        if self.adapter == "none":
            return frames
        adapter_noise = test_noise if self.adapter == "same" else self._noise(images, generator, 1)
        adapting = torch.tensor(self.adapter_frames(), device=frames.device).view(1, -1, 1, 1, 1)
        return frames.addcmul_(adapter_noise, adapting.to(frames.dtype), value=scale)


@register_stimulus
@dataclass(frozen=True)
class StimulusBlur(StimulusDuration):
    """StimulusDuration with the image blurred (:mod:`dynvision.data.blur`): a Gaussian of standard deviation
    `blur` px, or a motion streak `blur` px long at `motion_angle` degrees. `blur` 0 (gaussian) or 1 (motion)
    shows the image as it is."""

    stimulus_duration: int = 10
    blur_type: str = "gaussian"
    blur: float = 1.0
    motion_angle: float = 0.0

    def __post_init__(self) -> None:
        from dynvision.data.blur import BLUR_TYPES

        name = type(self).__name__
        if self.blur_type not in BLUR_TYPES:
            raise ValueError(f"{name}: unknown blur_type {self.blur_type!r}; valid choices: {', '.join(BLUR_TYPES)}")
        least = 0.0 if self.blur_type == "gaussian" else 1.0
        if self.blur < least:
            raise ValueError(f"{name}: {self.blur_type} blur must be >= {least:g} px, got {self.blur}")
        super().__post_init__()

    def image_on_frame(self, images: torch.Tensor) -> torch.Tensor:
        from dynvision.data.blur import blur, gaussian_kernel, motion_kernel

        if self.blur_type == "gaussian":
            return blur(images, gaussian_kernel(self.blur)) if self.blur > 0 else images
        return blur(images, motion_kernel(self.blur, self.motion_angle))


@register_stimulus
@dataclass(frozen=True)
class StimulusSplit(StimulusDuration):
    """StimulusDuration showing two images at once: the left half of each image beside the right half of another
    image of the batch with a different label (`topdown`: the top half above the bottom half). Frames carry the
    label of the left (top) image, so accuracy is how often the read-out reports that half."""

    stimulus_duration: int = 10
    topdown: bool = False

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, seed: int = 0, dtype: torch.dtype | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        combined = self.combine(images, labels) if images.dim() == 4 else images  # the base refuses other shapes
        return super().__call__(combined, labels, seed=seed, dtype=dtype)

    def combine(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W): each image with its second half taken from its partner (:func:`split_partners`)."""
        partner = images[split_partners(labels)]
        combined = images.clone()
        if self.topdown:
            half = images.shape[-2] // 2
            combined[..., half:, :] = partner[..., half:, :]
        else:
            half = images.shape[-1] // 2
            combined[..., half:] = partner[..., half:]
        return combined


def split_partners(labels: torch.Tensor) -> torch.Tensor:
    """For each sample the index of the next sample (cyclically) with a different label, or simply the next sample
    if no other label is in the batch."""
    import torch

    count = len(labels)
    partners = (torch.arange(count) + 1) % count
    found = torch.zeros(count, dtype=torch.bool)
    for shift in range(1, count):
        candidates = (torch.arange(count) + shift) % count
        new = ~found & (labels.cpu()[candidates] != labels.cpu())
        partners[new], found = candidates[new], found | new
    return partners.to(labels.device)


def _spatially_correlate(noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur white noise with a Gaussian kernel of unit L2 norm (circular borders keep the variance at 1)."""
    import torch

    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=noise.dtype, device=noise.device)
    kernel_1d = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = torch.outer(kernel_1d, kernel_1d)
    kernel = kernel / kernel.pow(2).sum().sqrt()
    height, width = noise.shape[-2:]
    flat = noise.reshape(-1, 1, height, width)
    padded = torch.nn.functional.pad(flat, (radius, radius, radius, radius), mode="circular")
    return torch.nn.functional.conv2d(padded, kernel.view(1, 1, *kernel.shape)).reshape(noise.shape)


def _phase_scrambled(images: torch.Tensor, generator: torch.Generator, n_patterns: int) -> torch.Tensor:
    """Noise with each image's amplitude spectrum (mean removed) and random phases, standardised per pattern."""
    import torch

    amplitude = torch.fft.rfft2(images - images.mean(dim=(2, 3), keepdim=True)).abs()[:, None]
    shape = (images.shape[0], n_patterns, *amplitude.shape[2:])
    # Uniform random phases; irfft2 keeps only the Hermitian part, so the result is a real image.
    phase = torch.rand(shape, generator=generator, device=images.device) * (2 * math.pi)
    noise = torch.fft.irfft2(torch.polar(amplitude.expand(shape), phase), s=images.shape[-2:])
    # The amplitude has no DC term, so every pattern already has zero mean; scale it to unit variance.
    rms = torch.linalg.vector_norm(noise, dim=(2, 3, 4), keepdim=True) / math.sqrt(noise[0, 0].numel())
    return noise.div_(rms.clamp_min(1e-8))
