"""`Conv1d` and `Conv2d`: convolutional layers with PyTorch's signatures, layouts and defaults."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from chainrule.autograd.tensor import Tensor
from chainrule.nn.conv_ops import conv, expand, pad_pairs
from chainrule.nn.init import Initializer, fans, get_initializer
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.rng import Seed, as_generator

__all__ = ["Conv1d", "Conv2d"]


class _ConvNd(Module):
    """A convolutional layer: every output channel o is a learned filter W[o] (C × kernel)
    slid over the input, out[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] (⋆: cross-correlation).

    It is a dense layer with shared, sparse weights: each output value sees only the C × K
    inputs under its window (its receptive field), and every position uses the same filter.
    The op and its backward pass are `chainrule.nn.conv_ops.conv`.

    Parameters
    ----------
    in_channels, out_channels : int
        C and O.
    kernel_size, stride, dilation : int or tuple of ints
        One value for every spatial axis, or one per axis.
    padding : int, tuple of ints, "valid" or "same"
        Zeros added on both sides of each axis; "same" (stride 1) keeps the size.
    bias : bool
        Learn b (O,).
    padding_mode : str
        Only "zeros" (PyTorch's default).
    init : str, callable or None
        None: PyTorch's default, W and b ~ U(−1/√fan_in, 1/√fan_in) with fan_in = C · K (its
        kaiming_uniform with a = √5). A name in `chainrule.nn.init.INITIALIZERS` (e.g.
        "he_normal", fans computed as channels × kernel size) or a function: that for W, b = 0.
    rng : int, numpy.random.Generator or None
        Randomness for the initializer.
    dtype : dtype
        float32 by default; float64 for gradient checks.
    """

    penalized_parameters: ClassVar[tuple[str, ...]] = ("weight",)
    _d: ClassVar[int]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        init: str | Initializer | None = None,
        rng: Seed = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        d = self._d
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
                raise ValueError(f"{name} must be a positive integer, got {n!r}")
        if groups != 1:
            raise ValueError(f"only groups=1 is supported, got {groups!r}")
        if padding_mode != "zeros":
            raise ValueError(f"only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = expand(kernel_size, d, "kernel_size")
        self.stride = expand(stride, d, "stride")
        self.dilation = expand(dilation, d, "dilation")
        if isinstance(padding, str):
            pad_pairs(padding, self.kernel_size, self.stride, self.dilation)  # validates
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = expand(padding, d, "padding", low=0)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        gen = as_generator(rng)
        if init is None:
            bound = 1.0 / math.sqrt(fans(shape)[0])
            w = gen.uniform(-bound, bound, shape)
            b = gen.uniform(-bound, bound, self.out_channels)
        else:
            w = np.asarray(get_initializer(init)(shape, gen, dtype))
            if w.shape != shape:
                raise ValueError(f"initializer returned shape {w.shape}, expected {shape}")
            b = np.zeros(self.out_channels)
        self.weight = Parameter(np.asarray(w, dtype=dtype))
        self.register_parameter("bias", Parameter(np.asarray(b, dtype=dtype)) if bias else None)

    def forward(self, x: Any) -> Tensor:
        """The convolution of x (N, in_channels, *spatial); returns (N, out_channels, *out)."""
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        if self.padding != (0,) * self._d:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._d:
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    __doc__ = (
        _ConvNd.__doc__ or ""
    ) + "\n    Input (N, C, L), weight (O, C, k), as torch.nn.Conv1d.\n"
    _d = 1


class Conv2d(_ConvNd):
    __doc__ = (
        _ConvNd.__doc__ or ""
    ) + "\n    Input (N, C, H, W), weight (O, C, kh, kw), as torch.nn.Conv2d.\n"
    _d = 2
