"""Switching connections off at test time gives the model built without them, with the same weights."""

import pytest
import torch

from dynvision.models import DyRCNNx4
from dynvision.models.ablation import PARTS, switch_off

CASES = [
    ({"recurrence_type": "full"}, ("recurrence",), {"recurrence_type": "none"}),
    (
        {"recurrence_type": "self", "skip": True, "feedback": True},
        "recurrence",
        {"recurrence_type": "none", "skip": True, "feedback": True},
    ),
    (
        {"recurrence_target": "input", "recurrence_type": "pointdepthwise"},
        ["recurrence"],
        {"recurrence_target": "input", "recurrence_type": "none"},
    ),
    ({"feedback": "multiplicative", "skip": True}, ("feedback",), {"skip": True}),
    ({"skip": True, "t_skip": 0.0, "feedback": True}, ("skip",), {"feedback": True}),
    ({"skip": True, "feedback": True}, PARTS, {"feedforward_only": True}),
]


def _pair(args: dict, parts, control_args: dict) -> tuple[DyRCNNx4, DyRCNNx4]:
    """A model with ``parts`` switched off, and the model built without them holding the same weights."""
    torch.manual_seed(0)
    model = switch_off(DyRCNNx4(n_timesteps=7, **args), parts)
    control = DyRCNNx4(n_timesteps=7, **control_args)
    control.load_state_dict(model.state_dict())  # strict: the switched-off modules are gone
    return model, control


@pytest.mark.parametrize(("args", "parts", "control_args"), CASES)
def test_switched_off_model_equals_the_model_built_without_those_connections(args, parts, control_args):
    model, control = _pair(args, parts, control_args)
    x = torch.rand(5, 3, 16, 16)
    with torch.no_grad():
        assert model.path == control.path
        logits, responses = model(x, record="unit")
        control_logits, control_responses = control(x, record="unit")
    torch.testing.assert_close(logits, control_logits, rtol=0, atol=0)
    for name in responses:
        torch.testing.assert_close(responses[name], control_responses[name], rtol=0, atol=0)
    assert model.first_response_steps() == control.first_response_steps()
    assert model.connection_delays() == control.connection_delays()


@pytest.mark.parametrize(("args", "parts", "control_args"), CASES[:2] + CASES[3:5])
def test_plain_and_fast_engines_agree_after_switching_off(args, parts, control_args):
    model, _ = _pair(args, parts, control_args)
    x = torch.rand(2, 3, 16, 16)
    logits = model(x)
    with torch.no_grad():
        inferred = model(x)
    model.dynamics.engine = "plain"
    plain = model(x)
    torch.testing.assert_close(logits, plain, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(inferred, plain, rtol=1e-4, atol=1e-5)


def test_recurrence_off_changes_the_logits_and_feedback_off_allows_inference_area_by_area():
    torch.manual_seed(0)
    model = DyRCNNx4(n_timesteps=7, feedback=True)
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        before = model(x)
        assert model.path == "by_step"
        switch_off(model, ["recurrence", "feedback"])
        assert model.path == "by_area"
        assert not torch.allclose(before, model(x))
    assert all(area.rec is None and area.feedback is None for area in model.layers.values())
    assert model.dynamics.recurrence_type == "none" and model.dynamics.feedback_mode is None


def test_an_unknown_part_names_the_valid_ones():
    message = r"^switch_off part 'recurence' is unknown; valid: recurrence, feedback, skip$"
    with pytest.raises(ValueError, match=message):
        switch_off(DyRCNNx4(), ["recurence"])
