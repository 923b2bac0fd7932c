"""CordsNet equals cordsnet as published (wmws2/cordsnet): its equations written out here with its parameter names
(weight normalisation as torch writes it), its weights loaded key by key, compared step by step."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dynvision.models import Weights, create_model, file_sha256

CHANNELS = [64, 64, 64, 128, 128, 256, 256, 512, 512]
STRIDES = [1, 1, 2, 1, 2, 1, 2, 1]
ALPHA = 0.2  # cordsnet's dt / tau: 2 ms steps, 10 ms time constants


def _halved(size: int) -> int:
    return (size - 1) // 2 + 1


class CordsNetEquations(nn.Module):
    """cordsnet's ``cordsnet`` class (depth 8) written out from its equations: the same parameters under the same
    names, the areas updated from the last to the first within a step, the read-out of the two last areas."""

    def __init__(self, image_size: int, n_classes: int = 1000) -> None:
        super().__init__()
        norm = nn.utils.parametrizations.weight_norm
        self.inp_conv = norm(nn.Conv2d(3, 64, 7, 2, 3, bias=False))
        self.inp_skip = norm(nn.Conv2d(64, 64, 3, 1, 1, bias=False))
        size, sizes = _halved(_halved(image_size)), []
        for stride in STRIDES:
            size = size if stride == 1 else _halved(size)
            sizes.append(size)
        out = CHANNELS[1:]
        self.area_conv = nn.ModuleList(norm(nn.Conv2d(c, c, 3, 1, 1, bias=False)) for c in out)
        self.conv_bias = nn.ParameterList(nn.Parameter(torch.zeros(c, s, s)) for c, s in zip(out, sizes, strict=True))
        self.shapes = [(c, s, s) for c, s in zip(out, sizes, strict=True)]
        self.area_area = nn.ModuleList(
            norm(nn.Conv2d(cin, cout, 3, stride, 1, bias=False))
            for cin, cout, stride in zip(CHANNELS[:-1], out, STRIDES, strict=True)
        )
        self.skip_area = nn.ModuleList(norm(nn.Conv2d(c, 2 * c, 1, 2, 0, bias=False)) for c in (64, 128, 256))
        self.out_fc = norm(nn.Linear(512, n_classes))

    def forward(self, image: torch.Tensor, blank: int, shown: int) -> torch.Tensor:
        """Logits after each step: ``blank`` steps of a blank image, then ``shown`` steps of ``image``."""
        r = [image.new_zeros((image.shape[0], *shape)) for shape in self.shapes]  # every area starts at rest
        logits = []
        for step in range(blank + shown):
            inp = F.avg_pool2d(self.inp_conv(image * float(step >= blank)), 3, 2, 1)
            for j in reversed(range(8)):
                if j == 0:
                    x = inp
                elif j == 1:
                    x = F.relu(r[0]) + self.inp_skip(inp)
                elif j % 2 == 0:
                    x = F.relu(r[j - 1]) + F.relu(r[j - 2])
                else:
                    x = F.relu(r[j - 1]) + self.skip_area[j // 2 - 1](F.relu(r[j - 2]))
                drive = self.area_conv[j](r[j]) + self.conv_bias[j] + self.area_area[j](x)
                r[j] = (1 - ALPHA) * r[j] + ALPHA * F.relu(drive)
            logits.append(self.out_fc((F.relu(r[7]) + F.relu(r[6])).mean((-2, -1))))
        return torch.stack(logits, 1)


def cordsnet_checkpoint(image_size: int, biases: bool) -> CordsNetEquations:
    torch.manual_seed(0)
    reference = CordsNetEquations(image_size).double()
    with torch.no_grad():
        for conv in reference.area_conv:  # weaker recurrence, so that the dynamics settle within the blank steps
            conv.parametrizations.weight.original0.mul_(0.5)
        for bias in reference.conv_bias:
            bias.uniform_(-0.1, 0.1) if biases else bias.zero_()
    return reference


def load(tmp_path, reference: CordsNetEquations, image_size: int, **dynamics):
    path = tmp_path / "cordsnetr8.pth"
    torch.save(reference.state_dict(), path)
    record = Weights(url=str(path), sha256=file_sha256(path), layout="cordsnet")
    return create_model("CordsNet", weights=record, n_classes=1000, image_size=image_size, **dynamics).double().eval()


@pytest.mark.parametrize("engine", ["plain", "fast"])
def test_cordsnet_with_its_published_key_names_equals_its_equations(tmp_path, engine):
    reference = cordsnet_checkpoint(32, biases=False)
    blank, frames = 2, 6
    model = load(tmp_path, reference, 32, n_timesteps=frames, idle_timesteps=blank, engine=engine)
    image = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        logits = model(image)
        expected = reference(image, blank, frames)
    # the image reaches the first area one step (dt) later than in cordsnet: frame j is cordsnet's step blank + j
    torch.testing.assert_close(logits[:, 1:], expected[:, blank:-1], rtol=1e-9, atol=1e-9)
    assert logits[:, -1].abs().max() > 1e-3  # the image has reached the read-out
    weight = reference.area_area[3].weight  # the weight that weight normalisation gives
    torch.testing.assert_close(model.state_dict()["layers.area4.ff.conv.weight"], weight)


def test_cordsnet_with_spontaneous_activity_settles_to_cordsnets_after_its_blank_steps(tmp_path):
    """With biases an area is active before any input: cordsnet's areas from the first step, these once their input
    has arrived (up to 4 steps later). After cordsnet's 100 blank steps the two agree."""
    reference = cordsnet_checkpoint(32, biases=True)
    blank, frames = 100, 4
    model = load(tmp_path, reference, 32, n_timesteps=frames, idle_timesteps=blank)
    image = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        logits = model(image)
        expected = reference(image, blank, frames)
    torch.testing.assert_close(logits[:, 1:], expected[:, blank:-1], rtol=1e-6, atol=1e-6)


def test_cordsnet_is_built_for_one_image_size():
    model = create_model("CordsNet", image_size=32)
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, model.n_timesteps, 10)
    with pytest.raises(ValueError, match=r"CordsNet was built for 32 px images .* image_size=64"):
        model(torch.rand(1, 3, 64, 64))


def test_each_area_first_responds_when_first_response_steps_says(tmp_path):
    """The skips over two areas bring the image to the upper areas sooner than the chain of areas would."""
    model = load(tmp_path, cordsnet_checkpoint(32, biases=False), 32, n_timesteps=8)
    with torch.no_grad():
        _, responses = model(torch.rand(1, 3, 32, 32, dtype=torch.float64), record=True)
    first = {area: int((r[0, :, 0] > 0).nonzero()[0]) for area, r in responses.items()}
    assert first == model.first_response_steps()
    assert list(first.values()) == [1, 1, 2, 2, 3, 3, 4, 4]
