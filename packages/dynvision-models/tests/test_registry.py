"""Registry, argument aliases, one-line errors and pretrained weights records."""

import http.server
import subprocess
import sys
import threading

import pytest
import torch

from dynvision.models import (
    ALIASES,
    DyRCNNx4,
    Weights,
    create_model,
    file_sha256,
    list_models,
    list_weights,
    model_arguments,
    register_model,
    register_weights,
)


def test_register_model_refuses_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        register_model("DyRCNNx4")(DyRCNNx4)


def test_register_model_adds_a_new_name():
    @register_model("TinyTestNet")
    def tiny(n_classes: int = 3, **dynamics):
        return DyRCNNx4(channels=(4,), n_classes=n_classes, **dynamics)

    assert "TinyTestNet" in list_models()
    assert create_model("TinyTestNet", tsteps=2)(torch.rand(1, 3, 8, 8)).shape == (1, 2, 3)


def test_create_model_drops_none_and_maps_every_alias():
    model = create_model(
        "DyRCNNx4",
        rctype="self",
        rctarget="output",
        tsteps=5,
        dt=1.0,
        tau=5.0,
        tff=1.0,
        trc=2.0,
        tsk=3.0,
        tfb=4.0,
        skip=True,
        feedback="multiplicative",
        idle=2,
        lossrt=4.0,
        pattern="10",
        supralin=2.0,
        ffonly=False,
        n_classes=7,
        input_channels=1,
        integration=None,
    )
    d = model.dynamics
    assert (d.recurrence_type, d.recurrence_target, d.n_timesteps, d.dt, d.tau) == ("self", "output", 5, 1.0, 5.0)
    assert (d.delay_ff, d.delay_rec, d.delay_skip, d.delay_fb) == (1, 2, 3, 4)
    assert (d.skip_mode, d.feedback_mode, d.idle_timesteps, d.reaction_steps) == ("additive", "multiplicative", 2, 4)
    assert (d.presentation_pattern, d.supralinearity, d.integration) == ("10", 2.0, "euler")
    assert model.n_classes == 7 and model.input_channels == 1 and model.n_timesteps == 5 and model.dt == 1.0
    assert set(ALIASES) == {
        "rctype", "rctarget", "rckernel", "tsteps", "tff", "trc", "tsk", "tfb", "idle", "lossrt", "pattern",
        "supralin", "supragain", "norm", "normsigma", "tnorm", "adapt", "tadapt", "traintau", "ffonly", "tbptt",
        "classes", "inchannels", "convs", "kernel", "areas",
    }  # fmt: skip
    # every argument can go into a file name, where "_" separates fields: a long name with "_" has a short one
    assert all("_" not in name or name in ALIASES.values() for name in model_arguments("DyRCNNx4"))


def test_feedforward_only_switches_off_every_lateral_connection():
    model = create_model("DyRCNNx4", ffonly=True, skip=True, feedback=True)
    assert all(a.rec is None and a.skip is None and a.feedback is None for a in model.layers.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rctype": "diagonal"}, "recurrence_type='diagonal' is unknown; valid: none, self, full, depthwise"),
        ({"rctarget": "top"}, "recurrence_target='top' is unknown; valid: input, middle, output"),
        ({"tau": 0}, "tau=0 must be > 0 ms"),
        ({"tau": -3.0}, "tau=-3 must be > 0 ms"),
        ({"dt": 5.0, "tau": 2.0}, "dt=5 > tau=2"),
        ({"tff": -2.0}, "t_feedforward=-2 is negative"),
        ({"trc": -1.0}, "t_recurrence=-1 is negative"),
        ({"tsk": -1.0}, "t_skip=-1 is negative"),
        ({"tfb": -1.0}, "t_feedback=-1 is negative"),
        ({"trc": 0.0}, "t_recurrence=0 is below one step"),
        ({"pattern": "1x"}, "presentation_pattern='1x'"),
        ({"skip": "sometimes"}, "skip='sometimes' is invalid; valid: true, false, additive, multiplicative"),
        ({"integration": "heun"}, "integration='heun' is unknown; valid: euler, rk4"),
        ({"engine": "turbo"}, "engine='turbo' is unknown; valid: fast, plain"),
        ({"colour": "red"}, "DyRCNNx4 has no argument 'colour'; valid: channels"),
        ({"rctype": "self", "rctarget": "input"}, "recurrence_type=self cannot map"),
    ],
)
def test_bad_arguments_raise_one_clear_line(kwargs, message):
    with pytest.raises(ValueError) as info:
        create_model("DyRCNNx4", **kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"model 'DyRCNNx3' is unknown; valid: .*DyRCNNx2.*DyRCNNx4"):
        create_model("DyRCNNx3")


def test_local_recurrence_needs_square_channels():
    with pytest.raises(ValueError, match="square number of channels"):
        create_model("DyRCNNx4", rctype="local", channels=(10,))


def test_weights_from_a_local_file_with_checksum(tmp_path):
    torch.manual_seed(0)
    source = create_model("DyRCNNx2", tsteps=2)
    path = tmp_path / "dyrcnnx2.pt"
    torch.save(source.state_dict(), path)
    record = Weights(url=path.as_uri(), sha256=file_sha256(path), meta={"dataset": "random"})
    register_weights("DyRCNNx2", "test-random", record)
    assert "test-random" in list_weights("DyRCNNx2")
    for weights in (record, "test-random", Weights(url=str(path), sha256=record.sha256)):
        loaded = create_model("DyRCNNx2", tsteps=2, weights=weights)
        for a, b in zip(source.state_dict().values(), loaded.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    with pytest.raises(ValueError, match="has sha256"):
        create_model("DyRCNNx2", weights=Weights(url=str(path), sha256="0" * 64))
    with pytest.raises(ValueError, match="weights 'imagenet' of DyRCNNx2 are unknown"):
        create_model("DyRCNNx2", weights="imagenet")


@pytest.fixture
def served(tmp_path):
    """Files in ``tmp_path / "served"`` over http on 127.0.0.1; yields (folder, base url, request paths)."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def test_weights_from_a_url_are_downloaded_once_and_only_when_the_checksum_holds(served, tmp_path, monkeypatch):
    folder, base, requests = served
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    torch.manual_seed(0)
    source = create_model("DyRCNNx2", tsteps=2)
    torch.save(source.state_dict(), folder / "dyrcnnx2.pt")
    record = Weights(url=f"{base}/dyrcnnx2.pt", sha256=file_sha256(folder / "dyrcnnx2.pt"))
    for _ in range(2):
        loaded = create_model("DyRCNNx2", tsteps=2, weights=record)
        pairs = zip(source.state_dict().values(), loaded.state_dict().values(), strict=True)
        assert all(torch.equal(a, b) for a, b in pairs)
    assert requests == ["/dyrcnnx2.pt"]  # the second load reads the cached file
    cache = tmp_path / "torch-home" / "hub" / "checkpoints"
    assert [p.name for p in cache.iterdir()] == ["dyrcnnx2.pt"]

    (folder / "tampered.pt").write_bytes((folder / "dyrcnnx2.pt").read_bytes() + b"x")
    with pytest.raises(ValueError, match=r"download of http://127.0.0.1:\d+/tampered.pt has sha256 \w+, expected"):
        create_model("DyRCNNx2", weights=Weights(url=f"{base}/tampered.pt", sha256=record.sha256))
    assert [p.name for p in cache.iterdir()] == ["dyrcnnx2.pt"]  # nothing half-checked is left behind


def test_import_loads_no_heavy_library():
    heavy = ["lightning", "pytorch_lightning", "torchvision", "pandas", "matplotlib", "snakemake", "seaborn", "ffcv"]
    code = f"import sys, dynvision.models\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_catalogue_knows_every_built_in_model_without_torch():
    """The torch-free catalogue that checks workflow configurations says what the zoo's signatures say."""
    from dynvision.models.registry import get_model_class, model_arguments
    from dynvision.models.spec import BUILTIN_MODELS, builtin_arguments

    built_in = [name for name in list_models() if get_model_class(name).__module__ == "dynvision.models.zoo"]
    assert sorted(BUILTIN_MODELS) == built_in
    for name in built_in:
        assert builtin_arguments(name) == model_arguments(name)
        assert BUILTIN_MODELS[name].input_skips == create_model(name).input_skip_areas, name
    assert builtin_arguments("NoSuchModel") is None
    code = (
        "import sys\nfrom dynvision.models.spec import builtin_arguments, map_arguments\n"
        "map_arguments('DyRCNNx4', {'rctype': 'full', 'tsteps': 4}, builtin_arguments('DyRCNNx4'))\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
