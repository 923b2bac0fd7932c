"""The guide's Python-like --config syntax is parsed without eval, also after Snakemake's YAML guess."""

import pytest
import yaml

from dynvision.workflow.config import ConfigError, parse_assignments
from dynvision.workflow.values import ValueSyntaxError, normalize_override, parse_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{rctype:full}", {"rctype": "full"}),
        (
            "{rctype:[full,self,depthpointwise,pointdepthwise]}",
            {"rctype": ["full", "self", "depthpointwise", "pointdepthwise"]},
        ),
        ("{rctype: [full, self], tsteps: 20}", {"rctype": ["full", "self"], "tsteps": 20}),
        ("[AlexNet,CorNetRT,ResNet18,DyRCNNx4]", ["AlexNet", "CorNetRT", "ResNet18", "DyRCNNx4"]),
        ("0001", "0001"),
        ("20", 20),
        ("0.5", 0.5),
        ("True", True),
        ("16-mixed", "16-mixed"),
        ("invertebrates", "invertebrates"),
        ("{}", {}),
        ("{name:'a,b'}", {"name": "a,b"}),
        ("a,b", "a,b"),
    ],
)
def test_parse_value(text: str, expected: object) -> None:
    assert parse_value(text) == expected


@pytest.mark.parametrize("text", ["{rctype:full", "{rctype}", "[a,b", "{a:1}}", "{a:1,}", "{rctype:__import__('os')}x"])
def test_malformed_values_raise(text: str) -> None:
    with pytest.raises(ValueSyntaxError, match="malformed value"):
        parse_value(text)


@pytest.mark.parametrize(
    "text",
    [
        "{rctype:full}",
        "{rctype:full,tsteps:20}",
        "{rctype: [full, self]}",
        "[AlexNet,CorNetRT]",
        "{rctype:[full,self]}",
    ],
)
def test_yaml_mangled_values_are_recovered(text: str) -> None:
    """Snakemake reads --config values with YAML's BaseLoader; normalising gives what the user wrote."""
    try:
        guessed = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError:
        guessed = text
    assert normalize_override(guessed) == parse_value(text)


def test_guide_assignments() -> None:
    parsed = parse_assignments(
        [
            "model_args={rctype:full}",
            "model_name=[AlexNet,CorNetRT,ResNet18,DyRCNNx4]",
            "seed=0001",
            "data_group=invertebrates",
            "use_ffcv=True",
            'precision="16-mixed"',
        ]
    )
    assert parsed == {
        "model_args": {"rctype": "full"},
        "model_name": ["AlexNet", "CorNetRT", "ResNet18", "DyRCNNx4"],
        "seed": "0001",
        "data_group": "invertebrates",
        "use_ffcv": True,
        "precision": "16-mixed",
    }


def test_assignment_without_equals_sign() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["model_name"])
