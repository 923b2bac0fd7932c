"""Every registered model passes the same checks on tiny inputs (torchvision/timm style)."""

import pytest
import torch

from dynvision.models import RECURRENCE_TYPES, DyRCNNx4, create_model, list_models
from dynvision.models.spec import sized_for

MODELS = list_models()
TINY = {"n_timesteps": 3, "t_feedforward": 0.0, "n_classes": 5}


def build(name: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model(name, **{**TINY, **sized_for(name, 16), **kwargs})  # the tests' images are 16 px


def test_the_zoo_is_complete():
    assert {"DyRCNNx2", "DyRCNNx4", "DyRCNNx8", "AlexNet", "CorNetRT", "ResNet18", "CordsNet"} <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_output_shape_over_time_and_backward(name):
    model = build(name)
    images = torch.rand(2, 3, 16, 16)
    logits = model(images)
    assert logits.shape == (2, 3, 5)
    assert model(torch.rand(2, 4, 3, 16, 16)).shape == (2, 4, 5), "a temporal input brings its own length"
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), torch.randint(0, 5, (6,))).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is None or torch.isfinite(g).all() for g in grads)
    first_area = next(iter(model.layers.values()))
    assert model.classifier.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in first_area.ff.parameters())


@pytest.mark.parametrize("name", MODELS)
def test_both_engines_agree_in_float64_with_gradients(name):
    """In float64 (where batch norm over two samples cannot amplify rounding) the fast engine's logits,
    responses and gradients equal the plain reference's, in training and in inference."""
    model = build(name).double()
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    start = {k: v.clone() for k, v in model.state_dict().items()}  # batch norm's running statistics included

    def run():
        model.load_state_dict(start)
        model.train()
        logits, responses = model(x, record="unit")
        (logits.sum() + sum(r.pow(2).sum() for r in responses.values())).backward()
        grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        model.eval()
        with torch.no_grad():
            inferred = model(x)
        return logits.detach(), {a: r.detach() for a, r in responses.items()}, grads, inferred

    fast = run()
    model.dynamics.engine = "plain"
    plain = run()
    close = {"rtol": 1e-7, "atol": 1e-9}
    torch.testing.assert_close(fast[0], plain[0], **close)
    torch.testing.assert_close(fast[3], plain[3], **close)
    for area in model.areas:
        torch.testing.assert_close(fast[1][area], plain[1][area], **close)
    for f, p in zip(fast[2], plain[2], strict=True):
        assert (f is None) == (p is None)
        if p is not None:  # relative to the whole gradient: batch norm over two samples magnifies rounding
            assert (f - p).norm() <= 1e-8 * p.norm() + 1e-12, (f - p).norm() / p.norm()


@pytest.mark.parametrize("name", MODELS)
def test_state_is_reset_between_batches(name):
    model = build(name).eval()
    first, second = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        alone = model(second)
        model(first)
        after = model(second)
    torch.testing.assert_close(alone, after)


@pytest.mark.parametrize("name", MODELS)
def test_deterministic_under_a_seed(name):
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        a = build(name, seed=3).eval()(x)
        b = build(name, seed=3).eval()(x)
        c = build(name, seed=4).eval()(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("name", MODELS)
def test_bf16_mixed_autocast_runs(name):
    model = build(name, n_timesteps=2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, responses = model(torch.rand(2, 3, 16, 16), record="layer")
        logits.float().sum().backward()
    assert logits.shape == (2, 2, 5) and torch.isfinite(logits.float()).all()
    assert set(responses) == set(model.areas)


@pytest.mark.parametrize("feedback", [True, False], ids=["feedback", "no-feedback"])
@pytest.mark.parametrize("engine", ["fast", "plain"])
@pytest.mark.parametrize("rctype", RECURRENCE_TYPES)
def test_bf16_mixed_autocast_runs_for_every_recurrence_type(rctype, engine, feedback):
    model = DyRCNNx4(n_timesteps=3, recurrence_type=rctype, skip=True, feedback=feedback, engine=engine)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(torch.rand(2, 3, 16, 16))
    logits.float().sum().backward()
    assert torch.isfinite(logits.float()).all()


@pytest.mark.parametrize("name", MODELS)
def test_record_layer_and_unit(name):
    model = build(name).eval()
    with torch.no_grad():
        logits, layer = model(torch.rand(2, 3, 16, 16), record=True)
        _, unit = model(torch.rand(2, 3, 16, 16), record="unit")
    assert logits.shape == (2, 3, 5)
    assert list(layer) == model.areas == list(unit)
    for area in model.areas:
        assert layer[area].shape == (2, 3, 2)
        assert unit[area].dim() == 5 and unit[area].shape[:2] == (2, 3)
        assert (layer[area] >= 0).all()


def test_record_rejects_unknown_resolution():
    with pytest.raises(ValueError, match="valid: None, True, layer, unit"):
        build("DyRCNNx2")(torch.rand(1, 3, 16, 16), record="pixel")


def test_layer_record_is_mean_and_std_of_absolute_activity():
    model = build("DyRCNNx2").eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        _, layer = model(x, record="layer")
        _, unit = model(x, record="unit")
    flat = unit["IT"].abs().flatten(2)
    torch.testing.assert_close(layer["IT"][..., 0], flat.mean(-1))
    torch.testing.assert_close(layer["IT"][..., 1], flat.std(-1, unbiased=False))
