"""Connectionist Temporal Classification: ``keras.ops.ctc_loss`` and ``ctc_decode``.

Inputs are logits of shape (batch, time, classes), batch-major as in Keras; the blank
label is ``mask_index``. Decoded label sequences come back left-aligned and padded with -1.

Example:
>>> import tritonlayers as keras
>>> logits = keras.ops.log([[[0.1, 0.9], [0.9, 0.1], [0.1, 0.9]]])
>>> decoded, scores = keras.ops.ctc_decode(logits, [3])
>>> decoded.tolist()
[[[1, 1, -1]]]
"""

import functools
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._utils import tensor

Tensor = torch.Tensor


def _logits(output: Any, function: str) -> Tensor:
    output = tensor(output)
    if output.ndim != 3:
        raise ValueError(
            f"{function}: expected logits of shape (batch_size, max_length, num_classes). "
            f"Received: shape={tuple(output.shape)}"
        )
    # float16/bfloat16 and integers are promoted to float32, float64 stays (as in Keras).
    return output.to(torch.promote_types(output.dtype, torch.float32))


def _lengths(lengths: Any, device: torch.device) -> Tensor:
    return tensor(lengths).to(device=device, dtype=torch.int64).reshape(-1)


def ctc_loss(
    target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0
) -> Tensor:
    """Per-sample CTC loss: ``-log p(target | output)`` summed over all alignments.

    ``target`` (batch, max_label_length) holds integer labels, of which the first
    ``target_length`` count; ``output`` (batch, max_length, num_classes) holds logits, of
    which the first ``output_length`` steps count. Impossible alignments give ``inf``.

    Example:
    >>> import tritonlayers as keras
    >>> logits = keras.ops.zeros((1, 2, 3))
    >>> round(float(keras.ops.ctc_loss([[1]], logits, [1], [2])[0]), 4)
    1.0986
    """
    output = _logits(output, "ctc_loss")
    target = tensor(target).to(device=output.device, dtype=torch.int64)
    if target.ndim != 2 or target.shape[0] != output.shape[0]:
        raise ValueError(
            "ctc_loss: expected `target` of shape (batch_size, max_label_length) with the "
            f"batch size of `output` ({output.shape[0]}). Received: target.shape="
            f"{tuple(target.shape)}"
        )
    log_probs = torch.log_softmax(output, dim=-1).transpose(0, 1)  # (time, batch, classes)
    return F.ctc_loss(
        log_probs,
        target,
        _lengths(output_length, output.device),
        _lengths(target_length, output.device),
        blank=mask_index,
        reduction="none",
    )


def _greedy(logits: Tensor, lengths: Tensor, merge_repeated: bool, blank: int):
    batch, steps, _ = logits.shape
    best, labels = logits.max(dim=-1)
    padding = torch.arange(steps, device=logits.device)[None, :] >= lengths[:, None]
    labels = torch.where(padding, blank, labels)
    best = torch.where(padding, 0.0, best)
    keep = labels != blank
    if merge_repeated:
        keep[:, 1:] &= labels[:, 1:] != labels[:, :-1]
    # Left-align the kept labels (a stable sort puts kept steps first, in order).
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)
    decoded = torch.where(keep, labels, -1).gather(1, order).to(torch.int32)
    return decoded[None], -best.sum(dim=1, keepdim=True)


def _add_path(paths: dict, prefix: tuple, blank_score: float, label_score: float) -> None:
    """Merge one way of reaching ``prefix`` into ``paths`` (log probabilities add up)."""
    old = paths.get(prefix, (-math.inf, -math.inf))
    paths[prefix] = (np.logaddexp(old[0], blank_score), np.logaddexp(old[1], label_score))


def _prefix_beam_search(log_probs: np.ndarray, beam_width: int, top_paths: int, blank: int):
    """Top ``top_paths`` (labels, log probability) of one sequence's (time, classes) log
    probabilities. Each beam is a collapsed label prefix with its probability split into
    alignments ending in a blank and ending in a label (so a repeat is kept apart from a
    collapse)."""
    classes = log_probs.shape[1]
    labels = np.array([c for c in range(classes) if c != blank])
    beams = {(): (0.0, -math.inf)}  # prefix -> (log p ending in blank, log p ending in label)
    for step in log_probs:
        grown: dict = {}
        add = functools.partial(_add_path, grown)
        for prefix, (p_blank, p_label) in beams.items():
            total = np.logaddexp(p_blank, p_label)
            add(prefix, total + step[blank], -math.inf)
            if prefix:  # the last label held for one more step
                add(prefix, -math.inf, p_label + step[prefix[-1]])
            previous = np.full(len(labels), total)
            if prefix:  # a repeated label needs a blank between the two
                previous[labels == prefix[-1]] = p_blank
            scores = previous + step[labels]
            # Only the best `beam_width` extensions of a beam can survive the pruning on
            # their own; one that is already a beam merges with it and always counts.
            candidates = set(np.argsort(-scores, kind="stable")[:beam_width].tolist())
            candidates.update(i for i, c in enumerate(labels) if prefix + (int(c),) in beams)
            for index in sorted(candidates):
                add(prefix + (int(labels[index]),), -math.inf, scores[index])
        ranked = sorted(grown.items(), key=lambda item: -np.logaddexp(*item[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda item: -np.logaddexp(*item[1]))[:top_paths]
    return [(prefix, float(np.logaddexp(*scores))) for prefix, scores in ranked]


def _beam_search(logits: Tensor, lengths: Tensor, beam_width: int, top_paths: int, blank: int):
    batch, steps, _ = logits.shape
    log_probs = torch.log_softmax(logits, dim=-1).detach().cpu().double().numpy()
    decoded = np.full((top_paths, batch, steps), -1, dtype=np.int32)
    scores = np.full((batch, top_paths), -np.inf)
    for b, length in enumerate(lengths.tolist()):
        # At least the first step is read, as Keras's beam search starts from it.
        found = _prefix_beam_search(log_probs[b, : max(length, 1)], beam_width, top_paths, blank)
        for k, (prefix, score) in enumerate(found):
            decoded[k, b, : len(prefix)] = prefix
            scores[b, k] = score
    return (
        torch.from_numpy(decoded).to(logits.device),
        torch.from_numpy(scores).to(dtype=logits.dtype, device=logits.device),
    )


def ctc_decode(
    inputs: Any,
    sequence_lengths: Any,
    strategy: str = "greedy",
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    mask_index: "int | None" = 0,
) -> tuple:
    """Decode CTC logits (batch, max_length, num_classes) into label sequences.

    Returns ``(decoded, scores)``: ``decoded`` is int32 of shape (top_paths, batch,
    max_length), each sequence left-aligned and padded with -1. "greedy" takes the best
    class per step, drops blanks (``mask_index``; None means the last class) and, with
    ``merge_repeated``, repeats; its ``scores`` (batch, 1) are minus the sum of the chosen
    logits. "beam_search" keeps ``beam_width`` label prefixes and returns the
    ``top_paths`` best with their log probabilities (batch, top_paths).

    Example:
    >>> import tritonlayers as keras
    >>> logits = keras.ops.log([[[0.1, 0.6, 0.3], [0.1, 0.6, 0.3], [0.8, 0.1, 0.1]]])
    >>> keras.ops.ctc_decode(logits, [3], strategy="beam_search")[0].tolist()
    [[[1, -1, -1]]]
    """
    logits = _logits(inputs, "ctc_decode")
    lengths = _lengths(sequence_lengths, logits.device)
    if lengths.shape[0] != logits.shape[0]:
        raise ValueError(
            f"ctc_decode: expected {logits.shape[0]} sequence lengths (one per batch item). "
            f"Received: sequence_lengths.shape={tuple(tensor(sequence_lengths).shape)}"
        )
    blank = logits.shape[-1] - 1 if mask_index is None else int(mask_index)
    if strategy == "greedy":
        return _greedy(logits, lengths, merge_repeated, blank)
    if strategy == "beam_search":
        return _beam_search(logits, lengths, int(beam_width), int(top_paths), blank)
    raise ValueError(
        f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'."
    )


def _float_output_dtype(output: Any) -> str:
    return "float64" if str(output.dtype) == "float64" else "float32"


def _ctc_loss_output_spec(target, output, target_length, output_length, mask_index=0):
    """The KerasTensor ``ctc_loss`` returns for symbolic inputs: one loss per sample."""
    from ..layers.symbolic import KerasTensor

    return KerasTensor((output.shape[0],), dtype=_float_output_dtype(output))


def _ctc_decode_output_spec(
    inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, **kwargs
):
    """The KerasTensors ``ctc_decode`` returns for symbolic inputs: (decoded, scores)."""
    from ..layers.symbolic import KerasTensor

    paths = 1 if strategy == "greedy" else int(top_paths)
    batch, steps = inputs.shape[0], inputs.shape[1]
    return (
        KerasTensor((paths, batch, steps), dtype="int32"),
        KerasTensor((batch, paths), dtype=_float_output_dtype(inputs)),
    )


ctc_loss.output_spec = _ctc_loss_output_spec
ctc_decode.output_spec = _ctc_decode_output_spec
