"""Downloads against a local HTTP server: success, resume, checksum mismatch, interrupted transfer."""

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from dynvision.data.download import ChecksumError, DownloadError, download_file
from dynvision.data.get import get_data, is_complete
from dynvision.data.registry import Resource


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_download_verifies_and_renames(file_server, tmp_path):
    body = bytes(range(256)) * 1000
    file_server.files["/a.bin"] = body
    dest = download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", md5=_md5(body), progress=False)
    assert dest.read_bytes() == body
    assert not (tmp_path / "a.bin.part").exists()


def test_sha256_is_checked_too(file_server, tmp_path):
    file_server.files["/a.bin"] = b"abc" * 100
    with pytest.raises(ChecksumError, match=r"sha256 is .* expected 00"):
        download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", sha256="00" * 32, progress=False)


def test_checksum_mismatch_leaves_nothing(file_server, tmp_path):
    file_server.files["/a.bin"] = b"x" * 5000
    with pytest.raises(ChecksumError, match=r"a.bin: md5 is .*, expected 0123"):
        download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", md5="0123" * 8, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_transfer_fails_clearly_and_resumes(file_server, tmp_path):
    body = np.random.default_rng(0).bytes(200_000)
    file_server.files["/a.bin"] = body
    file_server.truncate["/a.bin"] = 70_000
    with pytest.raises(DownloadError, match=r"failed after 2 attempts .*run again to resume"):
        download_file(
            f"{file_server.url}/a.bin", tmp_path / "a.bin", md5=_md5(body), retries=1, backoff=0, progress=False
        )
    assert not (tmp_path / "a.bin").exists()
    assert (tmp_path / "a.bin.part").stat().st_size == 70_000
    del file_server.truncate["/a.bin"]
    download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", md5=_md5(body), progress=False)
    assert (tmp_path / "a.bin").read_bytes() == body
    assert file_server.requests[-1] == ("/a.bin", "bytes=70000-")


def test_retry_recovers_from_one_broken_transfer(file_server, tmp_path):
    body = b"0123456789" * 10_000
    file_server.files["/a.bin"] = body
    file_server.truncate["/a.bin"] = 30_000
    original = file_server.httpd.RequestHandlerClass.do_GET

    def heal_after_first(handler):
        original(handler)
        file_server.truncate.pop("/a.bin", None)

    file_server.httpd.RequestHandlerClass.do_GET = heal_after_first
    download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", md5=_md5(body), backoff=0, progress=False)
    assert (tmp_path / "a.bin").read_bytes() == body


def test_damaged_complete_file_is_fetched_again(file_server, tmp_path):
    body = b"payload" * 100
    file_server.files["/a.bin"] = body
    (tmp_path / "a.bin").write_bytes(b"damaged")
    download_file(f"{file_server.url}/a.bin", tmp_path / "a.bin", md5=_md5(body), progress=False)
    assert (tmp_path / "a.bin").read_bytes() == body


def test_missing_file_is_not_retried(file_server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(f"{file_server.url}/nope", tmp_path / "nope", md5="0" * 32, progress=False)


def _cifar10_archive() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, n in (("data_batch_1", 12), ("data_batch_2", 8), ("test_batch", 6)):
            batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [i % 10 for i in range(n)]}
            payload = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_get_cifar10_from_local_server(file_server, tmp_path):
    archive = _cifar10_archive()
    file_server.files["/cifar-10-python.tar.gz"] = archive
    resources = [Resource(f"{file_server.url}/cifar-10-python.tar.gz", "cifar-10-python.tar.gz", md5=_md5(archive))]
    get_data("cifar10", tmp_path, resources=resources, progress=False)
    assert is_complete("cifar10", tmp_path)
    assert len(list((tmp_path / "raw/cifar10/train").rglob("*.png"))) == 20
    assert len(list((tmp_path / "raw/cifar10/test/airplane").glob("*.png"))) == 1
    assert len(list((tmp_path / "raw/cifar10/test/deer").glob("*.png"))) == 1


def test_get_mnist_idx_from_local_server(file_server, tmp_path):
    rng = np.random.default_rng(1)
    resources = []
    for prefix, n in (("train", 15), ("t10k", 5)):
        for kind, array in (
            ("images-idx3", rng.integers(0, 256, (n, 28, 28))),
            ("labels-idx1", np.arange(n) % 10),
        ):
            name = f"{prefix}-{kind}-ubyte.gz"
            file_server.files[f"/{name}"] = _idx(array)
            resources.append(Resource(f"{file_server.url}/{name}", name, md5=_md5(file_server.files[f"/{name}"])))
    get_data("mnist", tmp_path, resources=resources, progress=False)
    test = tmp_path / "raw/mnist/test"
    assert sorted((p.name for p in test.iterdir()), key=int) == list("0123456789")
    assert [len(list((test / c).iterdir())) for c in "0123456789"] == [1] * 5 + [0] * 5
    assert len(list((tmp_path / "raw/mnist/train").rglob("*.png"))) == 15


def test_failed_get_leaves_no_raw_subset(file_server, tmp_path):
    archive = _cifar10_archive()
    file_server.files["/c.tar.gz"] = archive
    resources = [Resource(f"{file_server.url}/c.tar.gz", "cifar-10-python.tar.gz", md5="f" * 32)]
    with pytest.raises(ChecksumError):
        get_data("cifar10", tmp_path, resources=resources, progress=False)
    assert not is_complete("cifar10", tmp_path)
    assert list((tmp_path / "raw/cifar10").iterdir()) == []
    assert list((tmp_path / "downloads/cifar10").iterdir()) == []


def test_imagenet_needs_a_source(tmp_path):
    with pytest.raises(ValueError, match="never downloaded; pass --source"):
        get_data("imagenet", tmp_path)


def test_imagenet_links_existing_folder(tmp_path):
    for inner in ("train/n01", "val/n01"):
        (tmp_path / "ilsvrc" / inner).mkdir(parents=True)
    get_data("imagenet", tmp_path / "data", source=tmp_path / "ilsvrc")
    assert (tmp_path / "data/raw/imagenet/test").is_symlink()
    assert (tmp_path / "data/raw/imagenet/test/n01").is_dir()


def _png_bytes(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def test_get_imagenette_style_tar_of_class_folders(file_server, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for split, n in (("train", 2), ("val", 1)):
            for wnid in ("n01440764", "n03888605"):
                for i in range(n):
                    _add(tar, f"imagenette2-160/{split}/{wnid}/img{i}.png", _png_bytes(i))
    archive = buffer.getvalue()
    file_server.files["/imagenette2-160.tgz"] = archive
    resources = [Resource(f"{file_server.url}/imagenette2-160.tgz", "imagenette2-160.tgz", md5=_md5(archive))]
    get_data("imagenette", tmp_path, resources=resources, progress=False)
    assert len(list((tmp_path / "raw/imagenette/train/n03888605").iterdir())) == 2
    assert len(list((tmp_path / "raw/imagenette/test/n01440764").iterdir())) == 1
    assert sorted(p.name for p in (tmp_path / "raw/imagenette").iterdir()) == ["test", "train"]

    from dynvision.data.batches import build_dataloader

    images, labels = next(iter(build_dataloader("imagenette", "test", data_root=tmp_path, batch_size=4)))
    assert images.shape == (2, 3, 160, 160)  # resized and centre-cropped to the registry resolution
    assert labels.tolist() == [0, 9]  # full label space of the 10 imagenette classes


def test_get_tinyimagenet_style_zip(file_server, tmp_path):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for wnid in ("n01443537", "n01629819"):
            zf.writestr(f"tiny-imagenet-200/train/{wnid}/images/{wnid}_0.JPEG", _png_bytes(0))
            zf.writestr(f"tiny-imagenet-200/train/{wnid}/{wnid}_boxes.txt", "")
        zf.writestr("tiny-imagenet-200/val/images/val_0.JPEG", _png_bytes(1))
        zf.writestr("tiny-imagenet-200/val/images/val_1.JPEG", _png_bytes(2))
        zf.writestr("tiny-imagenet-200/val/val_annotations.txt", "val_0.JPEG\tn01629819\t0\nval_1.JPEG\tn01443537\t0\n")
    archive = buffer.getvalue()
    file_server.files["/t.zip"] = archive
    resources = [Resource(f"{file_server.url}/t.zip", "tiny-imagenet-200.zip", md5=_md5(archive))]
    get_data("tinyimagenet", tmp_path, resources=resources, progress=False)
    assert [p.name for p in (tmp_path / "raw/tinyimagenet/test/n01629819").iterdir()] == ["val_0.JPEG"]
    assert [p.name for p in (tmp_path / "raw/tinyimagenet/train/n01443537").iterdir()] == ["n01443537_0.JPEG"]
