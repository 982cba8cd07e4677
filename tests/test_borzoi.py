"""The Borzoi trunk (borzoi-pytorch) behind the trunk interface: bins, TSS bin, crop, channels-first input, several
input lengths in one process, the head and the LightningModule, the prediction path and ISM, Flashzoi's error,
and a training run."""

import importlib.util
import json

import numpy as np
import pytest
import torch
from borzoi_pytorch import Borzoi
from conftest import ROOT, run_train, tiny_datamodule
from omegaconf import OmegaConf
from test_interpret import START, make_window
from test_model import one_hot_batch
from test_predict import direct_ism

from performer.interpret.ism import ism_scores
from performer.model import PerformerModel, PerformerModule, Trunk, build_trunk
from performer.model.borzoi import BorzoiTrunk
from performer.model.head import FrozenBatchNorm1d
from performer.model.loss import performer_loss
from performer.model.trunk import CheckpointedSequential
from performer.predict import predict_people, predict_sequences

TINY = dict(
    name="borzoi",
    dim=32,
    depth=1,
    heads=2,
    attn_dim_key=8,
    attn_dim_value=16,
    dropout_rate=0.0,
    attn_dropout=0.0,
    pos_dropout=0.0,
    bins_to_return=-1,
    init="kaiming",
)


def tiny(seed: int = 0, **options) -> BorzoiTrunk:
    torch.manual_seed(seed)
    return build_trunk(**{**TINY, **options}).eval()


def test_borzoi_trunk_interface_values():
    official = OmegaConf.load(ROOT / "conf" / "model" / "borzoi.yaml")
    with torch.device("meta"):  # the official size without allocating its 171 M parameters
        trunk = build_trunk(**official.trunk)
        embedding = trunk.eval().embed(torch.zeros(1, official.window_bp, 4))
        local = trunk.local_layers()(torch.zeros(1, 4, official.window_bp))
    assert isinstance(trunk, BorzoiTrunk) and isinstance(trunk, Borzoi) and isinstance(trunk, Trunk)
    assert (trunk.bin_bp, trunk.input_layout, official.window_bp) == (32, "BCL", 524_288)
    assert trunk.n_bins(524_288) == 6144 and trunk.embedding_dim == 1920  # Borzoi's centre 196,608 bp
    assert trunk.tss_bins(524_288) == slice(3072, 3073) == trunk.pretrained_bins(524_288)
    assert embedding.shape == (1, 6144, 1920) and local.shape == (1, 1280, 16_384)
    assert [*trunk.local_layers()] == [trunk.conv_dna, trunk.res_tower]
    assert not hasattr(trunk, "human_head")  # the 7,611-track head only with keep_heads
    assert trunk.n_bins(4096) == 128  # a window shorter than 6,144 bins keeps all of its bins
    assert 170e6 < sum(p.numel() for p in trunk.parameters()) < 172e6

    small = OmegaConf.load(ROOT / "conf" / "model" / "borzoi_tiny.yaml")
    trunk = build_trunk(**small.trunk)
    assert small.trunk.name == "borzoi" and small.window_bp == 4096
    assert (trunk.n_bins(4096), trunk.tss_bins(4096), trunk.embedding_dim) == (128, slice(64, 65), 1920)
    assert 18e6 < sum(p.numel() for p in trunk.parameters()) < 20e6  # the conv tower's widths are fixed


def test_tss_bin_is_the_32bp_bin_starting_at_the_tss():
    """The TSS (index L // 2) is the first base of uncropped bin L // 64; after a centre crop to n bins it is bin
    n // 2, whatever the crop."""
    full, cropped = tiny(bins_to_return=-1), tiny(bins_to_return=16)
    x = one_hot_batch(2, 1024)
    with torch.no_grad():
        a, b = full.embed(x), cropped.embed(x)
    assert a.shape == (2, 32, 1920) and b.shape == (2, 16, 1920)
    torch.testing.assert_close(b, a[:, 8:24])
    assert full.tss_bins(1024) == slice(16, 17) and cropped.tss_bins(1024) == slice(8, 9)
    assert 16 * 32 == 1024 // 2  # uncropped bin 16 holds bases 512-543: the TSS is its first base
    torch.testing.assert_close(b[:, cropped.tss_bins(1024)], a[:, full.tss_bins(1024)])
    with pytest.raises(ValueError, match="even"):
        tiny(bins_to_return=15)


def test_window_shorter_than_bins_to_return_keeps_all_its_bins():
    trunk = tiny(bins_to_return=6144)  # borzoi-pytorch's TargetLengthCrop would raise here
    with torch.no_grad():
        assert trunk.embed(one_hot_batch(1, 1024)).shape == (1, 32, 1920)


def test_channels_first_input_is_handled():
    trunk = tiny()
    x = one_hot_batch(2, 1024)
    assert torch.equal(trunk.to_input(x), x.transpose(1, 2))
    with torch.no_grad():
        got = trunk.embed(x)  # (B, L, 4), the package's layout
        want = trunk.final_joined_convs(trunk.get_embs_after_crop(x.transpose(1, 2).contiguous())).transpose(1, 2)
        torch.testing.assert_close(got, want)
        assert trunk.local_layers()(trunk.to_input(x)).shape == (2, 1280, 32)
    with pytest.raises(ValueError, match="multiple of 128"):
        trunk.embed(one_hot_batch(1, 1000))


def test_two_input_lengths_in_one_process():
    """borzoi-pytorch caches the attention's relative positions on the first call; a second length used to fail
    (``as_strided ... outside of tensor``), and so did a training step after an ``inference_mode`` forward."""
    trunk = tiny()
    short, long = one_hot_batch(1, 1024), one_hot_batch(1, 2048, seed=1)
    with torch.inference_mode():
        first = trunk.embed(short)
        assert trunk.embed(long).shape == (1, 64, 1920)
        torch.testing.assert_close(trunk.embed(short), first)
    x = short.clone().requires_grad_()  # gradient x input after a prediction: eval mode, same length, with grad
    trunk.embed(x).sum().backward()  # positions built under inference_mode would fail "saved for backward"
    assert x.grad.abs().sum() > 0


def test_head_and_module_forward_and_backward():
    torch.manual_seed(0)
    module = PerformerModule(trunk=TINY, lr=5e-4)
    model = module.model
    assert isinstance(model.trunk, BorzoiTrunk) and model.adapter.to_tracks[0].in_features == 1920
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and all(isinstance(m, FrozenBatchNorm1d) and not m.weight.requires_grad for m in norms)
    x = one_hot_batch(4, 1024)
    model.eval()
    with torch.no_grad():
        tracks = model.tracks(x)
        assert tracks.shape == (4, 32)
        assert torch.equal(model(x), tracks[:, 16])
    module.train()
    before = norms[0].running_mean.clone()
    optimiser = module.configure_optimizers()
    loss = performer_loss(module(x), torch.randn(4), 0.5)
    loss.backward()
    assert model.adapter.to_tracks[0].weight.grad.abs().sum() > 0
    assert model.trunk.conv_dna.conv_layer.weight.grad.abs().sum() > 0
    optimiser.step()
    assert torch.equal(norms[0].running_mean, before)


def test_activation_checkpointing_gives_the_same_gradients():
    x = one_hot_batch(2, 1024)
    grads = []
    for options in (dict(), dict(use_checkpointing=True, checkpoint_conv=True)):
        trunk = tiny(**options).train()
        trunk.embed(x).square().mean().backward()
        grads.append({name: p.grad for name, p in trunk.named_parameters() if p.grad is not None})
    assert isinstance(trunk.res_tower, CheckpointedSequential) and isinstance(
        trunk.transformer[0], CheckpointedSequential
    )
    assert grads[0].keys() == grads[1].keys()
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, msg=name)


def test_predict_people_and_ism_through_the_prediction_path(tiny_cohort):
    model = PerformerModel(tiny(init="kaiming")).eval()
    x = one_hot_batch(3, 640)
    with torch.no_grad():
        want = model(x)
    np.testing.assert_allclose(predict_sequences(model, x.numpy(), batch_size=2), want, rtol=1e-5, atol=1e-6)

    dm = tiny_datamodule(tiny_cohort, batch_size=8, accumulate=1)
    dm.prepare_data()
    dm.setup()
    test, items = dm.datasets["test"], np.array([5, 0, 3])
    with torch.no_grad():
        direct = [float(model(test.__getitems__([i])["x"])[0]) for i in items]
    np.testing.assert_allclose(predict_people(model, test, items, batch_size=2), direct, rtol=1e-5, atol=1e-6)

    window = make_window(640, [100, 318, 330, 500])
    table = ism_scores(model, window, tss=START + 320, batch_size=4)
    brute = direct_ism(model, window)  # every mutated sequence through model(x)
    np.testing.assert_allclose(table["ism"], brute, rtol=1e-4, atol=1e-6)
    assert (table["ism"] != 0).any()


def test_pretrained_round_trip_and_human_head(tmp_path):
    saved = tiny(seed=1, keep_heads=True)
    saved.save_pretrained(tmp_path / "borzoi")
    assert json.loads((tmp_path / "borzoi" / "config.json").read_text())["dim"] == 32
    module = PerformerModule(trunk=TINY)
    module.load_pretrained_trunk(tmp_path / "borzoi")
    x = one_hot_batch(1, 1024)
    with torch.no_grad():
        torch.testing.assert_close(module.model.trunk.eval().embed(x), saved.embed(x))
        tracks = saved.pretrained_tracks(x)
    assert saved.n_pretrained_tracks() == 7611 and tracks.shape == (1, 32, 7611) and (tracks > 0).all()
    with pytest.raises(ValueError, match="keep_heads"):
        tiny().n_pretrained_tracks()
    with pytest.raises(FileNotFoundError, match="written by save_pretrained"):
        module.load_pretrained_trunk(tmp_path / "nowhere")


def test_flashzoi_without_flash_attn_is_a_clear_error(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "flash_attn" else find_spec(name, *a)
    )
    with pytest.raises(ImportError, match=r"flash_attn.*CUDA.*\.\[gpu\]"):
        build_trunk(name="flashzoi", **{k: v for k, v in TINY.items() if k != "name"})


@pytest.mark.slow
def test_train_py_with_the_tiny_borzoi(tiny_cohort, tmp_path):
    run_dir = tmp_path / "borzoi"
    overrides = ["batch_size=8", "eval_batch_size=8", "trainer.max_epochs=1"]
    run_train(run_dir, "gene=BTNL3", "model=borzoi_tiny", f"data.root={tiny_cohort}", *overrides, "logger=none")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert OmegaConf.load(run_dir / "config.yaml").model.trunk.name == "borzoi"
    assert (run_dir / "predictions_test.csv").is_file() and summary
