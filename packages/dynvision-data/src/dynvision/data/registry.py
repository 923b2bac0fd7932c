"""Registry of the datasets DynVision knows: resolution, normalisation, class names and download recipe.

Everything downstream (layout, groups, loaders, CLI) asks this registry, so a dataset is described once.
Download URLs and checksums are the ones the datasets publish (as documented by torchvision).
"""

from __future__ import annotations

from dynvision.data.dataset_info import DatasetInfo, Resource

DEFAULT_DATASET = "embedded"


_DATASETS: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry; names are unique so a typo cannot silently shadow one."""
    if info.name in _DATASETS:
        raise ValueError(f"dataset {info.name!r} is already registered")
    _DATASETS[info.name] = info
    return info


def _configured() -> dict[str, object]:
    """The datasets of config_data.yaml (:mod:`dynvision.data.user_datasets`), none named like a built-in one."""
    from dynvision.data.user_datasets import configured_entries

    entries = configured_entries()
    clash = sorted(set(entries) & set(_DATASETS))
    if clash:
        raise ValueError(f"config_data.yaml: datasets.{clash[0]} is a built-in dataset; give yours another name")
    return entries


def list_datasets() -> list[str]:
    """Names of all registered datasets and those of config_data.yaml, sorted."""
    return sorted({*_DATASETS, *_configured()})


def get_dataset_info(name: str) -> DatasetInfo:
    """Look a dataset up by name; unknown names raise one line that lists the valid ones."""
    if name in _DATASETS:
        return _DATASETS[name]
    entries = _configured()
    if name in entries:
        from dynvision.data.user_datasets import configured_info

        return configured_info(name, entries[name])
    raise ValueError(f"unknown dataset {name!r}; valid choices: {', '.join(list_datasets())}")


_MNIST_FILES = (
    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
)
_FASHION_FILES = (
    ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CIFAR100_CLASSES = tuple(
    """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can
    castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant
    flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree
    motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate
    poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider
    squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle
    wardrobe whale willow_tree wolf woman worm""".split()
)

FASHIONMNIST_CLASSES = (
    "T-shirt_top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle_boot",
)

IMAGENETTE_CLASSES = (
    "n01440764",
    "n02102040",
    "n02979186",
    "n03000684",
    "n03028079",
    "n03394916",
    "n03417042",
    "n03425413",
    "n03445777",
    "n03888605",
)

EMBEDDED_CLASSES = (
    "disk",
    "square",
    "triangle",
    "cross",
    "ring",
    "grating_horizontal",
    "grating_vertical",
    "grating_diagonal",
    "checkerboard",
    "dots",
)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

register_dataset(
    DatasetInfo(
        name="embedded",
        resolution=32,
        channels=3,
        mean=(0.4970, 0.5038, 0.4977),  # measured on the seed-0 training split
        std=(0.2950, 0.2948, 0.2937),
        class_names=EMBEDDED_CLASSES,
        archive_format="embedded",
        description="synthetic shapes, gratings and textures, generated from a seed (no network)",
    )
)
register_dataset(
    DatasetInfo(
        name="mnist",
        resolution=28,
        channels=1,
        mean=(0.1307,),
        std=(0.3081,),
        class_names=tuple(str(i) for i in range(10)),
        resources=tuple(
            Resource(f"https://ossci-datasets.s3.amazonaws.com/mnist/{f}", f, md5=m) for f, m in _MNIST_FILES
        ),
        archive_format="idx",
        description="handwritten digits 0-9, 28x28 grey",
        mirror_safe=False,
    )
)
register_dataset(
    DatasetInfo(
        name="fashionmnist",
        resolution=28,
        channels=1,
        mean=(0.2860,),
        std=(0.3530,),
        class_names=FASHIONMNIST_CLASSES,
        resources=tuple(
            Resource(f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{f}", f, md5=m)
            for f, m in _FASHION_FILES
        ),
        archive_format="idx",
        description="Zalando clothing articles, 28x28 grey",
    )
)
register_dataset(
    DatasetInfo(
        name="cifar10",
        resolution=32,
        channels=3,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        class_names=CIFAR10_CLASSES,
        resources=(
            Resource(
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "cifar-10-python.tar.gz",
                md5="c58f30108f718f92721af3b95e74349a",
            ),
        ),
        archive_format="cifar10",
        description="10 object classes, 32x32 RGB",
    )
)
register_dataset(
    DatasetInfo(
        name="cifar100",
        resolution=32,
        channels=3,
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
        class_names=CIFAR100_CLASSES,
        resources=(
            Resource(
                "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                "cifar-100-python.tar.gz",
                md5="eb9058c3a382ffc7106e4002c42a8d85",
            ),
        ),
        archive_format="cifar100",
        description="100 object classes (fine labels), 32x32 RGB",
    )
)
register_dataset(
    DatasetInfo(
        name="imagenette",
        resolution=160,
        channels=3,
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        class_names=IMAGENETTE_CLASSES,
        resources=(
            Resource(
                "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
                "imagenette2-160.tgz",
                md5="e793b78cc4c9e9a4ccc0c1155377a412",
            ),
        ),
        archive_format="imagefolder",
        extra={"subsets": {"train": "imagenette2-160/train", "test": "imagenette2-160/val"}},
        description="10 easy ImageNet classes, shorter side 160 px",
    )
)
register_dataset(
    DatasetInfo(
        name="tinyimagenet",
        resolution=64,
        channels=3,
        mean=(0.4802, 0.4481, 0.3975),
        std=(0.2770, 0.2691, 0.2821),
        class_names=None,
        n_classes_hint=200,
        resources=(
            Resource(
                "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
                "tiny-imagenet-200.zip",
                md5="90528d7ca1a48142e341f4ef8d21d0de",
            ),
        ),
        archive_format="tinyimagenet",
        description="200 ImageNet classes, 64x64 RGB (the labelled val split is used as test)",
    )
)
register_dataset(
    DatasetInfo(
        name="imagenet",
        resolution=224,
        channels=3,
        mean=_IMAGENET_MEAN,
        std=_IMAGENET_STD,
        class_names=None,
        n_classes_hint=1000,
        archive_format="existing",
        description="ILSVRC-2012 from an existing folder you point to (get imagenet --source DIR); never downloaded",
    )
)
