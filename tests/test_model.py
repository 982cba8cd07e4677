"""Trunk interface, head and LightningModule: shapes, centre-bin read-out, local pretrained weights, and a
second trunk that the head, the prediction path and ISM use unchanged."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_datamodule
from enformer_pytorch import Enformer
from enformer_pytorch.finetune import HeadAdapterWrapper
from omegaconf import OmegaConf
from test_interpret import START, make_window
from test_predict import direct_ism
from torch import nn

from performer.data.reference import codes_to_one_hot
from performer.interpret.attribution import gradient_x_input
from performer.interpret.ism import ism_scores
from performer.model import EnformerTrunk, PerformerModel, PerformerModule, Trunk, build_trunk, load_pretrained
from performer.model.enformer import centre_bin
from performer.model.head import freeze_batchnorm_
from performer.model.inputs import batch_inputs, codes_one_hot
from performer.model.trunk import register_trunk, trunk_class
from performer.predict import predict_people, predict_sequences

TINY = dict(
    dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0
)


def one_hot_batch(n: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.randint(0, 4, (n, length), generator=g), 4).float()


def test_centre_bin_matches_paper():
    assert centre_bin(49_152 // 128) == 192


def test_scalar_head_reads_the_centre_bin():
    torch.manual_seed(0)
    model = PerformerModel(build_trunk(**TINY)).eval()
    x = one_hot_batch(3, 2048)
    tracks = model.tracks(x)
    assert tracks.shape == (3, 16)
    assert torch.equal(model(x), tracks[:, 8])


def test_trunk_has_no_output_heads_by_default():
    assert len(build_trunk(**TINY).heads) == 0
    assert set(build_trunk(**TINY, keep_heads=True).heads) == {"human", "mouse"}


def test_bad_head_count_is_a_clear_error():
    with pytest.raises(ValueError, match="divisible by 6"):
        build_trunk(dim=32, heads=2)


def test_batchnorm_is_frozen_in_training():
    torch.manual_seed(0)
    model = PerformerModel(build_trunk(**TINY)).train()
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d))
    assert not bn.weight.requires_grad  # before any forward pass: DDP must see it frozen when it wraps the model
    assert all(m.training for m in model.modules())  # no module in eval mode when training starts
    before = bn.running_mean.clone()
    model(one_hot_batch(4, 2048))
    assert not bn.weight.requires_grad
    assert torch.equal(bn.running_mean, before)


def test_frozen_batchnorm_uses_running_statistics_in_both_modes():
    torch.manual_seed(0)
    model = PerformerModel(build_trunk(**TINY))
    for m in model.modules():  # statistics unlike a batch's own, so batch statistics would change the output
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    x = one_hot_batch(4, 2048)
    with torch.no_grad():
        trained = model.train().trunk(x, return_only_embeddings=True)  # the trunk alone, without the wrapper
        evaluated = model.eval().trunk(x, return_only_embeddings=True)
    assert torch.equal(trained, evaluated)


def test_pretrained_round_trip_through_save_pretrained(tmp_path):
    torch.manual_seed(1)
    saved = build_trunk(**TINY, keep_heads=True)
    saved.save_pretrained(tmp_path / "enformer", safe_serialization=False)
    loaded = load_pretrained(tmp_path / "enformer", keep_heads=True)
    assert isinstance(loaded, Enformer)
    for (name, a), (_, b) in zip(saved.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name

    module = PerformerModule(trunk=TINY)
    module.load_pretrained_trunk(tmp_path / "enformer")
    x = one_hot_batch(2, 2048)
    saved.eval(), module.eval()
    with torch.no_grad():
        expected = saved(x, return_only_embeddings=True)
        got = module.model.trunk(x, return_only_embeddings=True)
    assert torch.allclose(expected, got)


def test_missing_pretrained_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="written by save_pretrained"):
        load_pretrained(tmp_path / "nowhere")


def test_pretrained_architecture_mismatch_is_an_error(tmp_path):
    build_trunk(**TINY).save_pretrained(tmp_path / "e", safe_serialization=False)
    module = PerformerModule(trunk={**TINY, "dim": 36})
    with pytest.raises(RuntimeError):
        module.load_pretrained_trunk(tmp_path / "e")


def test_kaiming_init_lets_a_fresh_trunk_see_one_base():
    x = one_hot_batch(1, 2048).repeat(2, 1, 1)
    x[1, 1030] = x[1, 1030].roll(1)  # one SNV in the centre bin
    effects = {}
    for init in ("enformer", "kaiming"):
        torch.manual_seed(0)
        model = PerformerModel(build_trunk(**TINY, init=init)).eval()
        with torch.no_grad():
            pred = model(x)
        effects[init] = abs(float(pred[1] - pred[0]))
    assert effects["enformer"] < 1e-4 < 1e-2 < effects["kaiming"]
    with pytest.raises(ValueError, match="init"):
        build_trunk(**TINY, init="xavier")


def test_codes_expand_to_the_reference_one_hot():
    codes = torch.tensor([[0, 1, 2, 3, 4, 2]], dtype=torch.uint8)
    want = torch.from_numpy(codes_to_one_hot(codes.numpy())).float()
    assert torch.equal(codes_one_hot(codes), want)
    assert codes_one_hot(codes)[0, 4].sum() == 0  # N is an all-zero row


def test_person_predictions_of_each_encoding():
    """``codes``: one pass on the mean one-hot; ``haplotypes``: the mean of the two haplotypes' passes."""
    torch.manual_seed(0)
    module = PerformerModule(trunk=TINY).eval()
    g = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 5, (3, 2, 2048), generator=g, dtype=torch.uint8)
    one_hots = codes_one_hot(codes)  # (3, 2, L, 4)
    with torch.no_grad():
        pooled = module.predict_batch({"codes": codes})
        each = module.predict_batch({"haplotypes": codes})
        first, second = module(one_hots[:, 0]), module(one_hots[:, 1])
        torch.testing.assert_close(pooled, module(one_hots.mean(dim=1)))
        torch.testing.assert_close(each, (first + second) / 2)
        assert not torch.allclose(pooled, each)
        x = one_hot_batch(2, 2048)
        assert torch.equal(module.predict_batch({"x": x}), module(x))
    with pytest.raises(KeyError, match="x, codes, haplotypes|'x', 'codes', 'haplotypes'"):
        batch_inputs({"y": torch.zeros(2)})


# ---------------------------------------------------------------- the trunk interface


def test_head_is_enformer_pytorchs_head_adapter_bit_for_bit():
    """Same initial weights, state-dict keys (checkpoints load), outputs and gradients as the
    ``HeadAdapterWrapper`` model that the trunk interface replaced."""
    torch.manual_seed(0)
    model = PerformerModel(build_trunk(**TINY))
    torch.manual_seed(0)
    trunk = build_trunk(**TINY)
    freeze_batchnorm_(trunk)
    old = nn.Module()
    old.adapter = HeadAdapterWrapper(
        enformer=trunk, num_tracks=1, post_transformer_embed=False, output_activation=nn.Identity()
    )
    assert list(model.state_dict()) == list(old.state_dict())
    assert [name for name, _ in model.named_parameters()] == [name for name, _ in old.named_parameters()]
    for (name, a), b in zip(model.state_dict().items(), old.state_dict().values()):
        assert torch.equal(a, b), name
    x = one_hot_batch(3, 2048)
    got, want = model(x), old.adapter(x)[:, 8, 0]
    assert torch.equal(got, want)
    got.sum().backward(), want.sum().backward()
    for (name, a), b in zip(model.named_parameters(), old.parameters()):
        assert (a.grad is None and b.grad is None) or torch.equal(a.grad, b.grad), name


def test_enformer_trunk_interface_values():
    official = OmegaConf.load(ROOT / "conf" / "model" / "enformer.yaml")
    with torch.device("meta"):  # the official size without allocating its 230 M parameters
        trunk = build_trunk(**official.trunk)
        embedding = trunk.eval().embed(torch.zeros(1, official.window_bp, 4))
        local = trunk.local_layers()(torch.zeros(1, official.window_bp, 4))
    assert isinstance(trunk, EnformerTrunk) and isinstance(trunk, Enformer) and isinstance(trunk, Trunk)
    assert (trunk.bin_bp, trunk.input_layout, official.window_bp) == (128, "BLC", 49_152)
    assert trunk.n_bins(49_152) == 384 and trunk.embedding_dim == 3072
    assert trunk.tss_bins(49_152) == slice(192, 193) and trunk.pretrained_bins(49_152) == slice(191, 194)
    assert embedding.shape == (1, 384, 3072) and local.shape == (1, 1536, 384)
    assert [*trunk.local_layers()][1:] == [trunk.stem, trunk.conv_tower]

    tiny = OmegaConf.load(ROOT / "conf" / "model" / "enformer_tiny.yaml")
    trunk = build_trunk(**tiny.trunk).eval()
    assert tiny.trunk.name == official.trunk.name == "enformer"
    assert (tiny.window_bp, trunk.n_bins(tiny.window_bp), trunk.embedding_dim) == (12_288, 96, 96)
    assert trunk.tss_bins(tiny.window_bp) == slice(48, 49)
    with torch.no_grad():
        assert trunk.embed(one_hot_batch(1, tiny.window_bp)).shape == (1, 96, 96)
        for length in (640, 1000, 2048):  # every pooling pads an odd length: ceil(L / 128) bins
            assert trunk.embed(one_hot_batch(1, length)).shape[1] == trunk.n_bins(length) == -(-length // 128)


def test_enformer_pretrained_tracks_through_the_interface():
    torch.manual_seed(0)
    trunk = build_trunk(**TINY, keep_heads=True).eval()
    x = one_hot_batch(2, 640)
    assert trunk.n_pretrained_tracks() == 5313
    with torch.no_grad():
        assert torch.equal(trunk.pretrained_tracks(x), trunk(x, head="human"))
    with pytest.raises(ValueError, match="keep_heads=True"):
        build_trunk(**TINY).n_pretrained_tracks()


def test_trunk_registry_defaults_to_enformer():
    assert trunk_class() is trunk_class("enformer") is EnformerTrunk
    assert isinstance(PerformerModule(trunk=TINY).model.trunk, EnformerTrunk)  # checkpoints saved without a name
    with pytest.raises(ValueError, match="no such trunk.*enformer"):
        build_trunk(name="nope")
    with pytest.raises(ValueError, match="taken"):
        register_trunk("enformer")(TinyConvTrunk)


@register_trunk("tiny_conv")
class TinyConvTrunk(Trunk):
    """A minimal second trunk: channels-first input, 32-bp bins, one convolution (9 bp) and average pooling."""

    bin_bp = 32
    input_layout = "BCL"

    def __init__(self, channels: int = 8):
        super().__init__()
        self.channels = channels
        self.conv = nn.Sequential(nn.Conv1d(4, channels, 9, padding=4), nn.GELU(), nn.AvgPool1d(32))

    @classmethod
    def build(cls, channels: int = 8) -> "TinyConvTrunk":
        return cls(channels)

    @property
    def embedding_dim(self) -> int:
        return self.channels

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.local_layers()(self.to_input(x)).transpose(1, 2)

    def local_layers(self) -> nn.Module:
        return self.conv


def test_a_second_trunk_needs_no_change_to_the_head_predict_or_ism(tiny_cohort):
    """Adding a trunk is one class: the head, the prediction path, ISM and attribution take it as it is."""
    torch.manual_seed(0)
    module = PerformerModule(trunk=dict(name="tiny_conv", channels=6))
    model = module.model.eval()
    assert isinstance(model.trunk, TinyConvTrunk) and model.adapter.to_tracks[0].in_features == 6
    x = one_hot_batch(3, 640)  # 20 bins of 32 bp; the TSS (index 320) is in bin 10
    with torch.no_grad():
        tracks = model.tracks(x)
        assert tracks.shape == (3, 20)
        assert torch.equal(model(x), tracks[:, 10])
    np.testing.assert_allclose(predict_sequences(module, x.numpy(), batch_size=2), tracks[:, 10], rtol=1e-6)

    dm = tiny_datamodule(tiny_cohort, batch_size=8, accumulate=1)
    dm.prepare_data()
    dm.setup()
    test, items = dm.datasets["test"], np.array([5, 0, 3, 11, 7])
    with torch.no_grad():
        direct = [float(model(test.__getitems__([i])["x"])[0]) for i in items]
    np.testing.assert_allclose(predict_people(model, test, items, batch_size=2), direct, rtol=1e-5, atol=1e-7)

    window = make_window(640, [100, 318, 330, 340, 355, 356])  # bin 10 sees bases 316-355
    table = ism_scores(model, window, tss=START + 320, batch_size=4)
    want = direct_ism(model, window)  # every mutated sequence through model(x)
    reference = torch.from_numpy(codes_to_one_hot(window.codes).astype(np.float32))
    np.testing.assert_allclose(table["ism"], want, rtol=1e-4, atol=1e-7)
    assert table["ism"].iloc[0] == 0 and table["ism"].iloc[-1] == 0 and (table["ism"].iloc[1:5] != 0).all()

    gxi = gradient_x_input(model, reference[None])[0]
    assert np.abs(gxi[316:356]).sum() > 0 and not gxi[:316].any() and not gxi[356:].any()


def test_pretrained_weights_by_hub_id_from_an_offline_hub_cache(tmp_path):
    """``model.pretrained=owner/name`` goes through huggingface_hub: with HF_HUB_OFFLINE=1 it is read from a cache
    laid out as huggingface_hub lays it out (``models--owner--name/{refs,snapshots}``), never the network."""
    trunk = build_trunk(**TINY)
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-enformer"
    trunk.save_pretrained(repo / "snapshots" / commit, safe_serialization=False)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    script = (
        "import sys, torch; from performer.model import load_pretrained; "
        "t = load_pretrained(sys.argv[1]); print(sum(float(p.double().sum()) for p in t.parameters()))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    loaded = subprocess.run(
        [sys.executable, "-c", script, "someone/tiny-enformer"], env=env, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    expected = sum(float(p.double().sum()) for p in load_pretrained(repo / "snapshots" / commit).parameters())
    assert float(loaded.stdout.split()[-1]) == pytest.approx(expected, rel=1e-12)

    missing = subprocess.run(
        [sys.executable, "-c", script, "someone/not-cached"], env=env, capture_output=True, text=True
    )
    assert missing.returncode != 0 and "no Enformer weights on the Hugging Face hub or in its cache" in missing.stderr


# ---------------------------------------------------------------- read-outs (model.head)


def test_heads_read_out_the_bins_around_the_tss():
    torch.manual_seed(0)
    trunk = build_trunk(**TINY, init="kaiming")
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 2048)), 4).float()
    centre = PerformerModel(trunk).eval()
    with torch.no_grad():
        tracks = centre.tracks(x)  # (3, 16 bins), TSS bin 8
        assert torch.equal(centre(x), tracks[:, 8])  # the paper's read-out, unchanged

        mean = PerformerModel(trunk, head="centre_mean", bins=4).eval()
        mean.adapter.load_state_dict(centre.adapter.state_dict())
        assert mean.readout_bins(2048) == slice(6, 10)
        torch.testing.assert_close(mean(x), tracks[:, 6:10].mean(dim=1))

        pool = PerformerModel(trunk, head="attention_pool", bins=4).eval()
        pool.adapter.load_state_dict(centre.adapter.state_dict())
        torch.testing.assert_close(pool(x), mean(x))  # zero-initialised scores: uniform weights
        pool.attention.weight.normal_()
        embedding = trunk.embed(x)[:, 6:10]
        weights = torch.softmax(pool.attention(embedding)[..., 0], dim=1)
        torch.testing.assert_close(pool(x), (weights * tracks[:, 6:10]).sum(dim=1))
        assert not torch.allclose(pool(x), mean(x))

    assert set(pool.state_dict()) - set(centre.state_dict()) == {"attention.weight", "attention.bias"}
    with pytest.raises(ValueError, match="choose one of centre_bin, centre_mean, attention_pool"):
        PerformerModel(trunk, head="max")
    with pytest.raises(ValueError, match="do not fit"):
        PerformerModel(trunk, head="centre_mean", bins=40)(x)


def test_attention_pool_head_trains_and_round_trips_through_a_checkpoint(tmp_path):
    module = PerformerModule(trunk=TINY, lr=1e-3, head=dict(name="attention_pool", bins=4))
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 2048)), 4).float()
    module.model.attention.weight.data.normal_()
    module(x).sum().backward()
    assert module.model.attention.weight.grad.abs().sum() > 0
    path = tmp_path / "m.ckpt"
    import lightning

    checkpoint = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams)}
    torch.save({**checkpoint, "pytorch-lightning_version": lightning.__version__}, path)  # as best.ckpt holds
    loaded = PerformerModule.load_from_checkpoint(path, map_location="cpu")
    module.eval(), loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), module(x))
    assert loaded.model.head == "attention_pool" and loaded.model.bins == 4
