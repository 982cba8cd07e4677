"""The one prediction path: any model, any set of one-hot inputs, one device, precision and read-out policy.

Every inference forward pass of the package goes through this module (gReLU's single
``predict_on_dataset`` is the model): evaluation of runs (HOP / HOGP), the pretrained-trunk (Enformer)
baseline, ISM, gradient x input and the interpretation pipeline. Training and Lightning's own
validation live in ``performer/model`` and ``performer/run.py``. It owns:

* the device: :func:`choose_device` (CUDA if available, else the CPU, unless one is given); a
  ``torch.nn.Module`` is moved there in place and left there;
* the precision, a property of the task: ``"fp32"`` or ``"bf16"`` (``torch.autocast`` with bfloat16).
  ISM and gradient x input default to fp32: ISM is the difference of two nearly equal outputs and
  bf16 keeps 8 significant bits, so its rounding swamps small effects (see ``tests/test_predict.py``).
  :func:`evaluation_precision` maps a trainer setting (``auto``, ``bf16-mixed``, ``32-true``) for
  plain predictions;
* batching, the progress bar, eval mode (the module's mode is restored afterwards) and
  ``torch.inference_mode`` (gradients only in :func:`input_gradients`);
* the read-out (:func:`readout`): a Performer model's TSS bins
  (:class:`~performer.model.head.PerformerModel`; Enformer: the centre bin ``(L / 128) // 2``), a
  trunk's pretrained ``track`` summed over its baseline bins (:class:`~performer.model.trunk.Trunk`;
  a pretrained Enformer's human track over the 3 centre bins ``n_bins // 2 - 1 .. n_bins // 2 + 1``,
  Drusinsky et al., Methods), or any callable mapping ``(B, L, 4)`` to ``(B,)``. The architecture behind
  a model is read only through the trunk interface.

Inputs are float one-hots ``(B, L, 4)``, channels ``A,C,G,T``, ``L`` in bp, or dataset batches whose
uint8 base codes are expanded on the device (:mod:`performer.model.inputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from performer.model.head import PerformerModel
from performer.model.inputs import INPUT_KEYS, batch_inputs, person_predictions
from performer.model.trunk import Trunk

Model = torch.nn.Module | Callable[[torch.Tensor], torch.Tensor]
"""A model to predict with: a module or any callable mapping float32 ``(B, L, 4)`` to ``(B,)``, or a
:class:`~performer.model.trunk.Trunk` with pretrained tracks (a pretrained Enformer), read out with ``track``."""

PRECISIONS = ("fp32", "bf16")


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else ``cuda`` when a CUDA GPU is available, else ``cpu``."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def evaluation_precision(setting: str | int, device: str | torch.device | None = None) -> str:
    """The prediction precision for a trainer-style setting.

    ``auto`` is ``bf16`` on a CUDA device that supports bf16 (as a training run there used
    ``bf16-mixed``), else ``fp32``; ``bf16``, ``bf16-mixed`` and ``bf16-true`` give ``bf16``; ``fp32``,
    ``32``, ``32-true`` give ``fp32``. Only for plain predictions: ISM and gradients ask for fp32.

    Raises:
        ValueError: another setting (fp16 and fp64 are not offered for prediction).
    """
    text = str(setting).strip().lower()
    if text == "auto":
        dev = choose_device(device)
        return "bf16" if dev.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if text in ("bf16", "bf16-mixed", "bf16-true"):
        return "bf16"
    if text in ("fp32", "32", "32-true"):
        return "fp32"
    raise ValueError(f"precision={setting!r}: choose auto, fp32 (32-true) or bf16 (bf16-mixed) for prediction")


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {PRECISIONS} (see evaluation_precision)")


def _check_track(model: Model, track: int | None) -> None:
    if isinstance(model, Trunk):
        if track is None:
            raise ValueError(
                f"a pretrained trunk ({type(model).__name__}) needs track=<0-based track> of its pretrained head "
                "(e.g. 4950, CAGE blood of Enformer's human head)"
            )
        n_tracks = model.n_pretrained_tracks()
        if not 0 <= track < n_tracks:
            raise ValueError(f"track {track} is out of range: the pretrained head has {n_tracks} tracks")
    elif track is not None:
        raise ValueError(
            f"track={track} applies to a pretrained Enformer only (a trunk with pretrained tracks, such as "
            f"performer.model.load_pretrained(path, keep_heads=True)), not to {type(model).__name__}"
        )


def readout(model: Model, x: torch.Tensor, track: int | None = None) -> torch.Tensor:
    """The one forward call: ``(B, L, 4)`` on the model's device -> ``(B,)`` prediction.

    A :class:`~performer.model.head.PerformerModel` (or a module holding one as ``.model``, such as
    ``PerformerModule``) gives its prediction at the trunk's TSS bins (Enformer: the centre bin
    ``(L / 128) // 2``); a :class:`~performer.model.trunk.Trunk` (a pretrained Enformer) gives
    ``trunk.pretrained_tracks(x)[:, trunk.pretrained_bins(L), track].sum(1)`` (Enformer: the human head's
    track over the 3 centre bins); any other callable is called as it is. No device, precision or mode
    handling: use the entry points below.

    Raises:
        ValueError: the output is not one value per sequence.
    """
    if isinstance(getattr(model, "model", None), PerformerModel):
        model = model.model
    if isinstance(model, Trunk):
        out = model.pretrained_tracks(x)
        out = out[:, model.pretrained_bins(x.shape[1]), track].sum(dim=1)
    else:
        out = model(x)
    if not isinstance(out, torch.Tensor) or out.numel() != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model must map (B, L, 4) to a (B,) tensor; got {shape} for B = {x.shape[0]}")
    return out.reshape(-1)


def _module_of(model: Model) -> torch.nn.Module | None:
    if isinstance(model, torch.nn.Module):
        return model
    owner = getattr(model, "__self__", None)
    return owner if isinstance(owner, torch.nn.Module) else None


@contextmanager
def _prepared(model: Model, device: torch.device) -> Iterator[None]:
    """The module (if any) on ``device`` and in eval mode inside; its train/eval mode restored after."""
    module = _module_of(model)
    if module is None:
        yield
        return
    was_training = module.training
    module.to(device).eval()
    try:
        yield
    finally:
        module.train(was_training)


def _autocast(device: torch.device, precision: str):
    _check_precision(precision)
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def _check_batch(x: torch.Tensor) -> None:
    if x.ndim != 3 or x.shape[-1] != 4:
        raise ValueError(f"inputs must be (batch, length, 4) one-hots; got shape {tuple(x.shape)}")


def _predict_batches(
    model: Model,
    batches: Iterable[torch.Tensor | np.ndarray | dict],
    track: int | None,
    precision: str,
    device: str | torch.device | None,
    progress: str | None,
    total: int | None,
) -> list[np.ndarray]:
    """float64 predictions of each batch (the float32 outputs, exactly), in order.

    A batch is a float ``(b, L, 4)`` array or tensor, or a dataset batch (a dict holding ``x``, ``codes``
    or ``haplotypes``: :func:`~performer.model.inputs.batch_inputs`; one prediction per person).
    """
    _check_track(model, track)
    dev = choose_device(device)
    out = []
    with _prepared(model, dev), torch.inference_mode(), _autocast(dev, precision):
        for batch in tqdm(batches, desc=progress, total=total, disable=progress is None, leave=False):
            if isinstance(batch, dict):  # a dataset batch: one-hots, or base codes expanded on the device
                x, passes = batch_inputs({k: v.to(dev) for k, v in batch.items() if k in INPUT_KEYS})
            else:
                x, passes = torch.as_tensor(batch).to(device=dev, dtype=torch.float32), 1
            _check_batch(x)
            pred = person_predictions(readout(model, x, track).float(), passes)
            out.append(pred.cpu().numpy().astype(np.float64))
    return out


def _n_batches(n: int, batch_size: int) -> int:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return -(-n // batch_size)


def predict_sequences(
    model: Model,
    x: np.ndarray | torch.Tensor | Iterable[np.ndarray | torch.Tensor],
    *,
    track: int | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Predict one-hot sequences.

    Args:
        model: see :data:`Model` and :func:`readout`.
        x: float ``(N, L, 4)`` array or tensor, cut into batches of ``batch_size``; or an iterable of
            ``(b, L, 4)`` batches, each predicted as it comes.
        track: the pretrained track of a trunk (a pretrained Enformer's human track, e.g. 4950); None for
            other models.
        batch_size: sequences per forward pass (array input).
        precision: ``"fp32"`` or ``"bf16"`` (autocast).
        device: default :func:`choose_device`.
        progress: a progress-bar label, or None for no bar.

    Returns:
        float64 ``(N,)`` (the model's float32 outputs, converted exactly).

    Raises:
        ValueError: a bad ``precision``, ``batch_size`` or ``track``, a batch not ``(b, L, 4)``, or an
            output not one value per sequence.
    """
    if isinstance(x, np.ndarray | torch.Tensor):
        n = _n_batches(len(x), batch_size)
        batches, total = (x[i * batch_size : (i + 1) * batch_size] for i in range(n)), n
    else:
        batches, total = x, None
    parts = _predict_batches(model, batches, track, precision, device, progress, total)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def predict_people(
    model: Model,
    dataset,
    items: Sequence[int] | np.ndarray,
    *,
    track: int | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Predict (gene, person) items of a dataset: each person's personal window(s).

    Args:
        model, track, batch_size, precision, device, progress: as :func:`predict_sequences`.
        dataset: a :class:`~performer.data.dataset.GenePeopleDataset` (its ``__getitems__`` builds the
            inputs: SNV one-hots, or base codes of each person's two sequences; with the haplotype
            encoding a person's prediction is the mean over their two haplotypes).
        items: item indices, any genes of one window length; batches follow this order.

    Returns:
        float64 ``(len(items),)``, in the order of ``items``.
    """
    items = np.asarray(items, dtype=np.int64).reshape(-1)
    n = _n_batches(len(items), batch_size)
    batches = (dataset.__getitems__(items[i * batch_size : (i + 1) * batch_size]) for i in range(n))
    parts = _predict_batches(model, batches, track, precision, device, progress, n)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def predict_split(
    model: Model,
    datamodule,
    split: str,
    *,
    track: int | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
    device: str | torch.device | None = None,
) -> pd.DataFrame:
    """Predict every (gene, person) item of one split of a set-up DataModule, as a per-person table.

    Args:
        model, track, batch_size, precision, device: as :func:`predict_sequences`.
        datamodule: a set-up :class:`~performer.data.datamodule.PerformerDataModule` (read:
            ``datasets``, ``gene_ids``, ``gene_names``, ``people``).
        split: ``"train"``, ``"tune"`` or ``"test"``.

    Returns:
        One row per item sorted by gene index then person row (the order of Lightning's gathered
        predictions): ``gene_id, gene, split, person`` (person ID), ``y`` and ``pred`` (float64).

    Raises:
        KeyError: an unknown split; ValueError: as :func:`predict_sequences`.
    """
    if split not in datamodule.datasets:
        raise KeyError(f"unknown split {split!r}: choose from {list(datamodule.datasets)}")
    dataset = datamodule.datasets[split]
    items = np.lexsort((dataset.person, dataset.gene))
    pred = predict_people(
        model, dataset, items, track=track, batch_size=batch_size, precision=precision, device=device, progress=split
    )
    return pd.DataFrame(
        {
            "gene_id": [datamodule.gene_ids[g] for g in dataset.gene[items]],
            "gene": [datamodule.gene_names[g] for g in dataset.gene[items]],
            "split": split,
            "person": [datamodule.people[p] for p in dataset.person[items]],
            "y": dataset.target[items].astype(np.float64),
            "pred": pred,
        }
    )


def predict_ism(
    model: Model,
    reference: np.ndarray,
    offsets: np.ndarray,
    alts: np.ndarray,
    *,
    track: int | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    progress: str | None = None,
) -> tuple[float, np.ndarray]:
    """ISM of single-base substitutions of one reference sequence.

    ``ism_j = prediction(reference with base alts[j] at offsets[j]) - prediction(reference)``; the
    mutated sequence carries a full one-hot of the new base there. Each forward pass holds the
    reference followed by up to ``batch_size`` mutated sequences, built on the device, and every score
    is taken against the reference prediction of its own pass (same kernels and batch shape).

    Args:
        model, track, device, progress: as :func:`predict_sequences`.
        reference: float ``(L, 4)`` one-hot.
        offsets: int ``(n,)`` 0-based positions in ``reference``.
        alts: int ``(n,)`` base codes 0-3 (``A,C,G,T``) put there.
        batch_size: mutated sequences per pass (``batch_size + 1`` sequences).
        precision: ``"fp32"`` (default: use it; bf16 rounding of the two outputs is larger than most
            effects) or ``"bf16"``.

    Returns:
        ``(reference prediction of the first pass (NaN when n = 0), float64 (n,) ISM scores)``.

    Raises:
        ValueError: ``offsets`` outside ``[0, L)``, an ``alt`` outside 0-3, mismatched lengths, or as
            :func:`predict_sequences`.
    """
    reference = np.asarray(reference, dtype=np.float32)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    alts = np.asarray(alts, dtype=np.int64).reshape(-1)
    if reference.ndim != 2 or reference.shape[1] != 4:
        raise ValueError(f"reference must be an (L, 4) one-hot; got shape {reference.shape}")
    if len(offsets) != len(alts):
        raise ValueError(f"{len(offsets)} offsets but {len(alts)} alts")
    if ((offsets < 0) | (offsets >= len(reference))).any() or ((alts < 0) | (alts > 3)).any():
        raise ValueError(f"offsets must lie in [0, {len(reference)}) and alts in 0-3 (A, C, G, T)")
    if len(offsets) == 0:
        return float("nan"), np.zeros(0, dtype=np.float64)
    n = _n_batches(len(offsets), batch_size)
    dev = choose_device(device)
    ref = torch.from_numpy(reference)

    def batches() -> Iterator[torch.Tensor]:
        on_device = ref.to(dev)
        for i in range(n):
            where = torch.from_numpy(offsets[i * batch_size : (i + 1) * batch_size]).to(dev)
            bases = torch.from_numpy(alts[i * batch_size : (i + 1) * batch_size]).to(dev)
            x = on_device.unsqueeze(0).repeat(len(where) + 1, 1, 1)
            rows = torch.arange(1, len(where) + 1, device=dev)
            x[rows, where] = 0.0
            x[rows, where, bases] = 1.0
            yield x

    parts = _predict_batches(model, batches(), track, precision, dev, progress, n)
    scores = np.concatenate([p[1:] - p[0] for p in parts])
    return float(parts[0][0]), scores


def predict_variants(
    model: Model,
    reference_codes: np.ndarray,
    variant_codes: np.ndarray,
    *,
    track: int | None = None,
    batch_size: int = 32,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    progress: str | None = None,
) -> tuple[float, np.ndarray]:
    """Effects of whole variant sequences (indels, MNPs, any edit) against one reference sequence.

    ``effect_j = prediction(variant_codes[j]) - prediction(reference_codes)``. Like :func:`predict_ism`,
    each forward pass holds the reference followed by up to ``batch_size`` variant sequences (one-hots
    built on the device from the base codes, ``N`` = all-zero rows), and every effect is taken against
    the reference prediction of its own pass (same kernels and batch shape). Variant sequences have the
    reference's length: an indel's sequence is the reference window with the ALT applied and re-cut
    around the TSS (:meth:`performer.data.haplotypes.HaplotypeWindow.reference_with`).

    Args:
        model, track, device, progress: as :func:`predict_sequences`.
        reference_codes: uint8 (or any integer) ``(L,)`` base codes 0-4 (``A,C,G,T,N``).
        variant_codes: integer ``(n, L)`` base codes 0-4, one variant sequence per row.
        batch_size: variant sequences per pass (``batch_size + 1`` sequences).
        precision: ``"fp32"`` (default: bf16 rounding of the two outputs is larger than most effects)
            or ``"bf16"``.

    Returns:
        ``(reference prediction of the first pass (NaN when n = 0), float64 (n,) effects)``.

    Raises:
        ValueError: ``reference_codes`` not 1-D, ``variant_codes`` not ``(n, L)`` with the reference's
            ``L``, a code outside 0-4, or as :func:`predict_sequences`.
    """
    from performer.model.inputs import codes_one_hot

    reference = np.asarray(reference_codes)
    variants = np.asarray(variant_codes)
    if reference.ndim != 1:
        raise ValueError(f"reference_codes must be (L,) base codes; got shape {reference.shape}")
    if variants.ndim == 1 and variants.size == 0:
        variants = variants.reshape(0, len(reference))
    if variants.ndim != 2 or variants.shape[1] != len(reference):
        raise ValueError(f"variant_codes must be (n, {len(reference)}) base codes; got shape {variants.shape}")
    for name, codes in (("reference_codes", reference), ("variant_codes", variants)):
        if codes.size and (not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0 or codes.max() > 4):
            raise ValueError(f"{name} must be integer base codes 0-4 (A, C, G, T, N)")
    if len(variants) == 0:
        return float("nan"), np.zeros(0, dtype=np.float64)
    n = _n_batches(len(variants), batch_size)
    dev = choose_device(device)
    reference = torch.from_numpy(reference.astype(np.uint8))
    variants = torch.from_numpy(variants.astype(np.uint8))

    def batches() -> Iterator[torch.Tensor]:
        on_device = reference.to(dev)
        for i in range(n):
            chunk = variants[i * batch_size : (i + 1) * batch_size].to(dev)
            yield codes_one_hot(torch.cat([on_device.unsqueeze(0), chunk]))

    parts = _predict_batches(model, batches(), track, precision, dev, progress, n)
    effects = np.concatenate([p[1:] - p[0] for p in parts])
    return float(parts[0][0]), effects


def input_gradients(
    model: Model,
    x: np.ndarray | torch.Tensor,
    *,
    track: int | None = None,
    batch_size: int = 2,
    device: str | torch.device | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Gradient of each sequence's prediction with respect to its own input: ``d pred_b / d x_b``.

    Taken as the gradient of the summed output, which equals the per-sequence gradient because the
    sequences of a batch do not interact (true for Performer and its trunks in eval mode: BatchNorm uses
    its stored statistics). Gradients with respect to the input only (``torch.autograd.grad``):
    parameters' ``.grad`` are left untouched. Always fp32, with gradients enabled even inside a
    caller's ``torch.no_grad()``; eval mode as elsewhere. ``batch_size`` is small by default: the
    official Enformer needs about 4 GB of fp32 activations per 49,152 bp sequence.

    Args:
        model, track, device, progress: as :func:`predict_sequences`.
        x: float ``(N, L, 4)``, one-hot or dosage-averaged one-hot.
        batch_size: sequences per forward/backward pass.

    Returns:
        float32 numpy ``(N, L, 4)``.

    Raises:
        ValueError: as :func:`predict_sequences`.
        RuntimeError: the model's output carries no gradient (a callable that detaches it).
    """
    x = torch.as_tensor(x)
    _check_batch(x)
    _check_track(model, track)
    n = _n_batches(len(x), batch_size)
    dev = choose_device(device)
    out = np.empty(tuple(x.shape), dtype=np.float32)
    with _prepared(model, dev), torch.enable_grad():
        for i in tqdm(range(n), desc=progress, disable=progress is None, leave=False):
            chunk = x[i * batch_size : (i + 1) * batch_size].to(device=dev, dtype=torch.float32).requires_grad_(True)
            pred = readout(model, chunk, track).float()
            if not pred.requires_grad:
                raise RuntimeError(
                    "the model returned an output with no gradient: it must not run under torch.no_grad() "
                    "or detach its output"
                )
            (grad,) = torch.autograd.grad(pred.sum(), chunk)
            out[i * batch_size : (i + 1) * batch_size] = grad.cpu().numpy()
    return out
