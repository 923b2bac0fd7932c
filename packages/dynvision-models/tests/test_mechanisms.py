"""Divisive normalisation, adaptation and the blank-decay test, each against a case with a known answer."""

import pytest
import torch

from dynvision.models import DyRCNN
from dynvision.models.stability import blank_decay, settled

from .areas import one_area


def trace(model: DyRCNN, frames: torch.Tensor) -> torch.Tensor:
    """V1's first unit over time for frames ``(T,)`` of uniform intensity."""
    x = frames.view(1, -1, 1, 1, 1).expand(1, len(frames), 3, 4, 4)
    _, responses = model(x, record="unit")
    return responses["V1"][0, :, 0, 0, 0].detach()


@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_normalisation_gives_a_naka_rushton_steady_state_with_semi_saturation_sigma(engine):
    model = one_area(dt=1.0, tau=2.0, normalisation=True, norm_sigma=0.5, t_norm=2.0, n_timesteps=80, engine=engine)
    for contrast in (0.1, 0.5, 2.0, 8.0):
        drive = 0.75 * contrast
        steady = float(trace(model, torch.full((80,), contrast))[-1])
        assert steady == pytest.approx(drive / (0.5 + drive), rel=1e-4)


def _half_rise_step(course: torch.Tensor) -> int:
    return int(torch.nonzero(course >= course.max() / 2)[0])


def test_a_lagging_pool_makes_strong_inputs_peak_and_rise_sooner():
    model = one_area(dt=1.0, tau=4.0, normalisation=True, norm_sigma=0.1, t_norm=20.0, n_timesteps=60)
    weak, strong = (trace(model, torch.full((60,), c)) for c in (0.05, 5.0))
    assert int(strong.argmax()) < int(weak.argmax())
    assert _half_rise_step(strong) < _half_rise_step(weak)
    assert float(strong.max()) > float(strong[-1]) * 1.5  # a transient above the normalised steady state


def test_without_a_pool_delay_the_time_course_does_not_depend_on_contrast():
    model = one_area(dt=1.0, tau=4.0, n_timesteps=30)
    weak, strong = (trace(model, torch.full((30,), c)) for c in (0.05, 5.0))
    torch.testing.assert_close(strong / strong.max(), weak / weak.max())


@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_adaptation_lowers_the_steady_state_to_drive_over_one_plus_gain(engine):
    model = one_area(dt=1.0, tau=2.0, adaptation=3.0, t_adaptation=10.0, n_timesteps=200, engine=engine)
    course = trace(model, torch.ones(200))
    assert float(course[-1]) == pytest.approx(0.75 / (1 + 3.0), rel=1e-3)
    assert float(course.max()) > 2 * float(course[-1])  # onset transient, then the current builds up


def test_adaptation_suppresses_a_repeated_stimulus_and_recovers_with_the_gap():
    model = one_area(dt=1.0, tau=2.0, adaptation=2.0, t_adaptation=20.0, n_timesteps=10)
    ratios = []
    for gap in (2, 10, 40, 120):
        frames = torch.zeros(5 + gap + 5 + 5)
        frames[:5] = frames[5 + gap : 10 + gap] = 1.0
        course = trace(model, frames)
        ratios.append(float(course[5 + gap :].max() / course[: 5 + gap].max()))
    assert ratios[0] < 0.8
    assert ratios == sorted(ratios)
    assert ratios[-1] == pytest.approx(1.0, abs=0.01)
    unadapted = one_area(dt=1.0, tau=2.0, n_timesteps=10)
    frames = torch.zeros(17)
    frames[:5] = frames[7:12] = 1.0
    course = trace(unadapted, frames)
    assert float(course[7:].max()) >= float(course[:7].max())


def test_blank_decay_tells_a_settling_model_from_a_runaway_one():
    stable = one_area(dt=1.0, tau=4.0, n_timesteps=5)
    decay = blank_decay(stable, torch.ones(2, 3, 4, 4))
    assert decay["V1"] == pytest.approx((1 - 0.25) ** 56 / 1.0, rel=0.5) and settled(decay)
    runaway = DyRCNN(channels=(4,), kernel_size=1, recurrence_type="self", n_timesteps=5, t_feedforward=0)
    with torch.no_grad():
        runaway.layers["V1"].rec.weight.fill_(1.5)  # recurrent gain above one: activity grows without input
    decay = blank_decay(runaway, torch.ones(2, 3, 4, 4), blank_steps=20)
    assert not settled(decay) and decay["V1"] > 1
