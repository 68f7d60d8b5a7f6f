"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

The table is drawn with the same box characters and column widths as Keras (which uses
`rich`): columns sit at `positions` of `line_length` (88, or 108 with a "Connected to"
column for branching functional models, capped by the terminal width), then shrink as rich
shrinks them to fit.

Example:
>>> import tritonlayers as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="m")
>>> lines = []
>>> model.summary(line_length=60, print_fn=lines.append)
>>> print(lines[0].splitlines()[4])
│ d (Dense)                │ (None, 2)         │         8 │
"""

import re
import shutil
import textwrap
from typing import Any


def readable_memory_size(size: float) -> str:
    """Bytes as Keras writes them: "104.00 B", "1.50 KB", ...

    Example:
    >>> readable_memory_size(1536)
    '1.50 KB'
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _count_and_size(weights: list) -> tuple[int, int]:
    unique = {id(w): w for w in weights}.values()
    return (sum(w.numel() for w in unique), sum(w.numel() * w.element_size() for w in unique))


def _format_shape(shape: Any) -> str:
    return f"({', '.join(str(d) for d in shape)})"


def format_layer_shape(layer: Any) -> str:
    """The output shape(s) of `layer`: from its last symbolic call, a functional model's own
    `output_shape`, else from its build shapes through `compute_output_shape`, else "?"."""
    nodes = layer._inbound_nodes
    if nodes:
        shapes = [_format_shape(t.shape) for t in nodes[-1].outputs]
        return shapes[0] if len(shapes) == 1 else f"[{', '.join(shapes)}]"
    from .functional import Functional

    build_shapes = getattr(layer, "_build_shapes_dict", None)
    if isinstance(layer, Functional):
        # Built from its graph, a functional model knows its output shape without a call
        # (one inside a subclassed model is only called eagerly), as in Keras.
        output = layer.output_shape
    elif not build_shapes or _inherits_base_output_shape(layer):
        return "?"
    else:
        try:
            output = layer.compute_output_shape(*build_shapes.values())
        except Exception:
            return "?"
    if isinstance(output, (list, tuple)) and all(d is None or isinstance(d, int) for d in output):
        return _format_shape(output)
    shapes = [_format_shape(s) for s in _shape_leaves(output)]
    return shapes[0] if len(shapes) == 1 else f"[{', '.join(shapes)}]"


def _inherits_base_output_shape(layer: Any) -> bool:
    """Whether `layer` is a user class relying on the base `compute_output_shape` (Keras's
    raises there, so its summary shows "?" for such a layer called outside a graph)."""
    from ..layers import Layer

    owner = next(c for c in type(layer).__mro__ if "compute_output_shape" in c.__dict__)
    return owner is Layer and not type(layer).__module__.startswith("tritonlayers.")


def _shape_leaves(value: Any) -> list:
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _shape_leaves(value[key])]
    if isinstance(value, (list, tuple)) and not all(d is None or isinstance(d, int) for d in value):
        return [leaf for item in value for leaf in _shape_leaves(item)]
    return [value]


def _ratio_reduce(excess: int, widths: list[int]) -> list[int]:
    """Shrink `widths` by `excess` in total, spread evenly from the left (rich's rule)."""
    remaining, shares, result = excess, len(widths), []
    for width in widths:
        cut = min(width - 1, round(remaining / shares)) if remaining > 0 else 0
        result.append(width - cut)
        remaining -= cut
        shares -= 1
    return result


def _column_widths(line_length: int, positions: list[float]) -> list[int]:
    widths, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    excess = sum(widths) + 2 * len(widths) + len(widths) + 1 - line_length
    return _ratio_reduce(excess, widths) if excess > 0 else widths


def _cell_lines(text: str, width: int, align: str, truncate: bool = False) -> list[str]:
    lines = [text] if truncate else textwrap.wrap(text, width, break_long_words=False) or [""]
    lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
    justify = str.rjust if align == "right" else (str.center if align == "center" else str.ljust)
    return [justify(line, width) for line in lines]


def _render_row(cells: list[str], widths: list[int], aligns: list[str], bar: str) -> list[str]:
    """One table row as rich draws it: body cells wrap at spaces, header cells stay on one
    line, and a word (or header) wider than its column is cut with "…"."""
    header = bar == "┃"
    columns = [_cell_lines(c, w, a, header) for c, w, a in zip(cells, widths, aligns)]
    height = max(len(col) for col in columns)
    rows = []
    for index in range(height):
        parts = [col[index] if index < len(col) else " " * w for col, w in zip(columns, widths)]
        rows.append(bar + bar.join(f" {part} " for part in parts) + bar)
    return rows


def _rule(widths: list[int], left: str, middle: str, right: str, fill: str) -> str:
    return left + middle.join(fill * (w + 2) for w in widths) + right


def _is_sequential_like(model: Any) -> bool:
    nodes = getattr(model, "_graph_nodes", None)
    if nodes is None:
        return True
    # Keras asks for one chain of single-input nodes: several outputs taken along that
    # chain (a feature extractor) still print as a sequence.
    if len(model._inputs) != 1:
        return False
    previous = None
    for node in nodes:
        if len(node.input_tensors) != 1 or node.input_tensors[0]._keras_history.operation is not (
            previous.operation if previous else model._inputs[0]._keras_history.operation
        ):
            return False
        previous = node
    return True


def _type_name(layer: Any) -> str:
    """The class shown in a row; an op called on KerasTensors shows as Keras names its
    operation (`expand_dims` -> `ExpandDims`)."""
    function = getattr(layer, "function", None)
    if type(layer).__name__ == "OpLayer" and isinstance(function, str):
        return "".join(part.capitalize() for part in function.split("_"))
    return type(layer).__name__


def _connections(layer: Any, model_nodes: list) -> str:
    links = []
    for node in layer._inbound_nodes:
        if not any(node is kept for kept in model_nodes):
            continue
        for tensor in node.input_tensors:
            history = tensor._keras_history
            links.append(f"{history.operation.name}[{history.node_index}][{history.tensor_index}]")
    return ", ".join(links) or "-"


def _layer_range(layers: list, layer_range: Any) -> list:
    if layer_range is None:
        return layers
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError(
            "layer_range must be a list or tuple of two layer names (or regexes). Received: "
            f"layer_range={layer_range}"
        )
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    ends = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not starts or not ends:
        raise ValueError(
            f"Passed layer_names do not match the layer names in the model. Received: {layer_range}"
        )
    return layers[starts[0] : ends[-1] + 1]


def summary_lines(
    model: Any,
    line_length: "int | None" = None,
    positions: "list | None" = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Any = None,
) -> list[str]:
    """The summary table of `model`, line by line."""
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header, aligns = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    positions = positions or default_positions
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header, aligns = [*header, "Trainable"], [*aligns, "center"]
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(line_length or default_length, positions)
    model_nodes = getattr(model, "_graph_nodes", []) or []

    def fields(layer, prefix=""):
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{prefix}{layer.name} ({_type_name(layer)})", format_layer_shape(layer), params]
        if not sequential_like:
            row.append(_connections(layer, model_nodes))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and getattr(layer, "layers", None):
            for sub in layer.layers:
                rows.extend(rows_of(sub, level + 1))
        return rows

    # A functional model's rows include its operations (`x * 2`), as in Keras.
    shown = getattr(model, "operations", model.layers)
    rows = [row for layer in _layer_range(shown, layer_range) for row in rows_of(layer)]
    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "┳", "┓", "━")]
    lines += _render_row(header, widths, aligns, "┃")
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    for index, row in enumerate(rows):
        if index:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
        lines += _render_row(row, widths, aligns, "│")
    lines.append(_rule(widths, "└", "┴", "┘", "─"))

    trainable = _count_and_size(model.trainable_weights)
    frozen = _count_and_size(model.non_trainable_weights)
    optimizer = getattr(model, "optimizer", None)
    built_optimizer = (
        model.compiled and optimizer is not None and getattr(optimizer, "built", False)
    )
    slots = _count_and_size(list(optimizer.variables)) if built_optimizer else (0, 0)
    total = tuple(a + b + c for a, b, c in zip(trainable, frozen, slots))
    lines.append(f" Total params: {total[0]:,} ({readable_memory_size(total[1])})")
    lines.append(f" Trainable params: {trainable[0]:,} ({readable_memory_size(trainable[1])})")
    lines.append(f" Non-trainable params: {frozen[0]:,} ({readable_memory_size(frozen[1])})")
    if built_optimizer:
        lines.append(f" Optimizer params: {slots[0]:,} ({readable_memory_size(slots[1])})")
    return lines


def print_summary(model: Any, print_fn: Any = None, **kwargs: Any) -> None:
    """Print `summary_lines(model)`: to stdout, or as one string to `print_fn`."""
    text = "\n".join(summary_lines(model, **kwargs))
    (print_fn or print)(text)


__all__ = ["format_layer_shape", "print_summary", "readable_memory_size", "summary_lines"]
