"""A third-party data loader: the image flickers on and off every `period` frames.

Registered through the entry-point group `dynvision.stimuli` (see pyproject.toml next to this
file), so the workflow finds it by name without any change to dynvision-data.
"""

from dataclasses import dataclass

from dynvision.data.stimuli import Stimulus


@dataclass(frozen=True)
class StimulusFlicker(Stimulus):
    """Blank intro of `intro_duration` frames, then the image alternately on and off for `period` frames."""

    period: int = 1
    intro_duration: int = 1

    def presentation(self) -> list[bool]:
        if self.period < 1:
            raise ValueError(f"StimulusFlicker: period must be at least 1, got {self.period}")
        frames = [False] * min(self.intro_duration, self.data_timesteps)
        while len(frames) < self.data_timesteps:
            frames.append((len(frames) - self.intro_duration) // self.period % 2 == 0)
        return frames
