"""The published weights the zoo knows, and registry files that record one's own trained models as weights.

Built in: torchvision's ImageNet weights of AlexNet and ResNet-18, taken from torchvision's own weights enums
(their url, the checksum prefix in the file name, their metadata), and CORnet-RT's published checkpoint. A
registry file is YAML, ``{model name: {tag: {url, sha256, layout, meta}}}``, written by
``dynvision-models register-weights`` and read by :func:`dynvision.models.registry.use_weights_file`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import yaml

from dynvision.models.files import atomic_path
from dynvision.models.weights import Weights

IMAGENET = {"dataset": "imagenet", "n_classes": 1000, "image_size": 224}
TORCHVISION_ENUMS = {"AlexNet": "AlexNet_Weights", "ResNet18": "ResNet18_Weights"}
CORNET_RT = Weights(
    url="https://s3.amazonaws.com/cornet-models/cornet_rt-933c001c.pth",
    sha256="933c001c",
    layout="cornet",
    meta={**IMAGENET, "source": "dicarlolab/CORnet cornet_rt (times=5)"},
)


def torchvision_weights(model_name: str, member: str = "IMAGENET1K_V1") -> Weights:
    """The record of a torchvision weights enum member (``AlexNet_Weights.IMAGENET1K_V1``): its url, the sha256
    prefix torch hub writes into the file name, its categories and ImageNet accuracy."""
    import torchvision.models

    enum = TORCHVISION_ENUMS[model_name]
    entry = getattr(getattr(torchvision.models, enum), member)
    prefix = re.search(r"-([0-9a-f]{8,64})\.pth$", Path(urlparse(entry.url).path).name)
    meta = {**IMAGENET, "source": f"torchvision {enum}.{member}", "categories": len(entry.meta["categories"])}
    meta["accuracy"] = entry.meta["_metrics"]["ImageNet-1K"]["acc@1"] / 100
    return Weights(url=entry.url, sha256=prefix[1], meta=meta, layout="torchvision")


BUILTIN_WEIGHTS: dict[str, dict[str, Callable[[], Weights]]] = {
    "AlexNet": {"imagenet": lambda: torchvision_weights("AlexNet")},
    "ResNet18": {"imagenet": lambda: torchvision_weights("ResNet18")},
    "CorNetRT": {"imagenet": lambda: CORNET_RT},
}
"""Tags of the published weights of each model; a record is built when it is asked for (torchvision loads then)."""


def read_weights_file(path: str | os.PathLike) -> dict[str, dict[str, Weights]]:
    """The records of a registry file (none where it does not exist); a malformed record is named in one line."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"weights registry {path} is not readable YAML ({str(error).splitlines()[0]})") from None
    records: dict[str, dict[str, Weights]] = {}
    for model, tags in entries.items():
        for tag, fields in (tags or {}).items():
            try:
                records.setdefault(str(model), {})[str(tag)] = Weights(**fields)
            except (TypeError, ValueError) as error:
                raise ValueError(f"weights registry {path}: {model}.{tag}: {error}") from None
    return records


def write_weights_record(path: str | os.PathLike, model_name: str, tag: str, weights: Weights) -> None:
    """Add (or replace) one record in a registry file, written atomically."""
    path = Path(path)
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    record = {"url": weights.url, "sha256": weights.sha256, "layout": weights.layout, "meta": dict(weights.meta)}
    entries.setdefault(model_name, {})[tag] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_text(yaml.safe_dump(entries, sort_keys=True), encoding="utf-8")
