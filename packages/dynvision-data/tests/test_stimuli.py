"""Temporal stimuli: exact frame/label patterns, noise power, determinism, dtype, fresh memory, errors."""

import math
from dataclasses import dataclass

import pytest
import torch

from dynvision.data import blur, stimuli
from dynvision.data.stimuli import ADAPTERS, NOISE_TYPES, create_stimulus, list_stimuli


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(4, 3, 16, 16, generator=generator), torch.tensor([3, 0, 9, 5])


def _pattern(inputs, images):
    """'img' where a frame equals the image, 'blank' where it is all zeros, per time step of sample 0."""
    out = []
    for frame in inputs[0]:
        if torch.equal(frame, images[0]):
            out.append("img")
        elif torch.count_nonzero(frame) == 0:
            out.append("blank")
        else:
            out.append("other")
    return out


def test_builtin_stimuli_are_listed():
    assert {
        "StimulusRepetition",
        "StimulusDuration",
        "StimulusContrast",
        "StimulusInterval",
        "StimulusNoise",
        "StimulusNoiseAdaptation",
        "StimulusBlur",
        "StimulusSplit",
    } <= set(list_stimuli())


def test_duration_pattern(batch):
    images, labels = batch
    stim = create_stimulus("StimulusDuration", intro=1, stim=3, dsteps=6)
    inputs, frame_labels = stim(images, labels)
    assert inputs.shape == (4, 6, 3, 16, 16) and stim.data_timesteps == 6
    assert _pattern(inputs, images) == ["blank", "img", "img", "img", "blank", "blank"]
    assert frame_labels[0].tolist() == [-1, 3, 3, 3, -1, -1]
    assert frame_labels.dtype == torch.int64


def test_a_stimulus_gives_only_its_frames_and_idle_steps_are_the_models(batch):
    images, labels = batch
    inputs, frame_labels = create_stimulus("StimulusRepetition", tsteps=3)(images, labels)
    assert _pattern(inputs, images) == ["img", "img", "img"]
    assert frame_labels[2].tolist() == [9, 9, 9]
    for key in ("idle", "idle_timesteps"):
        message = f"unknown argument '{key}' for StimulusRepetition; valid choices: "
        with pytest.raises(ValueError, match=message) as error:
            create_stimulus("StimulusRepetition", tsteps=3, **{key: 2})
        assert "\n" not in str(error.value) and "tsteps" in str(error.value)
    assert not hasattr(create_stimulus("StimulusRepetition"), "n_timesteps")


@pytest.mark.integration
def test_a_model_counts_its_idle_steps_once_and_holds_an_image_as_the_stimulus_shows_it(batch):
    """The workflow's test shows a stimulus's frames to a model; training holds the image itself. Both give the
    same logits over the same frames, with the same labels, and the model's idle steps run once, before them."""
    models = pytest.importorskip("dynvision.models")
    images, labels = batch
    torch.manual_seed(0)
    model = models.create_model("DyRCNNx2", channels=(4, 9), n_classes=10, tsteps=5, idle=3, lossrt=4.0).eval()
    inputs, frame_labels = create_stimulus("StimulusRepetition", tsteps=5)(images, labels)
    reads = []
    model.classifier.register_forward_hook(lambda *_: reads.append(1))
    logits = model(inputs)  # with gradients: one read-out per step
    assert logits.shape == (4, 5, 10) and len(reads) == 3 + 5
    torch.testing.assert_close(logits, model(images))
    assert torch.equal(model.temporal_labels(frame_labels), model.temporal_labels(labels))


def test_interval_pattern(batch):
    images, labels = batch
    stim = create_stimulus("StimulusInterval", tsteps=8, intro=1, stim=2, interval=2)
    inputs, frame_labels = stim(images, labels)
    assert _pattern(inputs, images) == ["blank", "img", "img", "blank", "blank", "img", "img", "blank"]
    assert frame_labels[3].tolist() == [-1, 5, 5, -1, -1, 5, 5, -1]


def test_interval_control_blanks_only_the_second_presentation(batch):
    """repeat=false (as a wildcard's text) is the single-presentation control: the same trial, second image blank."""
    images, labels = batch
    arguments = {"tsteps": 9, "intro": 1, "stim": 2, "interval": 2}
    repeated, _ = create_stimulus("StimulusInterval", **arguments)(images, labels)
    control, frame_labels = create_stimulus("StimulusInterval", repeat="false", **arguments)(images, labels)
    assert _pattern(control, images) == ["blank", "img", "img", "blank", "blank", "blank", "blank", "blank", "blank"]
    assert frame_labels[3].tolist() == [-1, 5, 5, -1, -1, -1, -1, -1, -1]
    assert torch.equal(control[:, :5], repeated[:, :5]) and torch.equal(control[:, 7:], repeated[:, 7:])
    assert _pattern(repeated, images)[5:7] == ["img", "img"]
    assert create_stimulus("StimulusInterval").repeat is True


def test_contrast_scales_normalised_image(batch):
    images, labels = batch
    inputs, frame_labels = create_stimulus("StimulusContrast", tsteps=4, intro=1, stim=2, contrast=0.25)(images, labels)
    torch.testing.assert_close(inputs[:, 1], images * 0.25)
    assert torch.count_nonzero(inputs[:, 0]) == 0 and torch.count_nonzero(inputs[:, 3]) == 0
    assert frame_labels[1].tolist() == [-1, 0, 0, -1]


def test_string_arguments_from_wildcards(batch):
    stim = create_stimulus("StimulusNoise", tsteps="6", stim="3", intro="1", ssnr="0.5", noiseseed="7")
    assert (stim.data_timesteps, stim.stimulus_duration, stim.ssnr, stim.noise_seed) == (6, 3, 0.5, 7)
    assert create_stimulus("StimulusNoise", blanknoise="true", noiseseed=None).noise_on_blank is True


@pytest.mark.parametrize("noise_type", NOISE_TYPES)
@pytest.mark.parametrize("ssnr", [0.0, 0.3, 0.8])
def test_noise_power_matches_ssnr(noise_type, ssnr):
    images = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    stim = create_stimulus(
        "StimulusNoise", tsteps=4, intro=0, stim=4, ssnr=ssnr, noisetype=noise_type, tempmode="dynamic"
    )
    inputs, _ = stim(images, torch.zeros(16, dtype=torch.int64), seed=3)
    noise = inputs - math.sqrt(ssnr) * images[:, None]
    assert noise.pow(2).mean().item() == pytest.approx(1 - ssnr, rel=0.1, abs=0.01)
    assert torch.isfinite(inputs).all()


def test_ssnr_one_is_clean_and_zero_is_pure_noise(batch):
    images, labels = batch
    clean, _ = create_stimulus("StimulusNoise", tsteps=3, intro=0, stim=3, ssnr=1)(images, labels)
    assert torch.equal(clean[:, 0], images)
    noise_only, _ = create_stimulus("StimulusNoise", tsteps=3, intro=0, stim=3, ssnr=0)(
        torch.zeros_like(images), labels
    )
    assert noise_only.abs().sum() > 0


def test_blank_image_gives_no_nan_for_every_noise_type():
    blank = torch.zeros(2, 3, 8, 8)
    for noise_type in NOISE_TYPES:
        inputs, _ = create_stimulus("StimulusNoise", noisetype=noise_type, ssnr=0.5)(blank, torch.zeros(2))
        assert torch.isfinite(inputs).all(), noise_type


def test_static_vs_dynamic_and_blank_frames(batch):
    images, labels = batch
    args = {"tsteps": 5, "intro": 1, "stim": 3, "ssnr": 0.5}
    static, _ = create_stimulus("StimulusNoise", tempmode="static", **args)(images, labels)
    dynamic, _ = create_stimulus("StimulusNoise", tempmode="dynamic", **args)(images, labels)
    assert torch.equal(static[:, 1], static[:, 3])
    assert not torch.equal(dynamic[:, 1], dynamic[:, 3])
    assert torch.count_nonzero(static[:, 0]) == 0  # no noise on blank frames by default
    noisy_blank, frame_labels = create_stimulus("StimulusNoise", blanknoise=True, **args)(images, labels)
    assert torch.count_nonzero(noisy_blank[:, 0]) > 0
    assert frame_labels[0].tolist() == [-1, 3, 3, 3, -1]


def test_spatially_correlated_gaussian_keeps_unit_power_and_correlates_neighbours():
    images = torch.zeros(8, 3, 32, 32)
    inputs, _ = create_stimulus("StimulusNoise", tsteps=1, intro=0, stim=1, ssnr=0, corr=2.0)(images, torch.zeros(8))
    noise = inputs[:, 0]
    assert noise.pow(2).mean().item() == pytest.approx(1.0, rel=0.15)
    neighbour = (noise[..., 1:] * noise[..., :-1]).mean().item()
    assert neighbour > 0.5


def test_deterministic_per_seed_and_noise_seed(batch):
    images, labels = batch
    stim = create_stimulus("StimulusNoise", noisetype="uniform", tempmode="dynamic")
    assert torch.equal(stim(images, labels, seed=1)[0], stim(images, labels, seed=1)[0])
    assert not torch.equal(stim(images, labels, seed=1)[0], stim(images, labels, seed=2)[0])
    fixed = create_stimulus("StimulusNoise", noiseseed=5)
    assert torch.equal(fixed(images, labels, seed=1)[0], fixed(images, labels, seed=2)[0])


def test_dtype_and_fresh_tensors(batch):
    images, labels = batch
    stim = create_stimulus("StimulusRepetition", tsteps=2)
    first, _ = stim(images, labels, dtype=torch.bfloat16)
    assert first.dtype == torch.bfloat16
    a, _ = stim(images, labels)
    b, _ = stim(images, labels)
    a.zero_()
    assert torch.equal(b[:, 0], images) and torch.equal(b[:, 1], images)
    assert a.data_ptr() != images.data_ptr()


def test_errors_name_the_choices():
    with pytest.raises(
        ValueError, match="unknown stimulus loader 'StimulusFlash'; valid choices: StimulusBlur, StimulusContrast"
    ):
        create_stimulus("StimulusFlash")
    with pytest.raises(ValueError, match=r"unknown argument 'stimm' for StimulusDuration; valid choices: .*stim,"):
        create_stimulus("StimulusDuration", stimm=3)
    with pytest.raises(ValueError, match="unknown noise_type 'pink'; valid choices: uniform, gaussian"):
        create_stimulus("StimulusNoise", noisetype="pink")
    with pytest.raises(ValueError, match="stim=5 need 7 frames but data_timesteps=6"):
        create_stimulus("StimulusDuration", intro=2, stim=5, tsteps=6)
    with pytest.raises(ValueError, match=r"ssnr must be between 0 and 1, got 1\.5"):
        create_stimulus("StimulusNoise", ssnr=1.5)
    with pytest.raises(ValueError, match="given twice"):
        create_stimulus("StimulusDuration", tsteps=5, dsteps=6)


def test_third_party_stimulus_through_entry_point(monkeypatch, batch):
    @dataclass(frozen=True)
    class StimulusFlip(stimuli.Stimulus):
        def image_on_frame(self, images):
            return images.flip(-1)

    class FakeEntryPoint:
        name = "StimulusFlip"

        def load(self):
            return StimulusFlip

    monkeypatch.setattr(stimuli, "_ENTRY_POINTS_LOADED", False)
    monkeypatch.setattr(
        stimuli, "entry_points", lambda group: [FakeEntryPoint()] if group == "dynvision.stimuli" else []
    )
    monkeypatch.setattr(stimuli, "_STIMULI", dict(stimuli._STIMULI))
    assert "StimulusFlip" in list_stimuli()
    images, labels = batch
    inputs, _ = create_stimulus("StimulusFlip", tsteps=2)(images, labels)
    assert torch.equal(inputs[:, 1], images.flip(-1))


def test_phase_scrambled_noise_keeps_the_image_spectrum():
    """A vertical grating's noise concentrates its power in the grating's horizontal frequency."""
    x = torch.arange(32.0)
    grating = torch.sin(2 * math.pi * 4 * x / 32).expand(1, 3, 32, 32).contiguous()
    stim = create_stimulus("StimulusNoise", tsteps=1, intro=0, stim=1, ssnr=0, noisetype="phasescrambled")
    noise = stim(grating, torch.zeros(1))[0][0, 0, 0]
    power = torch.fft.rfft2(noise).abs().pow(2)
    assert power[0, 4] / power.sum() > 0.9
    assert not torch.allclose(noise, grating[0, 0], atol=0.1)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("StimulusContrast", {"contrast": 1.5}, "contrast must be between 0 and 1, got 1.5"),
        ("StimulusContrast", {"contrast": -0.1}, "contrast must be between 0 and 1, got -0.1"),
        ("StimulusContrast", {"contrast": "nan"}, "argument 'contrast'='nan' is not a valid float"),
        ("StimulusNoise", {"ssnr": 1.2}, "ssnr must be between 0 and 1, got 1.2"),
        ("StimulusNoise", {"noisetype": "pink"}, "unknown noise_type 'pink'; valid choices: uniform"),
        ("StimulusDuration", {"stim": 2.5}, "'stim'=2.5 is not a valid int"),
        ("StimulusDuration", {"stim": True}, "'stim'=True is not a valid int"),
        ("StimulusDuration", {"stim": -1}, "stim=-1 need"),
        ("StimulusInterval", {"interval": -2}, "interval=-2"),
        ("StimulusDuration", {"tsteps": 4, "stim": 5}, "need 7 frames but data_timesteps=4"),
    ],
)
def test_bad_stimulus_values_are_one_line_naming_the_value(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as error:
        create_stimulus(name, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_durations_in_ms_become_frames_of_the_models_time_step():
    stim = create_stimulus("StimulusInterval", dt=2.0, trialms=40, introms=4, stimms=6, intervalms=10)
    assert (stim.data_timesteps, stim.intro_duration, stim.stimulus_duration, stim.interval_duration) == (20, 2, 3, 5)
    assert create_stimulus("StimulusDuration", dt=0.5, stimms="1.5", trialms=10).stimulus_duration == 3
    with pytest.raises(ValueError, match=r"^stimms=5 ms is not a whole number >= 0 of frames of dt=2 ms$"):
        create_stimulus("StimulusDuration", dt=2.0, stimms=5)
    with pytest.raises(ValueError, match=r"^stimms=4 is in ms and needs the model's time step dt$"):
        create_stimulus("StimulusDuration", stimms=4)
    with pytest.raises(ValueError, match="given twice"):
        create_stimulus("StimulusDuration", dt=2.0, stimms=4, stim=2)
    with pytest.raises(ValueError, match="unknown argument 'intervalms' for StimulusDuration"):
        create_stimulus("StimulusDuration", dt=2.0, intervalms=4)


def test_noise_adaptation_frames_and_adapters(batch):
    images, labels = batch
    kwargs = dict(tsteps=9, intro=1, adapter_duration=3, delay_duration=1, stim=2, ssnr=0.5, noiseseed=7)
    runs = {adapter: create_stimulus("StimulusNoiseAdaptation", adapter=adapter, **kwargs) for adapter in ADAPTERS}
    outputs = {adapter: stim(images, labels) for adapter, stim in runs.items()}
    frame_labels = outputs["same"][1][0].tolist()
    assert frame_labels == [-1, -1, -1, -1, -1, 3, 3, -1, -1]
    same, different, none = (outputs[adapter][0] for adapter in ("same", "different", "none"))
    # the test frames are identical across adapters: only what came before differs
    assert torch.equal(same[:, 5:7], different[:, 5:7]) and torch.equal(same[:, 5:7], none[:, 5:7])
    test_noise = same[:, 5] - math.sqrt(0.5) * images
    for frame in (1, 2, 3):
        assert torch.allclose(same[:, frame], test_noise, atol=1e-6)  # the test's own noise, alone
        assert torch.count_nonzero(none[:, frame]) == 0
    other = different[:, 1]
    assert torch.allclose(other.pow(2).mean(), torch.tensor(0.5), atol=0.05)  # the same power, another pattern
    assert abs(torch.corrcoef(torch.stack([other.flatten(), test_noise.flatten()]))[0, 1]) < 0.1
    for frame in (0, 4, 7, 8):
        assert torch.count_nonzero(same[:, frame]) == 0 and torch.count_nonzero(different[:, frame]) == 0
    stim = create_stimulus("StimulusNoiseAdaptation", dt=2.0, trialms=40, adaptms=10, delayms=4, stimms=8)
    assert (stim.adapter_duration, stim.delay_duration, stim.stimulus_duration) == (5, 2, 4)


def test_gaussian_blur_keeps_the_mean_and_spreads_a_point_by_sigma():
    point = torch.zeros(1, 1, 33, 33)
    point[..., 16, 16] = 1.0
    for sigma in (1.0, 2.0, 3.0):
        spread = create_stimulus("StimulusBlur", tsteps=1, intro=0, stim=1, blurpx=sigma)(point, torch.zeros(1))[0]
        spread = spread[0, 0, 0]
        assert math.isclose(spread.sum().item(), 1.0, rel_tol=1e-5)
        offsets = torch.arange(33.0) - 16
        variance = (spread.sum(0) * offsets**2).sum().item()
        assert math.isclose(variance, sigma**2, rel_tol=0.02)
    flat = torch.full((2, 3, 16, 16), 0.7)
    assert torch.allclose(create_stimulus("StimulusBlur", blurpx=2.0)(flat, torch.zeros(2))[0][:, 5], flat)
    image = torch.randn(2, 3, 16, 16)
    assert torch.equal(create_stimulus("StimulusBlur", blurpx=0)(image, torch.zeros(2))[0][:, 5], image)


def test_motion_blur_streaks_a_point_along_its_angle():
    point = torch.zeros(1, 1, 15, 15)
    point[..., 7, 7] = 1.0
    horizontal = create_stimulus("StimulusBlur", intro=0, blurtype="motion", blurpx=5)(point, torch.zeros(1))[0]
    row = horizontal[0, 0, 0]
    assert torch.allclose(row[7, 5:10], torch.full((5,), 0.2), atol=1e-3) and row.sum().item() == pytest.approx(1.0)
    assert row[7, 4] < 0.02 and row[6].abs().max() < 1e-6
    vertical = create_stimulus("StimulusBlur", intro=0, blurtype="motion", blurpx=5, angle=90)(point, torch.zeros(1))
    assert torch.allclose(vertical[0][0, 0, 0], row.T, atol=1e-5)
    assert torch.equal(blur.motion_kernel(1.0), torch.ones(1, 1))
    with pytest.raises(ValueError, match=r"^StimulusBlur: motion blur must be >= 1 px, got 0\.5$"):
        create_stimulus("StimulusBlur", blurtype="motion", blurpx=0.5)
    with pytest.raises(ValueError, match="unknown blur_type 'box'; valid choices: gaussian, motion"):
        create_stimulus("StimulusBlur", blurtype="box")


@pytest.mark.parametrize("topdown", [False, True])
def test_split_shows_half_of_each_of_two_images_of_different_classes(batch, topdown):
    images, labels = batch
    labels = torch.tensor([3, 3, 9, 5])
    inputs, frame_labels = create_stimulus("StimulusSplit", tsteps=4, intro=1, stim=2, topdown=topdown)(images, labels)
    assert stimuli.split_partners(labels).tolist() == [2, 2, 3, 0]
    shown = inputs[:, 1]
    first, second = (shown[..., :8, :], shown[..., 8:, :]) if topdown else (shown[..., :8], shown[..., 8:])
    own, partner = (images[..., :8, :], images[[2, 2, 3, 0]][..., 8:, :]) if topdown else (
        images[..., :8], images[[2, 2, 3, 0]][..., 8:])  # fmt: skip
    assert torch.equal(first, own) and torch.equal(second, partner)
    assert frame_labels[:, 1].tolist() == labels.tolist() and frame_labels[:, 0].tolist() == [-1] * 4
    assert stimuli.split_partners(torch.tensor([4, 4])).tolist() == [1, 0]  # no other class: the next sample
