"""Speed options of the trunk: activation checkpointing of the conv tower, torch.compile, and the training
benchmark (benchmarks/bench_train.py) on a CPU."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from performer.model import PerformerModel, build_trunk
from performer.model.trunk import CheckpointedSequential, compile_trunk
from performer.run import build_module, compile_backend

ROOT = Path(__file__).resolve().parents[1]

TINY = dict(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, init="kaiming")
NO_DROPOUT = dict(dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0)


def one_hot_batch(n: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.randint(0, 4, (n, length), generator=g), 4).float()


def twin_models(common: dict | None = None, **options) -> tuple[PerformerModel, PerformerModel]:
    """A plain tiny model and one with ``options``, both with ``common``, holding the same weights."""
    torch.manual_seed(0)
    plain = PerformerModel(build_trunk(**TINY, **(common or {})))
    other = PerformerModel(build_trunk(**TINY, **(common or {}), **options))
    other.load_state_dict(plain.state_dict(), strict=True)
    return plain, other


def forward_backward(model: PerformerModel, x: torch.Tensor, seed: int = 1):
    torch.manual_seed(seed)  # the same dropout masks in both models
    model.zero_grad(set_to_none=True)
    pred = model(x)
    (pred * torch.linspace(-1.0, 1.0, len(pred))).sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return pred.detach(), grads


@pytest.mark.parametrize("transformer", [False, True], ids=["conv", "conv+transformer"])
def test_checkpoint_conv_gives_the_same_outputs_and_gradients(transformer):
    plain, checkpointed = twin_models(checkpoint_conv=True, use_checkpointing=transformer)
    trunk = checkpointed.trunk
    blocks = [trunk.stem, *trunk.conv_tower]
    assert all(type(b) is CheckpointedSequential for b in blocks) and len(blocks) == 7
    assert list(checkpointed.state_dict()) == list(plain.state_dict())  # pretrained weights load unchanged

    calls = []
    trunk.stem[0].register_forward_hook(lambda *_: calls.append(1))
    x = one_hot_batch(3, 1024)
    plain.train(), checkpointed.train()  # dropout on (TINY keeps the default rates): masks must match too
    want, want_grads = forward_backward(plain, x)
    got, got_grads = forward_backward(checkpointed, x)
    assert len(calls) == 2  # the stem ran again in the backward pass: it was checkpointed
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert got_grads.keys() == want_grads.keys() and len(want_grads) > 20
    for name, grad in want_grads.items():
        torch.testing.assert_close(
            got_grads[name], grad, rtol=1e-5, atol=1e-6, msg=lambda m, name=name: f"{m} ({name})"
        )

    calls.clear()
    checkpointed.eval()
    with torch.inference_mode():  # evaluation runs the plain forward pass
        checkpointed(x)
    with torch.enable_grad():
        checkpointed(x.requires_grad_())  # eval mode with gradients (attribution): not checkpointed either
    assert len(calls) == 2


def test_checkpoint_conv_is_off_by_default_and_in_the_presets():
    trunk = build_trunk(**TINY)
    assert not any(type(m) is CheckpointedSequential for m in trunk.modules())
    for preset in ("enformer", "enformer_tiny"):
        cfg = compose_train(f"model={preset}")
        assert cfg.model.trunk.checkpoint_conv is False and cfg.model.trunk.use_checkpointing is False
        assert cfg.model.compile is False


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


TINY_OVERRIDES = [f"model.trunk.{k}={v}" for k, v in TINY.items()]


def test_model_compile_key_compiles_the_trunk_in_place():
    settings = (False, None, "false", True, "true", "aot_eager")
    assert [compile_backend(s) for s in settings] == [None, None, None, "inductor", "inductor", "aot_eager"]
    with pytest.raises(ValueError, match="model.compile"):
        compile_backend(3)
    eager = build_module(compose_train(*TINY_OVERRIDES))
    assert eager.model.trunk._compiled_call_impl is None
    module = build_module(compose_train(*TINY_OVERRIDES, "model.compile=true", "model.trunk.checkpoint_conv=true"))
    assert module.model.trunk._compiled_call_impl is not None  # compiled lazily, at the first call
    assert module.hparams.trunk["checkpoint_conv"] is True
    assert list(module.state_dict()) == list(eager.state_dict())  # no _orig_mod. prefix: checkpoints unchanged


def compiled_or_skip(model: PerformerModel, x: torch.Tensor) -> str:
    """Compile ``model``'s trunk with inductor, else aot_eager; the backend that compiled and ran a forward
    pass. Skips the test (naming both errors) when neither can compile on this machine."""
    errors = []
    for backend in ("inductor", "aot_eager"):
        torch._dynamo.reset()
        model.trunk._compiled_call_impl = None
        compile_trunk(model.trunk, backend=backend)
        try:
            torch.manual_seed(1)
            model(x)
            return backend
        except Exception as error:  # e.g. no C compiler for inductor's CPU kernels
            errors.append(f"{backend}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    pytest.skip("torch.compile cannot compile the trunk on this machine: " + "; ".join(errors))


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PERFORMER_TEST_COMPILE"),
    reason="inductor compiles forward, backward and the eval graph in about 2 minutes on 2 CPU cores, an eighth "
    "of the suite's time budget: set PERFORMER_TEST_COMPILE=1 to run it (the GPU check does)",
)
def test_compiled_trunk_matches_eager():
    """Tolerance: outputs within 1e-4 of the output scale, gradients within 1e-3 of each tensor's scale (fp32;
    inductor fuses and reorders reductions; measured on this model: 3e-6 and 4e-5 absolute)."""
    eager, compiled = twin_models(NO_DROPOUT)
    x = one_hot_batch(2, 1024)
    eager.train(), compiled.train()
    backend = compiled_or_skip(compiled, x)
    want, want_grads = forward_backward(eager, x)
    got, got_grads = forward_backward(compiled, x)
    scale = want.abs().max().item()
    torch.testing.assert_close(got, want, rtol=0, atol=1e-4 * scale, msg=lambda m: f"{m} (backend {backend})")
    for name, grad in want_grads.items():
        atol = 1e-3 * grad.abs().max().item() + 1e-8
        torch.testing.assert_close(
            got_grads[name], grad, rtol=0, atol=atol, msg=lambda m, name=name: f"{m} ({name}, {backend})"
        )
    eager.eval(), compiled.eval()
    with torch.inference_mode():
        torch.testing.assert_close(compiled(x), eager(x), rtol=0, atol=1e-4 * scale)


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_train", ROOT / "benchmarks" / "bench_train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_train"] = module
    spec.loader.exec_module(module)
    return module


def test_bench_train_prints_every_figure_on_a_cpu(tiny_cohort, tmp_path, capsys):
    bench = load_bench()
    result = bench.main(
        "--model enformer_tiny --window 1024 --batch-size 4 --steps 2 --warmup 1 --genes BTNL3 --ism-variants 8 "
        "--checkpoint-conv --device cpu".split()
        + ["--data", str(tiny_cohort), "--cache-dir", str(tmp_path / "windows")]
    )
    out = capsys.readouterr().out
    figures = ("train_samples_per_s", "eval_samples_per_s", "ism_variants_per_s", "achieved_tflops", "peak_rss_mib")
    for figure in figures:
        assert result[figure] > 0, figure
    assert result["mfu"] is None  # no peak FLOP/s for a CPU: n/a
    assert set(result["step_ms"]) == {"data", "copy", "fwd_bwd", "optimizer"}
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 8 and all(line.startswith("[CPU") and "UTC]" in line for line in lines)
    assert "MFU n/a" in out and "--window 1024" in out
    assert bench.peak_tflops("NVIDIA H100 80GB HBM3", "bf16-mixed") == 989.0
    assert bench.peak_tflops("NVIDIA H100 PCIe", "bf16-mixed") == 756.0
    assert bench.peak_tflops("NVIDIA A100-SXM4-80GB", "bf16-mixed") == 312.0
    assert bench.peak_tflops("Some GPU", "bf16-mixed") is None
