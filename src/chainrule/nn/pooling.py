"""Pooling layers (`MaxPool1d/2d`, `AvgPool1d/2d`, `AdaptiveAvgPool1d/2d`) and `Flatten`."""

from __future__ import annotations

from typing import Any, ClassVar

from chainrule.autograd.tensor import Tensor, as_tensor
from chainrule.nn.conv_ops import expand
from chainrule.nn.module import Module
from chainrule.nn.pool_ops import adaptive_avg_pool, avg_pool, max_pool

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Flatten",
    "MaxPool1d",
    "MaxPool2d",
    "Unflatten",
]


class _PoolNd(Module):
    """What max and average pooling share: the window (kernel_size, stride, padding)."""

    _d: ClassVar[int]

    def _window(self, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool) -> None:
        """Each an int or one per axis; stride defaults to kernel_size (as PyTorch's)."""
        if ceil_mode:
            raise ValueError("ceil_mode=True is not supported (PyTorch's default False is)")
        d = self._d
        self.kernel_size = expand(kernel_size, d, "kernel_size")
        self.stride = self.kernel_size if stride is None else expand(stride, d, "stride")
        self.padding = expand(padding, d, "padding", low=0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_PoolNd):
    """Max pooling: the largest value of each window, per channel (`pool_ops.max_pool`).

    Parameters as PyTorch's: kernel_size, stride (default: kernel_size), padding (at most half
    the kernel; padded with −∞), dilation, each an int or one per axis.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        if return_indices:
            raise ValueError("return_indices=True is not supported")
        self._window(kernel_size, stride, padding, ceil_mode)
        self.dilation = expand(dilation, self._d, "dilation")

    def forward(self, x: Any) -> Tensor:
        return max_pool(x, self._d, self.kernel_size, self.stride, self.padding, self.dilation)


class MaxPool1d(_MaxPoolNd):
    """Max pooling of (N, C, L) inputs, as torch.nn.MaxPool1d (see `pool_ops.max_pool`)."""

    _d = 1


class MaxPool2d(_MaxPoolNd):
    """Max pooling of (N, C, H, W) inputs, as torch.nn.MaxPool2d (see `pool_ops.max_pool`)."""

    _d = 2


class _AvgPoolNd(_PoolNd):
    """Average pooling: the mean of each window, per channel (`pool_ops.avg_pool`)."""

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self._window(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        if divisor_override is not None:
            divisor_override = expand(divisor_override, 1, "divisor_override")[0]
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Tensor:
        return avg_pool(
            x,
            self._d,
            self.kernel_size,
            self.stride,
            self.padding,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool1d(_AvgPoolNd):
    """Average pooling of (N, C, L) inputs, as torch.nn.AvgPool1d (see `pool_ops.avg_pool`)."""

    _d = 1


class AvgPool2d(_AvgPoolNd):
    """Average pooling of (N, C, H, W) inputs, as torch.nn.AvgPool2d (see `pool_ops.avg_pool`)."""

    _d = 2


class _AdaptiveAvgPoolNd(Module):
    """Average pooling to a fixed output size (1: the global average over each channel)."""

    _d: ClassVar[int]

    def __init__(self, output_size: int | tuple[int | None, ...]) -> None:
        super().__init__()
        d = self._d
        sizes = (output_size,) * d if not isinstance(output_size, tuple | list) else output_size
        if len(sizes) != d:
            raise ValueError(f"output_size must be an integer or {d} of them, got {output_size!r}")
        for s in sizes:
            if s is not None:
                expand(s, 1, "output_size")
        self.output_size = output_size if isinstance(output_size, int) else tuple(sizes)

    def forward(self, x: Any) -> Tensor:
        return adaptive_avg_pool(x, self._d, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling of (N, C, L) inputs, as torch.nn.AdaptiveAvgPool1d."""

    _d = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling of (N, C, H, W) inputs, as torch.nn.AdaptiveAvgPool2d."""

    _d = 2


class Flatten(Module):
    """Flatten the axes start_dim … end_dim into one (default: all but the batch axis), as
    torch.nn.Flatten: (N, C, H, W) -> (N, C·H·W), channels first, then rows, then columns."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"{name} must be an integer, got {v!r}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        nd = x.data.ndim
        start = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        end = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < max(nd, 1):
            raise ValueError(
                f"Flatten({self.start_dim}, {self.end_dim}) does not fit an input of "
                f"shape {x.shape}"
            )
        shape = x.shape
        return x.reshape((*shape[:start], -1, *shape[end + 1 :]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size`, as torch.nn.Unflatten: ``Unflatten(1, (1, 8,
    8))`` turns rows of 64 pixels (N, 64) into images (N, 1, 8, 8). The inverse of `Flatten`."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise ValueError(f"dim must be an integer, got {dim!r}")
        self.dim = dim
        self.unflattened_size = expand(unflattened_size, len(tuple(unflattened_size)), "size")

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        shape = x.shape
        dim = self.dim + len(shape) if self.dim < 0 else self.dim
        n = 1
        for s in self.unflattened_size:
            n *= s
        if not 0 <= dim < len(shape) or shape[dim] != n:
            raise ValueError(
                f"Unflatten({self.dim}, {self.unflattened_size}) needs {n} values on axis "
                f"{self.dim}, got an input of shape {shape}"
            )
        return x.reshape((*shape[:dim], *self.unflattened_size, *shape[dim + 1 :]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
