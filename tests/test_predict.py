"""The one prediction path (performer/predict.py): device, precision, read-out, batching, eval mode, and that
nothing else in the package calls a model's forward for inference."""

import ast
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_datamodule
from hydra import compose, initialize_config_dir
from test_interpret import START, TINY, make_window, visible_model

from performer.data.reference import codes_to_one_hot
from performer.model import PerformerModel, build_trunk
from performer.model.module import PerformerModule
from performer.predict import (
    choose_device,
    evaluation_precision,
    input_gradients,
    predict_ism,
    predict_people,
    predict_sequences,
    predict_split,
)
from performer.run import name_genes
from performer.tasks.interpret import gene_ism


@pytest.fixture(scope="module")
def model() -> PerformerModel:
    return visible_model()


def one_hots(n: int, length: int, seed: int = 0) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, length))
    return np.eye(4, dtype=np.float32)[codes]


def evaluate_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name="evaluate", overrides=["runs=unused", *overrides])


def direct_ism(model: PerformerModel, window) -> np.ndarray:
    """fp32 reference: the reference and every mutated one-hot through ``model(x)`` in one plain batch.

    (One batch, not one sequence at a time: on a CPU a batch of 1 takes other kernels, whose float32
    results differ from a batch's by up to ~1e-5 of the largest |ISM| on the tiny model.)
    """
    ref = codes_to_one_hot(window.codes).astype(np.float32)
    x = [ref]
    for j in np.flatnonzero((window.snvs.dosage > 0).any(axis=0)):
        mutated = ref.copy()
        mutated[window.snvs.pos[j] - START] = 0
        mutated[window.snvs.pos[j] - START, window.snvs.alt[j]] = 1
        x.append(mutated)
    with torch.no_grad():
        pred = model.eval()(torch.from_numpy(np.stack(x))).double().numpy()
    return pred[1:] - pred[0]


# ---------------------------------------------------------------- device and precision


def test_device_choice():
    assert choose_device("cpu") == torch.device("cpu")
    assert choose_device(torch.device("cpu")) == torch.device("cpu")
    assert choose_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_evaluation_precision_maps_trainer_settings():
    assert evaluation_precision("auto", "cpu") == "fp32"
    for setting in ("bf16", "bf16-mixed", "bf16-true", "BF16-Mixed"):
        assert evaluation_precision(setting) == "bf16"
    for setting in ("fp32", "32", 32, "32-true"):
        assert evaluation_precision(setting) == "fp32"
    with pytest.raises(ValueError, match="16-mixed.*choose auto"):
        evaluation_precision("16-mixed")
    with pytest.raises(ValueError, match="precision='fp16'"):
        predict_sequences(torch.nn.Identity(), one_hots(1, 256), precision="fp16")


# ---------------------------------------------------------------- read-out, batching, eval mode


def test_predictions_are_the_centre_bin_of_a_direct_fp32_forward(model):
    x = one_hots(5, 1024)  # 8 bins: the centre bin is 4
    with torch.no_grad():
        tracks = model.tracks(torch.from_numpy(x)).numpy()
    expected = tracks[:, 4]
    assert np.abs(tracks[:, 3] - expected).min() > 1e-4  # an off-by-one bin would show
    got = predict_sequences(model, x, batch_size=2, device="cpu")
    assert got.dtype == np.float64 and got.shape == (5,)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    batches = [x[:1], x[1:4], x[4:]]  # an iterable of batches gives the same
    np.testing.assert_allclose(predict_sequences(model, iter(batches)), got, rtol=1e-5, atol=1e-7)
    module = PerformerModule(trunk=TINY)  # a PerformerModule is read through its model
    module.model.load_state_dict(model.state_dict())
    np.testing.assert_allclose(predict_sequences(module, x), got, rtol=1e-5, atol=1e-7)


def test_eval_mode_inside_and_the_callers_mode_restored():
    dropout = visible_model(dropout_rate=0.5).train()
    x = one_hots(3, 512, seed=1)
    first = predict_sequences(dropout, x)
    assert dropout.training  # restored
    np.testing.assert_array_equal(predict_sequences(dropout, x), first)  # no dropout: deterministic
    dropout.eval()
    with torch.no_grad():
        np.testing.assert_allclose(first, dropout(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-7)


def test_input_errors():
    with pytest.raises(ValueError, match=r"\(batch, length, 4\)"):
        predict_sequences(torch.nn.Identity(), np.zeros((2, 10, 3), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        predict_sequences(torch.nn.Identity(), one_hots(2, 8), batch_size=0)
    with pytest.raises(ValueError, match="track=3 applies to a pretrained Enformer only"):
        predict_sequences(torch.nn.Identity(), one_hots(2, 8), track=3)
    with pytest.raises(ValueError, match="needs track="):
        predict_sequences(build_trunk(**TINY, keep_heads=True), one_hots(1, 512))
    with pytest.raises(ValueError, match="offsets must lie in"):
        predict_ism(torch.nn.Identity(), one_hots(1, 8)[0], [8], [0])
    assert predict_sequences(torch.nn.Identity(), np.zeros((0, 8, 4), np.float32)).shape == (0,)


def test_predict_people_equals_direct_predictions_of_their_windows(model, tiny_cohort):
    dm = tiny_datamodule(tiny_cohort, batch_size=8, accumulate=1)
    dm.prepare_data()
    dm.setup()
    test = dm.datasets["test"]
    items = np.array([5, 0, 3, 11, 7])  # any order, any genes
    got = predict_people(model, test, items, batch_size=2)
    with torch.no_grad():
        direct = [float(model(test.__getitems__([i])["x"])[0]) for i in items]
    np.testing.assert_allclose(got, direct, rtol=1e-5, atol=1e-7)


def test_evaluation_predictions_equal_what_trainer_test_gave(model, tiny_cohort):
    """Evaluation used ``Trainer.test`` (32-true on a CPU); predict.py gives the same table, in the same order."""
    dm = tiny_datamodule(tiny_cohort, batch_size=8, accumulate=1, eval_batch_size=4)
    dm.prepare_data()
    dm.setup()
    module = PerformerModule(trunk=TINY)
    module.model.load_state_dict(model.state_dict())
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        precision="32-true",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.test(module, datamodule=dm, verbose=False)
    before = name_genes(module.predictions["test"], dm)
    got = predict_split(module.model, dm, "test", batch_size=5, precision="fp32")
    assert list(got.columns) == ["gene_id", "gene", "split", "person", "y", "pred"]
    assert len(got) == len(dm.gene_ids) * len(dm.split.test) == 18
    for column in ("gene_id", "gene", "person"):
        assert got[column].tolist() == before[column].tolist()
    np.testing.assert_array_equal(got["y"], before["y"])
    np.testing.assert_allclose(got["pred"], before["pred"], rtol=1e-5, atol=1e-7)
    test = dm.datasets["test"]
    people = {p: i for i, p in enumerate(dm.people)}
    with torch.no_grad():
        direct = [
            float(model(torch.from_numpy(test.windows[dm.gene_ids.index(g)].one_hot([people[p]])))[0])
            for g, p in zip(got["gene_id"], got["person"])
        ]
    np.testing.assert_allclose(got["pred"], direct, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- ISM precision (acceptance)


def test_ism_ignores_the_trainers_bf16_setting(model):
    """The interpretation pipeline asked for with ``precision=bf16-mixed`` (the trainer's GPU setting)
    still computes ISM in fp32: it equals direct fp32 predictions within 1e-5 of the largest |ISM|."""
    window = make_window(1024, [0, 17, 300, 511, 512, 700, 1000, 1023, 450], unobserved=[8])
    expected = direct_ism(model, window)
    assert np.abs(expected).max() > 1e-2 and (np.abs(expected) > 1e-4).all()  # not vacuous
    cfg = evaluate_cfg("precision=bf16-mixed", "batch_size=3")
    table = gene_ism(model, window, START + 512, cfg)
    np.testing.assert_allclose(table["ism"], expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_ism_in_bf16_when_asked_is_mostly_rounding(model):
    """bf16 when explicitly asked (``interpret_precision=bf16``): both outputs keep 8 significant bits, so the
    error is far above fp32's yet a small share of the largest |ISM|, and some small effects are wrong by more
    than their own size. How large exactly depends on the CPU's bf16 kernels (AVX512-BF16, AMX or neither),
    so only these properties are asserted."""
    window = make_window(1024, [0, 17, 300, 511, 512, 700, 1000, 1023, 450], unobserved=[8])
    expected = direct_ism(model, window)
    largest = np.abs(expected).max()
    fp32 = gene_ism(model, window, START + 512, evaluate_cfg("interpret_precision=fp32", "batch_size=7"))
    bf16 = gene_ism(model, window, START + 512, evaluate_cfg("interpret_precision=bf16", "batch_size=7"))
    fp32_error = np.abs(fp32["ism"].to_numpy() - expected).max()
    error = np.abs(bf16["ism"].to_numpy() - expected)
    assert fp32_error <= 1e-5 * largest  # fp32 within its tolerance
    assert error.max() > 100 * max(fp32_error, 1e-7 * largest)  # bf16 was really used, far coarser than fp32
    assert error.max() < 0.5 * largest  # rounding, not a wrong variant or position
    assert np.corrcoef(bf16["ism"], expected)[0, 1] > 0.9
    with pytest.raises(ValueError, match="interpret_precision='fp16'"):
        gene_ism(model, window, START, evaluate_cfg("interpret_precision=fp16"))


def test_input_gradients_are_fp32_autograd(model):
    x = one_hots(3, 512, seed=2)
    model.zero_grad(set_to_none=True)
    with torch.no_grad():  # a caller's no_grad does not matter
        grad = input_gradients(model, x, batch_size=2)
    assert all(p.grad is None for p in model.parameters())  # gradients with respect to the input only
    for b in range(3):
        xb = torch.from_numpy(x[b : b + 1]).requires_grad_(True)
        model(xb)[0].backward()
        np.testing.assert_allclose(grad[b], xb.grad.numpy()[0], rtol=1e-4, atol=1e-5 * np.abs(grad).max())


# ---------------------------------------------------------------- one prediction path


ALLOWED = {"performer/predict.py", "performer/run.py"}
"""Files that may call a model's forward: the prediction path, and training (Lightning's fit, tune and
test of a fresh run in run.py, over DDP ranks). ``performer/model/`` is the model itself."""

MODEL_NAMES = {"model", "module", "enformer", "trunk", "net", "predict", "adapter"}
TRAINER_METHODS = {"test", "validate", "predict"}


def forward_calls(path: Path) -> list[str]:
    """Calls in a source file that run a model: ``model(...)``, ``self.model(...)``, ``trainer.test(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in MODEL_NAMES:
            found.append(f"{path}:{node.lineno} {func.id}(...)")
        elif isinstance(func, ast.Attribute) and func.attr in MODEL_NAMES - {"predict"}:
            found.append(f"{path}:{node.lineno} .{func.attr}(...)")
        elif isinstance(func, ast.Attribute) and func.attr in TRAINER_METHODS:
            owner = ast.unparse(func.value)
            if "trainer" in owner.lower():
                found.append(f"{path}:{node.lineno} {owner}.{func.attr}(...)")
    return found


def test_nothing_else_calls_a_model_for_inference():
    sources = sorted((ROOT / "performer").rglob("*.py"))
    relative = {p: p.relative_to(ROOT).as_posix() for p in sources}
    checked = [p for p in sources if relative[p] not in ALLOWED and not relative[p].startswith("performer/model/")]
    offending = [call for p in checked for call in forward_calls(p)]
    assert offending == [], "forward passes outside performer/predict.py:\n" + "\n".join(offending)
    assert forward_calls(ROOT / "performer" / "predict.py")  # the scan sees the calls where they are
    example = ROOT / "tests" / "test_predict.py"
    assert any("model(" in call for call in forward_calls(example))  # and would see them elsewhere
