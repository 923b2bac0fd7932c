"""The reference models equal their originals: torchvision's AlexNet and ResNet-18 and CORnet-RT's published
equations, with the originals' weights loaded key by key (no network: state dicts saved to temporary files)."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
import yaml

from dynvision.models import Weights, create_model, file_sha256, get_weights, list_weights, use_weights_file
from dynvision.models.pretrained import torchvision_weights, write_weights_record

EXACT = {"rctype": "none", "tau": 2.0, "dt": 2.0, "tff": 0.0, "n_timesteps": 3}
"""No recurrence, alpha = dt / tau = 1 and no delay: each step is one feedforward pass."""


def saved(tmp_path, state, layout, name="weights.pth"):
    path = tmp_path / name
    torch.save(state, path)
    return Weights(url=str(path), sha256=file_sha256(path), layout=layout)


@pytest.mark.parametrize(
    ("name", "build", "args"),
    [
        ("AlexNet", torchvision.models.alexnet, {"head": "original"}),
        ("ResNet18", torchvision.models.resnet18, {}),
    ],
)
def test_a_held_image_gives_torchvisions_logits_at_every_step(tmp_path, name, build, args):
    torch.manual_seed(0)
    original = build(weights=None).eval()
    with torch.no_grad():  # batch norm statistics other than 0 and 1, so that they are checked too
        for module in original.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    record = saved(tmp_path, original.state_dict(), "torchvision")
    model = create_model(name, weights=record, n_classes=1000, **args, **EXACT).double().eval()
    original = original.double()
    image = torch.rand(2, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        expected = original(image)
        logits = model(image)
        model.dynamics.engine = "plain"
        plain = model(image)
    assert logits.shape == (2, 3, 1000)
    for t in range(3):
        torch.testing.assert_close(logits[:, t], expected, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(plain[:, t], expected, rtol=1e-9, atol=1e-9)


def test_a_new_readout_for_another_number_of_classes_keeps_every_other_weight(tmp_path):
    torch.manual_seed(0)
    original = torchvision.models.alexnet(weights=None)
    record = saved(tmp_path, original.state_dict(), "torchvision")
    for head, readout in (("original", "classifier.mlp.6.weight"), ("linear", "classifier.weight")):
        model = create_model("AlexNet", weights=record, head=head, n_classes=10)
        state = model.state_dict()
        torch.testing.assert_close(state["layers.conv3.ff.weight"], original.features[6].weight)
        assert state[readout].shape[0] == 10
    model = create_model("AlexNet", weights=record, head="original", n_classes=10)
    torch.testing.assert_close(model.state_dict()["classifier.mlp.4.weight"], original.classifier[4].weight)
    misfit = r"classifier.mlp.6.bias \(1000,\), classifier.mlp.6.weight \(1000, 4096\)"
    with pytest.raises(ValueError, match=rf"does not fit AlexNet's \({misfit}\); allow a new read-out"):
        create_model("AlexNet", weights=record, head="original", n_classes=10, new_readout=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("features.3.bias"), "weights lack 'layers.conv2.ff.bias' of AlexNet"),
        (lambda s: s.update({"features.4.weight": torch.zeros(1)}), "torchvision key 'features.4.weight' has no place"),
        (lambda s: s.update({"features.0.weight": torch.zeros(64, 3, 5, 5)}), r"has shape \(64, 3, 5, 5\)"),
    ],
)
def test_a_weights_file_that_does_not_fit_is_one_line_naming_the_key(tmp_path, change, message):
    state = torchvision.models.alexnet(weights=None).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message) as error:
        create_model("AlexNet", weights=saved(tmp_path, state, "torchvision"), head="original")
    assert "\n" not in str(error.value)


def test_a_layout_loads_only_into_its_model(tmp_path):
    record = saved(tmp_path, torchvision.models.resnet18(weights=None).state_dict(), "torchvision")
    with pytest.raises(ValueError, match="torchvision layout cannot load into DyRCNNx4; valid: AlexNet"):
        create_model("DyRCNNx4", weights=record)


def test_the_imagenet_records_come_from_torchvisions_weights_enums():
    for name, enum in (
        ("AlexNet", torchvision.models.AlexNet_Weights),
        ("ResNet18", torchvision.models.ResNet18_Weights),
    ):
        record = get_weights(name, "imagenet")
        assert record.url == enum.IMAGENET1K_V1.url and record.url.rsplit("-", 1)[1].startswith(record.sha256)
        assert record.layout == "torchvision" and record.meta["n_classes"] == 1000
        assert "imagenet" in list_weights(name)
    assert torchvision_weights("ResNet18").sha256 == "f37072fd"
    assert get_weights("CorNetRT", "imagenet").layout == "cornet"


def test_a_cached_download_with_another_checksum_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), cached)
    with pytest.raises(ValueError, match=r"resnet18-f37072fd.pth has sha256 [0-9a-f]{64}, expected f37072fd"):
        create_model("ResNet18", weights="imagenet")


# -- CORnet-RT -------------------------------------------------------------------------------------------------
AREAS = {"V1": (3, 64, 7, 4), "V2": (64, 128, 3, 2), "V4": (128, 256, 3, 2), "IT": (256, 512, 3, 2)}


def cornet_rt_checkpoint(seed: int = 0) -> dict:
    """Random weights under CORnet-RT's key names, saved as its training script saves them (DataParallel)."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=0.1):
        return torch.randn(*shape, generator=g) * scale

    state = {}
    for area, (cin, cout, k, _) in AREAS.items():
        state[f"{area}.conv_input.weight"] = rand(cout, cin, k, k, scale=(2 / (cin * k * k)) ** 0.5)
        state[f"{area}.conv_input.bias"] = rand(cout)
        state[f"{area}.conv1.weight"] = rand(cout, cout, 3, 3, scale=(2 / (cout * 9)) ** 0.5)
        for norm in ("norm_input", "norm1"):
            state[f"{area}.{norm}.weight"] = 1 + rand(cout)
            state[f"{area}.{norm}.bias"] = rand(cout)
        # CORnet-RT gives an area whose input has not arrived a blank input, which its biases turn into activity;
        # here such an area is silent. The two agree where that response is zero (the README names the difference)
        if area != "V1":
            state[f"{area}.conv_input.bias"].zero_()
            for norm in ("norm_input", "norm1"):
                state[f"{area}.{norm}.bias"] = -state[f"{area}.{norm}.bias"].abs()
    state["decoder.linear.weight"] = rand(1000, 512)
    state["decoder.linear.bias"] = rand(1000)
    return {"epoch": 40, "state_dict": {f"module.{key}": value for key, value in state.items()}}


def cornet_rt_reference(state: dict, image: torch.Tensor, times: int) -> torch.Tensor:
    """CORnet-RT as published (dicarlolab/CORnet cornet_rt.py), written out from its equations."""
    w = {key.removeprefix("module."): value.double() for key, value in state["state_dict"].items()}

    def block(area, inp, previous, shape):
        _, cout, k, stride = AREAS[area]
        if inp is None:  # no input yet: a blank input
            x = image.new_zeros((image.shape[0], cout, *shape))
        else:
            x = F.conv2d(inp, w[f"{area}.conv_input.weight"], w[f"{area}.conv_input.bias"], stride, k // 2)
            x = F.relu(F.group_norm(x, 32, w[f"{area}.norm_input.weight"], w[f"{area}.norm_input.bias"]))
        x = x + (0 if previous is None else previous)
        x = F.conv2d(x, w[f"{area}.conv1.weight"], None, 1, 1)
        return F.relu(F.group_norm(x, 32, w[f"{area}.norm1.weight"], w[f"{area}.norm1.bias"]))

    shapes, size = {}, image.shape[-1]
    for area, (_, _, k, stride) in AREAS.items():
        size = (size + 2 * (k // 2) - k) // stride + 1
        shapes[area] = (size, size)
    outputs = {}
    for area in AREAS:  # t = 0: only V1 sees the image
        outputs[area] = block(area, image if area == "V1" else None, None, shapes[area])
    for _ in range(1, times):
        below, new = image, {}
        for area in AREAS:
            new[area] = block(area, below, outputs[area], shapes[area])
            below = outputs[area]
        outputs = new
    return outputs["IT"].mean((-2, -1)) @ w["decoder.linear.weight"].T + w["decoder.linear.bias"]


def test_cornet_rt_with_its_published_key_names_equals_its_equations(tmp_path):
    checkpoint = cornet_rt_checkpoint()
    record = saved(tmp_path, checkpoint, "cornet", "cornet_rt.pth")
    times = 5
    model = create_model("CorNetRT", weights=record, n_classes=1000, n_timesteps=times + 1).double().eval()
    image = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        logits = model(image)
    # the image reaches V1 one step (dt) later than in CORnet-RT, so its output after `times` steps is step `times`
    torch.testing.assert_close(logits[:, times], cornet_rt_reference(checkpoint, image, times), rtol=1e-9, atol=1e-9)
    assert torch.equal(
        model.state_dict()["layers.V4.post.conv1.weight"], checkpoint["state_dict"]["module.V4.conv1.weight"]
    )


def test_a_registry_file_records_weights_and_create_model_loads_them(tmp_path):
    torch.manual_seed(1)
    trained = create_model("DyRCNNx2", n_classes=7)
    path = tmp_path / "DyRCNNx2_trained.pt"
    torch.save({"state_dict": trained.state_dict()}, path)
    registry = tmp_path / "weights.yaml"
    write_weights_record(registry, "DyRCNNx2", "mydata", Weights(str(path), file_sha256(path), {"n_classes": 7}))
    assert yaml.safe_load(registry.read_text())["DyRCNNx2"]["mydata"]["layout"] == "dynvision"
    use_weights_file(registry)
    use_weights_file(registry)  # reading it again changes nothing
    assert "mydata" in list_weights("DyRCNNx2")
    loaded = create_model("DyRCNNx2", weights="mydata", n_classes=7)
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), trained.state_dict().values(), strict=True)
    )
    registry.write_text("DyRCNNx2: {broken: {url: x, sha256: nothex}}\n")
    with pytest.raises(ValueError, match=r"weights.yaml: DyRCNNx2.broken: sha256='nothex' must be"):
        use_weights_file(registry)
