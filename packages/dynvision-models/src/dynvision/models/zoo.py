"""The model zoo: DyRCNN family and temporal versions of reference architectures.

Every model is a :class:`TemporalNetwork`; the classes here only say which areas exist and what their
feedforward pathway is. Dynamics arguments (``**dynamics``, see :class:`Dynamics`) are shared by all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from dynvision.models.heads import AlexNetClassifier
from dynvision.models.network import RETINA_CHANNELS, AreaSpec, TemporalNetwork
from dynvision.models.spec import BUILTIN_MODELS, DYNAMICS_ARGS, model_dynamics

CORTICAL_NAMES = {1: ["V1"], 2: ["V1", "IT"], 3: ["V1", "V4", "IT"], 4: ["V1", "V2", "V4", "IT"]}
HEADS = ("linear", "original")


def _conv(cin: int, cout: int, k: int, stride: int = 1, padding: int | None = None, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if padding is None else padding, bias=bias)


class ZooModel(TemporalNetwork):
    """Checks the dynamics arguments (long names or aliases, one-line errors) with the model's own defaults
    from :data:`dynvision.models.spec.BUILTIN_MODELS` (e.g. no recurrence for AlexNet)."""

    def _build(
        self,
        specs_for: Any,
        n_classes: int,
        input_channels: int,
        dynamics: dict[str, Any],
        head: nn.Module | None = None,
        stem: nn.Module | None = None,
        readout_areas: int = 1,
    ) -> None:
        entry = BUILTIN_MODELS.get(type(self).__name__)
        name = type(self).__name__
        dyn = model_dynamics(name, dynamics, entry.dynamics if entry else {}, valid=DYNAMICS_ARGS)
        if dyn.retina and stem is not None:
            raise ValueError(f"retina=True is invalid for {name}: its input stage takes the images; valid: False")
        first = RETINA_CHANNELS if dyn.retina else input_channels
        specs = specs_for(first)
        super().__init__(
            specs,
            n_classes=n_classes,
            input_channels=input_channels,
            dynamics=dyn,
            head=head,
            stem=stem,
            readout_areas=readout_areas,
        )


class DyRCNN(ZooModel):
    """Recurrent CNN family: one conv (or two) per area, 2x2 max pooling between areas.

    The feedforward convs have no bias, so a blank input drives nothing: the model has no spontaneous
    activity, and after a stimulus every area returns to rest (with a bias, trained models kept a
    bias-driven spontaneous state that the adaptation turned into a rebound every ~60 steps).

    Args:
        channels: channels per area (square numbers suit the topographic ``local`` recurrence).
        convs_per_area: 1 or 2 convs in an area's feedforward pathway.
        kernel_size: feedforward kernel size.
        area_names: names of the areas (default V1, V2, V4, IT for four areas).
    """

    variant_args: ClassVar[dict[str, Any]] = {"channels": (36, 64, 121, 256), "convs_per_area": 1}

    def __init__(
        self,
        channels: Sequence[int] | None = None,
        convs_per_area: int | None = None,
        kernel_size: int = 3,
        area_names: Sequence[str] | None = None,
        n_classes: int = 10,
        input_channels: int = 3,
        **dynamics: Any,
    ) -> None:
        channels = list(channels or self.variant_args["channels"])
        convs = int(convs_per_area or self.variant_args["convs_per_area"])
        names = list(area_names or CORTICAL_NAMES.get(len(channels), [f"area{i + 1}" for i in range(len(channels))]))
        if len(names) != len(channels):
            raise ValueError(f"area_names={names} must name each of the {len(channels)} areas")
        if convs not in (1, 2):
            raise ValueError(f"convs_per_area={convs} is invalid; valid: 1, 2")

        def specs(first: int) -> list[AreaSpec]:
            out, cin = [], first
            for i, (name, cout) in enumerate(zip(names, channels, strict=True)):
                layers = [_conv(cin, cout, kernel_size, bias=False)]
                if convs == 2:
                    layers += [nn.ReLU(), _conv(cout, cout, kernel_size, bias=False)]
                ff = layers[0] if convs == 1 else nn.Sequential(*layers)
                pool = nn.MaxPool2d(2) if i + 1 < len(channels) else None
                out.append(AreaSpec(name, ff, cin, cout, pool))
                cin = cout
            return out

        self._build(specs, n_classes, input_channels, dynamics)
        self._init_feedforward()

    def _init_feedforward(self) -> None:
        """He initialisation of the feedforward convs (variance 2 / fan-in), so that activity keeps its scale
        from area to area instead of shrinking by PyTorch's default 1/3 variance per conv."""
        for area in self.layers.values():
            for module in area.ff.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")


class DyRCNNx2(DyRCNN):
    """Two areas (V1, IT) with 36 and 64 channels."""

    variant_args: ClassVar[dict[str, Any]] = {"channels": (36, 64), "convs_per_area": 1}


class DyRCNNx4(DyRCNN):
    """Four areas V1, V2, V4, IT with 36/64/121/256 channels."""

    variant_args: ClassVar[dict[str, Any]] = {"channels": (36, 64, 121, 256), "convs_per_area": 1}


class DyRCNNx8(DyRCNN):
    """Four areas with two convs each (eight convs), 64/144/256/529 channels."""

    variant_args: ClassVar[dict[str, Any]] = {"channels": (64, 144, 256, 529), "convs_per_area": 2}


class AlexNet(ZooModel):
    """torchvision's AlexNet with leaky dynamics: its five conv layers (with their ReLUs) as areas; no recurrence
    by default.

    Args:
        head: ``original``: torchvision's max pooling (3x3, stride 2, unpadded) and its classifier (6x6 average
            pooling, dropout, two 4096-unit layers): with ``rctype=none``, ``tau=dt`` and ``tff=0`` a held image
            gives torchvision's logits at every step (images of 63 px and more). ``linear`` (default): the pools
            padded by one so that 16-32 px images stay valid, and the toolbox's averaged linear read-out.
    """

    channels_last = False  # measured: the fast engine is faster on this model without it

    def __init__(self, head: str = "linear", n_classes: int = 10, input_channels: int = 3, **dynamics: Any) -> None:
        if head not in HEADS:
            raise ValueError(f"head={head!r} is unknown; valid: {', '.join(HEADS)}")
        padding = 0 if head == "original" else 1

        def specs(first: int) -> list[AreaSpec]:
            def pool() -> nn.MaxPool2d:
                return nn.MaxPool2d(3, 2, padding=padding)

            return [
                AreaSpec("conv1", _conv(first, 64, 11, stride=4, padding=2), first, 64, pool()),
                AreaSpec("conv2", _conv(64, 192, 5), 64, 192, pool()),
                AreaSpec("conv3", _conv(192, 384, 3), 192, 384),
                AreaSpec("conv4", _conv(384, 256, 3), 384, 256),
                AreaSpec("conv5", _conv(256, 256, 3), 256, 256, pool()),
            ]

        classifier = AlexNetClassifier(256, n_classes) if head == "original" else None
        self._build(specs, n_classes, input_channels, dynamics, classifier)


class CorNetRT(ZooModel):
    """CORnet-RT (Kubilius et al. 2018, dicarlolab/CORnet): areas V1, V2, V4, IT with 64/128/256/512 channels.

    Each area as published: an input stage (``conv_input``: 7x7 stride 4 in V1, 3x3 stride 2 above, then
    GroupNorm(32) and ReLU), to which the area's own last output is added (``rctype=identity``, its state),
    then ``conv1`` (3x3, no bias) and GroupNorm(32) (the area's ``post`` stage) and ReLU give the output;
    the read-out averages IT over space (its decoder). With its defaults (``tau=dt``, one step of feedforward
    and recurrent delay) each step is CORnet-RT's update; other dynamics make it a leaky version.
    """

    channels_last = False  # measured: the fast engine is faster on this model without it

    def __init__(self, n_classes: int = 10, input_channels: int = 3, **dynamics: Any) -> None:
        def specs(first: int) -> list[AreaSpec]:
            plan = [("V1", 64, 7, 4), ("V2", 128, 3, 2), ("V4", 256, 3, 2), ("IT", 512, 3, 2)]
            out, cin = [], first
            for name, cout, k, stride in plan:
                ff = nn.Sequential(
                    OrderedDict(
                        conv_input=_conv(cin, cout, k, stride=stride),
                        norm_input=nn.GroupNorm(32, cout),
                        nonlin_input=nn.ReLU(),
                    )
                )
                post = nn.Sequential(OrderedDict(conv1=_conv(cout, cout, 3, bias=False), norm1=nn.GroupNorm(32, cout)))
                out.append(AreaSpec(name, ff, cin, cout, post=post))
                cin = cout
            return out

        self._build(specs, n_classes, input_channels, dynamics)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs with batch norm and an identity or projected shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv(cin, cout, 3, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = _conv(cout, cout, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = (
            nn.Sequential(_conv(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.downsample(x))


class ResNet18(ZooModel):
    """torchvision's ResNet-18 with the stem and each of its four stages as an area; no recurrence by default.

    Its read-out is ResNet's own (global average pooling, then linear), so with ``rctype=none``, ``tau=dt`` and
    ``tff=0`` a held image gives torchvision's logits at every step (eval mode).

    Batch norm normalises over the samples of a step (plain engine) or of all steps at once (fast
    engine), so the two engines agree exactly only in eval mode for this model.
    """

    channels_last = False  # measured: the fast engine is faster on this model without it

    def __init__(self, n_classes: int = 10, input_channels: int = 3, **dynamics: Any) -> None:
        def specs(first: int) -> list[AreaSpec]:
            stem = nn.Sequential(_conv(first, 64, 7, stride=2, bias=False), nn.BatchNorm2d(64))
            out = [AreaSpec("conv1", stem, first, 64, nn.MaxPool2d(3, 2, padding=1))]
            cin = 64
            for i, (cout, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
                ff = nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout))
                out.append(AreaSpec(f"layer{i + 1}", ff, cin, cout))
                cin = cout
            return out

        self._build(specs, n_classes, input_channels, dynamics)


class PositionBias(nn.Module):
    """A bias per unit, channel and position, of maps of one size (CordsNet's ``conv_bias``)."""

    def __init__(self, channels: int, size: int, image_size: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels, size, size))
        self.image_size = image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != self.bias.shape[-2:]:
            size = self.bias.shape[-1]
            fitting = round(self.image_size * x.shape[-1] / size)  # the image size that gives these maps
            raise ValueError(
                f"CordsNet was built for {self.image_size} px images (a bias per position of {size}x{size} maps); "
                f"these give {tuple(x.shape[-2:])} maps; build it with image_size={fitting}"
            )
        return x + self.bias


class CordsNet(ZooModel):
    """CordsNet-R8 (Soo et al. 2024, wmws2/cordsnet): eight areas of continuous-time rate units, as published.

    An input stage (7x7 conv of stride 2 without bias, 3x3 average pooling of stride 2) feeds the first area and,
    through a 3x3 conv, the second. Each area integrates the rectified sum of its recurrent 3x3 conv, a bias per
    unit and position, and a 3x3 conv of its input (``tau dr/dt = -r + relu(W_rec r + b + W_in x)``); its input is
    the area below plus the area two below (itself, or a 1x1 conv of stride 2 where the size halves: areas 4, 6
    and 8). Channels 64, 64, 128, 128, 256, 256, 512, 512; the read-out averages the sum of the two last areas.
    ``tau=10`` ms and ``dt=2`` ms (alpha 0.2) as trained; cordsnet runs 100 blank steps before the image
    (``idle_timesteps=100``). The biases are per position, so the model is built for one ``image_size``
    (224: maps of 56 to 7 units).
    """

    channels_last = False  # measured: the fast engine is faster on this model without it

    def __init__(self, image_size: int = 224, n_classes: int = 10, input_channels: int = 3, **dynamics: Any) -> None:
        channels = [64, 64, 128, 128, 256, 256, 512, 512]
        strides = [1, 1, 2, 1, 2, 1, 2, 1]
        if image_size < 1:
            raise ValueError(f"image_size={image_size} must be >= 1")

        def halved(size: int) -> int:
            return (size - 1) // 2 + 1

        def specs(first: int) -> list[AreaSpec]:  # the first area's input is the input stage's 64 channels
            out, cin, size = [], 64, halved(halved(image_size))
            for i, (cout, stride) in enumerate(zip(channels, strides, strict=True)):
                size = size if stride == 1 else halved(size)
                ff = nn.Sequential(
                    OrderedDict(
                        conv=_conv(cin, cout, 3, stride=stride, bias=False),
                        position=PositionBias(cout, size, image_size),
                    )
                )
                if i == 1:
                    skip = _conv(64, 64, 3, bias=False)  # of the input stage
                elif i >= 2:
                    skip = (
                        nn.Identity() if i % 2 == 0 else _conv(channels[i - 2], cin, 1, stride=2, padding=0, bias=False)
                    )
                out.append(AreaSpec(f"area{i + 1}", ff, cin, cout, rate=True, input_skip=None if i == 0 else skip))
                cin = cout
            return out

        stem = nn.Sequential(_conv(input_channels, 64, 7, stride=2, bias=False), nn.AvgPool2d(3, 2, padding=1))
        self._build(specs, n_classes, input_channels, dynamics, stem=stem, readout_areas=2)
