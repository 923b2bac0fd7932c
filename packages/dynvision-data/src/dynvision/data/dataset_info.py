"""What DynVision knows about a dataset (`DatasetInfo`) and about one file of its download recipe (`Resource`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resource:
    """One file of a download recipe.

    Attributes:
        url: Where the file is published.
        filename: Name under which it is stored in `data/downloads/{name}/`.
        md5: Published MD5 checksum (hex), if the publisher gives one.
        sha256: Published SHA-256 checksum (hex), if known.
    """

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What DynVision needs to know about a dataset.

    Attributes:
        name: Registry name (also the folder name under `data/raw`).
        resolution: Side length of the images in pixels (after the dataset's own preprocessing).
        channels: 1 for grey-scale, 3 for RGB.
        mean: Per-channel mean used for normalisation (on [0, 1] pixel values); None for a dataset of
            config_data.yaml, whose statistics `get` computes from its training images
            (:func:`dynvision.data.normalisation.with_statistics`).
        std: Per-channel standard deviation used for normalisation (None likewise).
        class_names: Class names in label order; None when they are read from the data on disk
            (tinyimagenet, imagenet), where folder names define the classes.
        resources: Files to download; empty for datasets that are generated or user-provided.
        archive_format: How `get_data` turns the downloaded files into the raw layout.
        n_classes_hint: Number of classes when `class_names` is None.
        description: One line shown by `dynvision-data list`.
        mirror_safe: False where a left-right mirror changes labels (digits); augmentation then never flips.
    """

    name: str
    resolution: int
    channels: int
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None
    class_names: tuple[str, ...] | None
    resources: tuple[Resource, ...] = ()
    archive_format: str = "none"
    n_classes_hint: int | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)
    mirror_safe: bool = True

    @property
    def n_classes(self) -> int:
        """Number of classes in the full label space."""
        if self.class_names is not None:
            return len(self.class_names)
        assert self.n_classes_hint is not None
        return self.n_classes_hint

    @property
    def downloadable(self) -> bool:
        """True when `get_data` fetches the dataset from the network."""
        return bool(self.resources)
