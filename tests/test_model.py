"""Trunk, head and LightningModule: shapes, centre-bin read-out, local pretrained weights."""

import pytest
import torch
from enformer_pytorch import Enformer

from performer.data.reference import codes_to_one_hot
from performer.model import PerformerModel, PerformerModule, build_trunk, load_pretrained
from performer.model.head import centre_bin
from performer.model.inputs import batch_inputs, codes_one_hot

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
    with pytest.raises(FileNotFoundError, match="never downloads"):
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
