"""Lightning training: the loss goes down on learnable random data, and runs resume exactly."""

import csv

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from dynvision.models import create_model
from dynvision.models.training import DynVisionSystem, TrainingDiverged, parameter_groups, train


def tiny_model(**kwargs):
    """A tiny DyRCNNx2 without normalisation and adaptation, which would slow learning with 4 and 9 channels."""
    torch.manual_seed(0)
    mechanisms = {"normalisation": False, "adaptation": 0.0}
    return create_model("DyRCNNx2", channels=(4, 9), tsteps=3, tff=0.0, n_classes=3, **{**mechanisms, **kwargs})


def loaders(temporal: bool = False):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (16,), generator=g)
    images = torch.rand(16, 3, 8, 8, generator=g)
    images[torch.arange(16), labels] += 1.0  # the class is the brightest colour channel
    if temporal:
        images = images[:, None].repeat(1, 3, 1, 1, 1)
        labels = labels[:, None].repeat(1, 3)
        labels[:, 0] = -1
    data = TensorDataset(images, labels)
    return DataLoader(data, batch_size=8), DataLoader(data, batch_size=16)


def epoch_losses(log_dir) -> list[float]:
    with open(log_dir / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("train_loss_epoch")]
    return [float(r["train_loss_epoch"]) for r in rows]


@pytest.mark.parametrize("temporal", [False, True])
def test_a_short_run_lowers_the_loss(tmp_path, temporal):
    model = tiny_model()
    train_loader, val_loader = loaders(temporal)
    train(
        model, train_loader, val_loader, max_epochs=12, checkpoint_dir=tmp_path / "ckpt", log_dir=tmp_path / "logs",
        progress_bar=False, lr=2e-2, seed=0,
    )  # fmt: skip
    losses = epoch_losses(tmp_path / "logs")
    assert len(losses) == 12
    assert losses[-1] < 0.8 * losses[0]
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert "val_acc_t002" in header and "train_loss_t001" in header
    assert ("train_loss_t000" in header) is not temporal, "steps labelled -1 are not scored"
    assert (tmp_path / "ckpt" / "last.ckpt").exists()


@pytest.mark.parametrize("lr", [float("inf"), 1e30])
def test_a_diverging_run_stops_with_the_step_and_the_learning_rate(tmp_path, lr):
    train_loader, val_loader = loaders()
    with pytest.raises(TrainingDiverged, match=r"at epoch 1, .*lower the learning rate \(lr="):
        train(tiny_model(), train_loader, val_loader, max_epochs=2, checkpoint_dir=tmp_path / "ckpt",
              log_dir=tmp_path / "logs", progress_bar=False, lr=lr, seed=0)  # fmt: skip
    assert not (tmp_path / "ckpt" / "last.ckpt").exists()  # nothing that a rerun would resume from


class Interrupted(Exception):
    """Stands for a job killed in the middle of a run."""


class InterruptingData(TensorDataset):
    def __init__(self, *tensors, after: int):
        super().__init__(*tensors)
        self.calls, self.after = 0, after

    def __getitem__(self, index):
        self.calls += 1
        if self.calls > self.after:
            raise Interrupted
        return super().__getitem__(index)


def test_an_interrupted_run_resumes_exactly_from_last_checkpoint(tmp_path):
    train_loader, val_loader = loaders()
    kwargs = {"progress_bar": False, "lr": 1e-2, "seed": 0, "max_epochs": 3}
    straight = tiny_model()
    train(straight, train_loader, val_loader, checkpoint_dir=tmp_path / "a", **kwargs)
    data = train_loader.dataset.tensors
    flaky = DataLoader(InterruptingData(*data, after=2 * 16 + 5), batch_size=8)  # dies inside epoch 3
    with pytest.raises(Interrupted):
        train(tiny_model(), flaky, val_loader, checkpoint_dir=tmp_path / "b", **kwargs)
    assert (tmp_path / "b" / "last.ckpt").exists()
    resumed = tiny_model()
    train(resumed, train_loader, val_loader, checkpoint_dir=tmp_path / "b", **kwargs)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_run_resumed_twice_keeps_one_whole_metrics_log(tmp_path):
    """Each interruption cuts an epoch short; the final metrics.csv has every epoch once, as a straight run has."""
    train_loader, val_loader = loaders()
    kwargs = {"progress_bar": False, "lr": 1e-2, "seed": 0, "max_epochs": 4}
    train(tiny_model(), train_loader, val_loader, checkpoint_dir=tmp_path / "a", log_dir=tmp_path / "a", **kwargs)
    data = train_loader.dataset.tensors
    for after in (16 + 8 + 3, 16 + 8 + 3):  # dies in the second batch of epoch 1, then of epoch 2
        flaky = DataLoader(InterruptingData(*data, after=after), batch_size=8)
        with pytest.raises(Interrupted):
            train(tiny_model(), flaky, val_loader, checkpoint_dir=tmp_path / "b", log_dir=tmp_path / "b", **kwargs)
    train(tiny_model(), train_loader, val_loader, checkpoint_dir=tmp_path / "b", log_dir=tmp_path / "b", **kwargs)

    def logged(log_dir):
        with open(log_dir / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        return [(r["epoch"], r["step"], r["train_loss_step"], r["train_loss_epoch"], r["val_loss"]) for r in rows]

    straight, resumed = logged(tmp_path / "a"), logged(tmp_path / "b")
    assert [row[0] for row in straight if row[3]] == ["0", "1", "2", "3"]
    assert resumed == straight


def test_parameter_groups_scale_recurrent_and_feedback_rates():
    model = create_model("DyRCNNx4", channels=(4, 9, 16), feedback=True)
    groups = {g["name"]: g for g in parameter_groups(model, 1.0, 0.2, 0.5)}
    assert groups["recurrent"]["lr"] == 0.2 and groups["feedback"]["lr"] == 0.5 and groups["base"]["lr"] == 1.0
    assert len(groups["recurrent"]["params"]) == 3 and len(groups["feedback"]["params"]) == 2
    n_params = sum(len(g["params"]) for g in groups.values())
    assert n_params == len(list(model.parameters()))


def test_energy_penalty_reaches_every_area():
    model = tiny_model()
    system = DynVisionSystem(model, energy_weight=1.0)
    images, labels = torch.rand(2, 3, 8, 8), torch.tensor([0, 1])
    _, responses = model(images, record="layer")
    energy = sum(r[..., 0].mean() for r in responses.values())
    energy.backward()
    for area in model.layers.values():
        assert area.ff.weight.grad.abs().sum() > 0
    assert system._prepare((images, labels))[1].shape == (2, 3)
    with pytest.raises(ValueError, match="energy_areas"):
        DynVisionSystem(model, energy_areas=["V9"])


@pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")  # the steps run without a Trainer
def test_a_held_image_gives_the_same_labels_and_loss_in_training_and_testing():
    """The model's trial owns the time course: a held image with labels (B,) (training) and the frames and
    per-frame labels a stimulus shows for it (testing) give the same labels, logits and loss, and the idle
    steps run once, before the frames, in both."""
    torch.manual_seed(0)
    model = create_model(
        "DyRCNNx2", channels=(4, 9), tsteps=8, tff=0.0, n_classes=3, pattern="1011", lossrt=2.0, dt=1.0, idle=2
    )
    system = DynVisionSystem(model)
    images, labels = torch.rand(2, 3, 8, 8), torch.tensor([2, 0])
    shown = torch.tensor([1, 1, 0, 0, 1, 1, 1, 1], dtype=torch.bool)  # pattern 1011 over 8 frames
    frames = torch.where(shown[None, :, None, None, None], images[:, None], torch.zeros(()))
    per_frame = torch.where(shown, labels[:, None], -1)

    _, trained = system._prepare((images, labels))
    _, tested = system._prepare((frames, per_frame))
    assert trained.tolist() == tested.tolist() == [[-1] * 6 + [2, 2], [-1] * 6 + [0, 0]]
    assert model.presentation_mask(8).tolist() == shown.tolist()

    steps = []
    model.classifier.register_forward_hook(lambda *_: steps.append(1))  # one read-out per step with gradients
    train_loss = system.training_step((images, labels), 0)
    assert len(steps) == 2 + 8
    steps.clear()
    test_loss = system.test_step((frames, per_frame), 0)
    assert len(steps) == 2 + 8
    torch.testing.assert_close(test_loss, train_loss)
    torch.testing.assert_close(model(frames), model(images))
    assert model(images).shape == (2, 8, 3)


@pytest.mark.slow
def test_mixed_precision_and_channels_last_train(tmp_path):
    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    train_loader, _ = loaders()
    train(
        model, train_loader, max_epochs=1, precision="bf16-mixed", checkpoint_dir=tmp_path, progress_bar=False,
        channels_last=True,
    )  # fmt: skip
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU 16-mixed is fp16 autocast")
def test_16_mixed_on_a_cpu_trains_in_bf16_and_says_so(tmp_path):
    """fp16 autocast has no CPU kernels worth using; Lightning then runs bf16-mixed, with a warning."""
    train_loader, _ = loaders()
    with pytest.warns(UserWarning, match="precision='16-mixed'.*Using `precision='bf16-mixed'` instead"):
        train(
            tiny_model(), train_loader, max_epochs=1, precision="16-mixed", checkpoint_dir=tmp_path, progress_bar=False
        )


@pytest.mark.slow
def test_compiled_training_follows_eager_training(tmp_path):
    """``compile=True`` runs the training step through ``torch.compile`` and ends where eager training does."""
    train_loader, _ = loaders()
    eager, compiled = tiny_model(), tiny_model()
    for model, name, compile in ((eager, "eager", False), (compiled, "compiled", True)):
        train(
            model, train_loader, max_epochs=1, checkpoint_dir=tmp_path / name, progress_bar=False, seed=0, lr=2e-2,
            compile=compile,
        )  # fmt: skip
    assert hasattr(compiled, "_compiled_call_impl") and compiled._compiled_call_impl is not None
    for a, b in zip(eager.parameters(), compiled.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(tiny_model().parameters(), eager.parameters(), strict=True))


def test_bad_precision_is_one_clear_line(tmp_path):
    with pytest.raises(ValueError, match="precision='64' is unknown; valid: 32, bf16-mixed, 16-mixed"):
        train(tiny_model(), [], max_epochs=1, precision="64", checkpoint_dir=tmp_path)


def test_a_training_length_the_last_area_never_responds_in_is_refused_before_any_work(tmp_path):
    late = create_model("DyRCNNx4", tsteps=4)  # 2 ms per area at dt 2 ms: IT first responds at step 4
    message = (
        r"^DyRCNNx4 cannot learn: its last area first responds at step 4 \(tff=2 ms per area, dt=2 ms\), after the "
        r"last of tsteps=4; raise tsteps or lower tff$"
    )
    with pytest.raises(ValueError, match=message):
        train(late, [], max_epochs=1, checkpoint_dir=tmp_path)
    assert not any(tmp_path.iterdir())
    assert late(torch.rand(1, 4, 3, 16, 16)).shape == (1, 4, 10)  # the model itself still runs any protocol


@pytest.mark.parametrize(
    ("devices", "strategy", "expected_devices"),
    [("auto", "auto", "auto"), (1, "ddp", 1), ("2", "ddp_spawn", 2)],
)
def test_devices_and_strategy_reach_the_trainer(tmp_path, monkeypatch, devices, strategy, expected_devices):
    from dynvision.models import training

    seen = {}

    class Stop(Exception):
        pass

    def recording_trainer(**kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(training.pl, "Trainer", recording_trainer)
    with pytest.raises(Stop):
        train(tiny_model(), [], max_epochs=1, checkpoint_dir=tmp_path, devices=devices, strategy=strategy)
    assert seen["devices"] == expected_devices
    assert seen["strategy"] == strategy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"devices": 0}, "devices=0 is invalid; valid: auto or a whole number >= 1"),
        ({"devices": "many"}, "devices='many' is invalid; valid: auto or a whole number >= 1"),
        ({"strategy": "dpp"}, "strategy='dpp' is unknown; valid: auto, ddp, "),
    ],
)
def test_bad_devices_or_strategy_is_one_clear_line(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as error:
        train(tiny_model(), [], max_epochs=1, checkpoint_dir=tmp_path, **kwargs)
    assert "\n" not in str(error.value)
