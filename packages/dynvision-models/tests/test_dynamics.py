"""The dynamics obey the equations: leaky rise and decay, exact delays, and the feedforward limit."""

import pytest
import torch
import torch.nn.functional as F

from dynvision.models import RECURRENCE_TYPES, DyRCNN, DyRCNNx4, create_model
from dynvision.models.network import HeldFirstArea
from dynvision.models.trial import Trial

from .areas import one_area

WITHOUT_MECHANISMS = {"normalisation": False, "adaptation": 0.0}
"""Switches off the DyRCNN defaults that make an area's response depend non-linearly on its drive."""


def v1_trace(model, x) -> torch.Tensor:
    _, responses = model(x, record="unit")
    return responses["V1"][0, :, 0, 0, 0]


@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_constant_input_rises_as_one_minus_decay_power(engine):
    model = one_area(dt=2.0, tau=8.0, n_timesteps=12, engine=engine)
    steady = 0.75  # 3 channels of ones x 0.25
    trace = v1_trace(model, torch.ones(1, 3, 4, 4))
    alpha = 2.0 / 8.0
    expected = steady * (1 - (1 - alpha) ** torch.arange(1, 13, dtype=torch.float32))
    torch.testing.assert_close(trace, expected)


@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_activity_decays_by_one_minus_alpha_after_the_input_stops(engine):
    model = one_area(dt=1.0, tau=5.0, engine=engine)
    x = torch.zeros(1, 10, 3, 4, 4)
    x[:, :4] = 1.0
    trace = v1_trace(model, x)
    torch.testing.assert_close(trace[5:] / trace[4:-1], torch.full((5,), 0.8))


def test_rk4_is_wired_and_closer_to_the_exact_solution():
    alpha = 0.5
    euler = v1_trace(one_area(dt=4.0, tau=8.0, n_timesteps=6), torch.ones(1, 3, 2, 2)) / 0.75
    rk4 = v1_trace(one_area(dt=4.0, tau=8.0, n_timesteps=6, integration="rk4"), torch.ones(1, 3, 2, 2)) / 0.75
    steps = torch.arange(1, 7, dtype=torch.float32)
    exact = 1 - torch.exp(-alpha * steps)
    growth = 1 - alpha + alpha**2 / 2 - alpha**3 / 6 + alpha**4 / 24
    torch.testing.assert_close(rk4, 1 - growth**steps)
    assert (rk4 - exact).abs().max() < (euler - exact).abs().max() / 10


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"t_feedforward": 2.0}, {"V1": 1, "V2": 2, "V4": 3, "IT": 4}),
        ({"t_feedforward": 6.0}, {"V1": 3, "V2": 6, "V4": 9, "IT": 12}),
        ({"t_feedforward": 0.0}, {"V1": 0, "V2": 0, "V4": 0, "IT": 0}),
        ({"t_feedforward": 4.0, "skip": True, "t_skip": 2.0}, {"V1": 2, "V2": 4, "V4": 3, "IT": 5}),
        ({"t_feedforward": 4.0, "skip": "multiplicative", "t_skip": 2.0}, {"V1": 2, "V2": 4, "V4": 6, "IT": 8}),
        ({"t_feedforward": 2.0, "retina": True}, {"retina": 1, "V1": 2, "V2": 3, "V4": 4, "IT": 5}),
    ],
)
@pytest.mark.parametrize("engine", ["fast", "plain"])
def test_delays_shift_first_responses_exactly(args, expected, engine):
    torch.manual_seed(0)
    model = DyRCNNx4(n_timesteps=14, dt=2.0, recurrence_type="full", engine=engine, **args)
    assert model.first_response_steps() == expected
    with torch.no_grad():
        _, responses = model(torch.rand(2, 3, 16, 16), record="layer")
    for area, step in expected.items():
        mean = responses[area][..., 0]
        assert torch.all(mean[:, :step] == 0), area
        assert torch.all(mean[:, step] > 0), area


def test_no_recurrence_alpha_one_zero_delays_is_the_feedforward_cnn_frame_by_frame():
    torch.manual_seed(0)
    model = DyRCNNx4(recurrence_type="none", dt=2.0, tau=2.0, t_feedforward=0.0, n_classes=7, **WITHOUT_MECHANISMS)
    x = torch.rand(2, 5, 3, 32, 32)
    logits, responses = model(x, record="unit")
    for t in range(5):
        a = x[:, t]
        for name, area in model.layers.items():
            y = F.relu(area.ff(a))
            torch.testing.assert_close(responses[name][:, t], y)
            a = area.pool(y) if area.pool is not None else y
        torch.testing.assert_close(logits[:, t], model.classifier(a.mean((-2, -1))))


def expected_recurrent_parameters(rctype: str, c: int, k: int = 3, sheet: int = 3) -> int:
    return {
        "none": 0,
        "self": c,
        "full": c * c * k * k,
        "depthwise": c * k * k,
        "pointwise": c * c,
        "depthpointwise": c * k * k + c * c,
        "pointdepthwise": c * c + c * k * k,
        "local": sheet * sheet,
        "localdepthwise": sheet * sheet + c * k * k,
        "identity": 0,
    }[rctype]


@pytest.mark.parametrize("rctype", RECURRENCE_TYPES)
def test_parameter_count_per_recurrence_type(rctype):
    def count(model):
        return sum(p.numel() for p in model.parameters())

    base = count(DyRCNNx4(recurrence_type="none"))
    model = DyRCNNx4(recurrence_type=rctype)
    assert count(model) - base == sum(expected_recurrent_parameters(rctype, c) for c in (36, 64, 121, 256))


def test_local_recurrence_only_connects_neighbours_on_the_channel_sheet():
    model = DyRCNN(channels=(16,), recurrence_type="local")
    matrix = model.layers["V1"].rec.matrix()[:, :, 0, 0]
    # channel 0 sits in the sheet's corner: itself, right, below and diagonal are its neighbours
    assert set(torch.nonzero(matrix[0]).flatten().tolist()) <= {0, 1, 4, 5}
    assert torch.count_nonzero(matrix[5]) <= 9


def _config(slow: bool = False, **args) -> pytest.param:
    return pytest.param(
        args, id="+".join(f"{k}={v}" for k, v in args.items()), marks=[pytest.mark.slow] if slow else []
    )


CONFIGS = [
    _config(recurrence_type=rctype, slow=True)
    for rctype in ["self", "depthwise", "pointwise", "depthpointwise", "pointdepthwise", "local"]
] + [
    _config(recurrence_type="full"),
    _config(recurrence_type="localdepthwise", recurrence_target="output", slow=True),
    _config(skip=True, t_skip=4.0),
    _config(skip="multiplicative", t_skip=0.0, slow=True),
    _config(idle_timesteps=3),
    _config(tbptt_steps=2, slow=True),
    _config(integration="rk4", supralinearity=1.5),
    _config(retina=True, t_recurrence=4.0, presentation_pattern="101", slow=True),
    _config(train_tau=True, t_feedforward=0.0, slow=True),
    _config(normalisation=True, adaptation=0.5, t_adaptation=4.0),
    _config(normalisation=True, t_norm=0.0, recurrence_type="self", recurrence_target="output", tbptt_steps=2),
    _config(adaptation=1.0, skip=True, supralinearity=2.0, slow=True),
]


@pytest.mark.parametrize("args", CONFIGS)
def test_fast_and_plain_engines_give_the_same_dynamics(args):
    """Training (step by step, channels-last), inference (area by area) and the plain reference agree."""
    torch.manual_seed(1)
    model = DyRCNNx4(n_timesteps=6, **args)
    x = torch.rand(2, 3, 16, 16)

    def run():
        logits, responses = model(x, record="unit")
        (logits.sum() + sum(r.sum() for r in responses.values())).backward()
        grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return logits, responses, grads

    assert model.path == "by_step"
    logits, responses, grads = run()
    with torch.no_grad():
        assert model.path == "by_area"
        area_logits, area_responses = model(x, record="unit")
    model.dynamics.engine = "plain"
    plain_logits, plain_responses, plain_grads = run()
    for other, other_responses in ((logits, responses), (area_logits, area_responses)):
        torch.testing.assert_close(other, plain_logits, rtol=1e-4, atol=1e-5)
        for name in responses:
            torch.testing.assert_close(other_responses[name], plain_responses[name], rtol=1e-4, atol=1e-5)
    for fast, plain in zip(grads, plain_grads, strict=True):
        if fast is None:
            assert plain is None
        else:
            torch.testing.assert_close(fast, plain, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "args",
    [
        {"feedback": True},
        {"feedback": "multiplicative", "skip": True},
        {"recurrence_target": "input", "recurrence_type": "full"},
        {"recurrence_target": "input", "recurrence_type": "pointdepthwise"},
    ],
)
def test_feedback_and_input_recurrence_run_step_by_step(args):
    torch.manual_seed(0)
    model = DyRCNNx4(n_timesteps=8, **args)
    with torch.no_grad():
        assert model.path == "by_step"
    logits = model(torch.rand(2, 3, 16, 16))
    logits.sum().backward()
    assert logits.shape == (2, 8, 10)
    assert all(p.grad is not None for p in model.parameters())


def test_feedback_changes_the_lower_area_after_the_higher_one_responds():
    torch.manual_seed(0)
    with_fb = DyRCNNx4(n_timesteps=8, feedback=True, t_feedback=2.0, recurrence_type="none")
    without = DyRCNNx4(n_timesteps=8, recurrence_type="none")
    without.load_state_dict(with_fb.state_dict(), strict=False)
    x = torch.rand(1, 3, 16, 16)
    a = with_fb(x, record="layer")[1]["V1"][0, :, 0]
    b = without(x, record="layer")[1]["V1"][0, :, 0]
    # V2 first responds at step 2, its feedback reaches V1 one step later
    torch.testing.assert_close(a[:3], b[:3])
    assert not torch.allclose(a[3:], b[3:])


def test_idle_steps_run_without_gradient_and_warm_up_the_state():
    torch.manual_seed(0)
    model = DyRCNNx4(n_timesteps=4, idle_timesteps=5)
    reference = DyRCNNx4(n_timesteps=9)
    reference.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 16, 16)
    blank_then_image = torch.cat([torch.zeros(2, 5, 3, 16, 16), x[:, None].expand(2, 4, 3, 16, 16)], 1)
    torch.testing.assert_close(model(x), reference(blank_then_image)[:, 5:])
    x.requires_grad_(True)
    model(x).sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize(
    ("name", "memory", "chunk"), [("DyRCNNx4", None, 16), ("ResNet18", None, 16), ("DyRCNNx4", 1, 1)]
)
def test_fast_inference_in_chunks_of_samples_matches_plain(name, memory, chunk):
    """A batch runs ``inference_chunk`` samples per pass, fewer where the activity would exceed the memory budget."""
    torch.manual_seed(0)
    model = create_model(name, n_timesteps=5, skip=True, t_feedforward=0.0).eval()
    if memory is not None:
        model.inference_memory = memory
    x = torch.rand(20, 3, 16, 16)
    with torch.no_grad():
        assert model.path == "by_area" and model._chunk(x) == chunk
        logits, responses = model(x, record="layer")
        model.dynamics.engine = "plain"
        plain_logits, plain_responses = model(x, record="layer")
    torch.testing.assert_close(logits, plain_logits, rtol=1e-4, atol=1e-5)
    for area in model.areas:
        torch.testing.assert_close(responses[area], plain_responses[area], rtol=1e-4, atol=1e-5)


def test_input_target_rejects_areas_that_shrink_the_image():
    model = create_model("CorNetRT", rctype="full", rctarget="input", n_timesteps=2)
    with pytest.raises(ValueError, match="recurrence_target=input"):
        model(torch.rand(1, 3, 16, 16))


def test_train_tau_learns_one_tau_per_area():
    model = DyRCNNx4(train_tau=True, n_timesteps=5)
    model(torch.rand(2, 3, 16, 16)).sum().backward()
    taus = [area.integrator.log_tau for area in model.layers.values()]
    assert all(t.requires_grad and t.grad is not None for t in taus)


def test_presentation_pattern_and_reaction_time_shape_labels_and_input():
    model = DyRCNN(channels=(4,), n_timesteps=8, presentation_pattern="1011", loss_reaction_time=2.0, dt=1.0)
    labels = model.temporal_labels(torch.tensor([3, 5]))
    assert labels[0].tolist() == [-1, -1, -1, -1, -1, -1, 3, 3]
    temporal = torch.tensor([[-1, 2, 2, 2, -1, 2, 2, 2]])
    assert model.temporal_labels(temporal).tolist() == [[-1, -1, -1, 2, -1, -1, -1, 2]]
    assert model.presentation_mask(8).tolist() == [True, True, False, False, True, True, True, True]


def test_the_trial_runs_idle_blanks_before_the_frames_and_cuts_them_from_the_outputs():
    trial = Trial(frames=4, idle=2, pattern="10")
    image = torch.ones(1, 3, 2, 2)
    steps = trial.inputs(image)
    assert steps.shape == (6, 1, 3, 2, 2) and steps.flatten(1).amax(1).tolist() == [0, 0, 1, 1, 0, 0]
    sequence = trial.inputs(image[:, None].expand(1, 4, 3, 2, 2))
    assert sequence.flatten(1).amax(1).tolist() == [0, 0, 1, 1, 1, 1]
    assert trial.outputs(torch.arange(6)[:, None]).tolist() == [[2, 3, 4, 5]]
    assert [trial.learns_at(t) for t in range(6)] == [False, False, True, True, True, True]
    assert [trial.truncates_at(t, 2) for t in range(6)] == [False, False, False, False, True, False]
    model = DyRCNN(channels=(4,), n_timesteps=4, idle_timesteps=2, presentation_pattern="10")
    assert model.trial == trial and model(image).shape == (1, 4, 10)


def _run_with_grads(model, x):
    logits, responses = model(x, record="unit")
    (logits.sum() + sum(r.sum() for r in responses.values())).backward()
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    return logits, responses, grads


def assert_same_as_plain(trained, inferred, plain):
    """A training run (logits, responses, gradients) and an inference run (logits, responses) of the fast
    engine equal the plain engine's training run."""
    for logits, responses in (trained[:2], inferred):
        torch.testing.assert_close(logits, plain[0], rtol=1e-4, atol=1e-5)
        for name in plain[1]:
            torch.testing.assert_close(responses[name], plain[1][name], rtol=1e-4, atol=1e-5)
    for f, p in zip(trained[2], plain[2], strict=True):
        assert (f is None) == (p is None)
        if p is not None:
            torch.testing.assert_close(f, p, rtol=1e-3, atol=1e-4)


def separable_model(args, seed):
    """A DyRCNNx4 of 7 steps, a held image for it, and its areas; its first area takes the separable path."""
    torch.manual_seed(seed)
    model = DyRCNNx4(n_timesteps=7, **WITHOUT_MECHANISMS, **args)
    x = torch.rand(5, 3, 16, 16)
    model._area_sizes(x)  # the one-off size probe, outside any count
    areas = list(model.layers.values())
    assert HeldFirstArea.applies(areas, model.dynamics, model._held_frames(x, 7))
    return model, x, areas


@pytest.mark.parametrize(
    "args",
    [
        {"t_feedforward": 20.0, "recurrence_type": "full"},
        {"t_feedforward": 6.0, "feedback": True, "t_feedback": 4.0},
        {"t_feedforward": 8.0, "skip": True, "t_skip": 2.0, "presentation_pattern": "1011", "idle_timesteps": 2},
        {"skip": "multiplicative", "presentation_pattern": "01", "tbptt_steps": 3},
    ],
)
def test_held_image_reuses_the_first_conv_with_the_same_dynamics(args):
    """A held image's first feedforward conv runs once per kind of frame and grad mode, not once per step,
    and logits, responses and gradients still equal the plain engine's (also when areas respond late)."""
    torch.manual_seed(2)
    model = DyRCNNx4(n_timesteps=12, **args)
    x = torch.rand(2, 3, 16, 16)
    model._area_sizes(x)  # the one-off size probe, outside the count
    calls = []
    model.layers["V1"].ff.register_forward_hook(lambda *_: calls.append(1))
    fast = _run_with_grads(model, x)
    kinds = len(set(model.presentation_mask(12).tolist())) + bool(model.dynamics.idle_timesteps)
    assert len(calls) <= kinds
    calls.clear()
    with torch.no_grad():
        area_logits, area_responses = model(x, record="unit")
    assert len(calls) <= len(set(model.presentation_mask(12).tolist())) + 1
    model.dynamics.engine = "plain"
    plain = _run_with_grads(model, x)
    assert_same_as_plain(fast, (area_logits, area_responses), plain)


def test_a_frame_sequence_runs_the_first_conv_every_step():
    """Only a held image is known to repeat: (B, T, C, H, W) input gets one conv per step."""
    model = DyRCNNx4(n_timesteps=5, t_feedforward=0.0)
    model._area_sizes(torch.zeros(1, 3, 16, 16))
    calls = []
    model.layers["V1"].ff.register_forward_hook(lambda *_: calls.append(1))
    model(torch.rand(1, 5, 3, 16, 16))
    assert len(calls) == 5


@pytest.mark.parametrize(
    "args",
    [
        {"recurrence_type": "none"},
        {"recurrence_type": "none", "integration": "rk4", "supralinearity": 1.5, "train_tau": True},
        {"recurrence_type": "none", "skip": True, "t_skip": 2.0, "t_feedforward": 0.0},
        {"recurrence_type": "none", "skip": "multiplicative", "t_feedforward": 6.0},
        {"retina": True, "recurrence_type": "full"},
    ],
)
def test_a_first_area_without_recurrence_runs_the_next_conv_once(args):
    """With a held image and no recurrence in the first area, its response is s(t) times one map, so the
    second area's feedforward conv runs once, not once per step; dynamics and gradients stay exact."""
    model, x, areas = separable_model(args, seed=3)
    calls = []
    areas[1].ff.register_forward_hook(lambda *_: calls.append(1))
    fast = _run_with_grads(model, x)
    with torch.no_grad():
        inferred = model(x, record="unit")
    assert calls == []  # its weights are used once per forward, through one conv on the fixed map
    model.dynamics.engine = "plain"
    plain = _run_with_grads(model, x)
    assert len(calls) == 7 - model.first_response_steps()[model.areas[1]]
    assert_same_as_plain(fast, inferred, plain)


@pytest.mark.parametrize(
    "args",
    [
        {"recurrence_type": "self"},
        {"recurrence_type": "self", "recurrence_target": "output", "integration": "rk4", "train_tau": True},
        {"recurrence_type": "self", "skip": True, "t_skip": 4.0, "t_recurrence": 4.0},
        {"recurrence_type": "self", "convs_per_area": 2},
        {"recurrence_type": "none", "convs_per_area": 2},
    ],
)
def test_a_first_area_with_self_recurrence_is_computed_once_and_scaled_per_channel(args):
    """With self recurrence every unit of the first area follows its channel's response to a drive of ones,
    scaled by its own drive, so the area's recurrent weight only ever sees that (1, C, 1, 1) response; a
    second area of two convs gets the scaled output step by step."""
    model, x, areas = separable_model(args, seed=4)
    shapes = []
    watched = areas[0].rec if areas[0].rec is not None else areas[0].integrator
    hook = watched.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(output.shape)))
    fast = _run_with_grads(model, x)
    with torch.no_grad():
        inferred = model(x, record="unit")
    hook.remove()
    assert shapes and set(shapes) == {(1, areas[0].out_channels, 1, 1)}
    model.dynamics.engine = "plain"
    plain = _run_with_grads(model, x)
    assert_same_as_plain(fast, inferred, plain)


@pytest.mark.parametrize(
    "args",
    [
        {"recurrence_type": "depthwise"},
        {"recurrence_type": "self", "supralinearity": 2.0},
        {"recurrence_type": "self", "feedback": True},
        {"presentation_pattern": "10"},
        {"idle_timesteps": 1},
        {"tbptt_steps": 2},
    ],
)
def test_the_first_area_shortcut_needs_a_first_area_driven_only_by_the_shown_image(args):
    model = DyRCNNx4(n_timesteps=6, **{"recurrence_type": "none", **args})
    x = torch.rand(1, 3, 16, 16)
    held = model._held_frames(x, 6 + model.dynamics.idle_timesteps)
    assert not HeldFirstArea.applies(list(model.layers.values()), model.dynamics, held)


def test_connection_delays_name_only_the_connections_the_model_has():
    assert DyRCNNx4(recurrence_type="none").connection_delays() == {"t_feedforward": 2.0}
    model = DyRCNNx4(skip=True, feedback="multiplicative", t_skip=6.0, t_recurrence=4.0)
    assert model.connection_delays() == {"t_feedforward": 2.0, "t_recurrence": 4.0, "t_skip": 6.0, "t_feedback": 4.0}
