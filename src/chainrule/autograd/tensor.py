"""`Tensor`: a NumPy array that remembers how it was computed, and `backward()`.

Backpropagation is the recursive chain rule over the computational graph. Every operation on
tensors builds an output tensor holding its value, its parents and a small `_backward` closure
that maps the gradient of the output, ∂E/∂out, to the gradients of the parents,
∂E/∂in = ∂E/∂out · ∂out/∂in (the local derivatives live beside each op, listed in one table by
`chainrule.autograd.derivatives`, docs/derivatives.md).
`backward()` visits the graph once in reverse topological order; a value used on several paths
receives the sum of their contributions (the lecture's sum rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.autograd import grad_mode
from chainrule.autograd.released import RELEASED, Released, release

Array = npt.NDArray[Any]
BackwardFn = Callable[[Array], Sequence[Array | None]]

# A released graph keeps a `Released` record where the closure was, so a second backward() can
# say why it cannot run instead of silently doing nothing (and small graphs can still be drawn).
_RELEASED = RELEASED

# Every tensor gets the next number of this counter when it is created. An op's output is
# created after its inputs, so numbers grow along every path of the graph; backward() uses
# that as a ready-made topological order.
_sequence = itertools.count()


def _as_array(data: Any, dtype: npt.DTypeLike | None) -> Array:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    arr = np.asarray(data)
    # NumPy floating data keeps its precision; Python numbers, lists and integer or boolean
    # arrays become float32, the library's default (as in PyTorch).
    if arr.dtype.kind != "f" or not isinstance(data, np.ndarray | np.generic):
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"Tensor data must be numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float32)
    return arr


class Tensor:
    """An n-d array (0-d scalars included) with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : array_like
        The value. NumPy floating arrays keep their dtype (float64 is what gradient checks
        use); anything else (Python numbers and lists, integer or boolean arrays) becomes
        float32, the library's default.
    requires_grad : bool
        Record operations on this tensor so `backward()` can fill its `.grad`.
    dtype : dtype, optional
        Convert the data to this dtype.
    name : str, optional
        A label, shown by `cr.viz.draw_graph`.

    After ``E.backward()``, ``t.grad`` holds ∂E/∂t (same shape and dtype as ``t.data``) for every
    tensor ``t`` in the graph that requires gradients, intermediate values included: for the
    pre-activation ``a`` of a layer, ``a.grad`` is the lecture's δ. Gradients accumulate across
    calls, as in PyTorch; clear them with ``t.grad = None`` or a module's ``zero_grad()``.
    Treat ``.grad`` arrays as read-only: the engine may share one array between tensors.
    """

    __slots__ = ("_backward", "_op", "_parents", "_seq", "data", "grad", "name", "requires_grad")
    # NumPy must defer to our reflected operators (`array * tensor` -> Tensor.__rmul__).
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: npt.DTypeLike | None = None,
        name: str | None = None,
    ) -> None:
        self.data: Array = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise ValueError(f"only floating tensors can require gradients, got {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad: Array | None = None
        self.name = name
        self._op = ""
        self._parents: tuple[Tensor, ...] = ()
        self._backward: BackwardFn | str | None = None
        self._seq = next(_sequence)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def op(self) -> str:
        """The operation that produced this tensor ('' for a leaf)."""
        return self._op

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for leaves and released graphs)."""
        return self._parents

    @property
    def is_leaf(self) -> bool:
        return not self._op

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> Array:
        """The underlying NumPy array (no copy)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor._make(self.data, (), None, "")

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> Array:
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        extra = ""
        if self.requires_grad:
            extra += ", requires_grad=True"
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    # ------------------------------------------------------------------ graph building
    @staticmethod
    def _make(
        data: Array, parents: tuple[Tensor, ...], backward: BackwardFn | None, op: str
    ) -> Tensor:
        """Wrap an op's result; record the graph only when it is needed (the hot path)."""
        out = object.__new__(Tensor)
        # NumPy reductions of a whole array return scalars (np.float32); keep `.data` an ndarray.
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out.name = None
        out._op = op
        out._seq = next(_sequence)
        if grad_mode._state.enabled and backward is not None:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad = True
                    out._parents = parents
                    out._backward = backward
                    return out
        out.requires_grad = False
        out._parents = ()
        out._backward = None
        return out

    # ------------------------------------------------------------------ backward
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate ∂self/∂t into ``t.grad`` for every tensor ``t`` this one depends on.

        Parameters
        ----------
        grad : array_like, optional
            ∂E/∂self, the gradient flowing in from above. May be omitted only for a
            one-element tensor (then it is 1, the start of every chain rule).
        retain_graph : bool
            Keep the graph so that `backward()` can run again or `cr.viz.draw_graph` can show
            the local derivatives. By default the graph is released to free memory.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require gradients: create the inputs "
                "with requires_grad=True (and not inside cr.no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() needs grad= for a tensor of shape {self.shape}; "
                    "it may be omitted only for a one-element tensor"
                )
            seed = np.array(1, dtype=self.data.dtype).reshape(self.data.shape)  # ∂E/∂E = 1
        else:
            # A copy: the seed becomes self.grad, which must not alias the caller's array.
            seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if seed.shape != self.shape:
                raise ValueError(f"grad has shape {seed.shape}, expected {self.shape}")

        # Reverse topological order without a separate sort: every tensor is numbered after
        # the tensors it was computed from, so taking the largest number first visits each node
        # only after every node that uses it has passed its contribution down (the sum rule).
        # Gradients not yet passed on, keyed by the tensor itself: tensors hash by identity
        # (and a dict compares keys by identity first, so Tensor.__eq__ is never called).
        pending: dict[Tensor, Array] = {self: seed}
        heap: list[tuple[int, Tensor]] = [(-self._seq, self)]
        while heap:
            node = heappop(heap)[1]
            g = pending.pop(node)
            fn = node._backward
            if fn is None:  # a leaf (parameter or input): its gradient is complete
                node._accumulate_grad(g)
                continue
            if type(fn) is Released:
                raise RuntimeError(
                    f"the graph behind this {node._op!r} result was released by an earlier "
                    "backward(); pass retain_graph=True to backward() to run it again"
                )
            acc = g if node.grad is None else node.grad + g
            # Arithmetic on 0-d arrays gives NumPy scalars; `.grad` is always an ndarray.
            node.grad = acc if type(acc) is np.ndarray else np.asarray(acc)
            contributions = fn(g)  # type: ignore[operator]
            for parent, pg in zip(node._parents, contributions, strict=True):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.data.shape:
                    raise RuntimeError(
                        f"internal error: {node._op!r} produced a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.data.shape}"
                    )
                if pg.dtype != parent.data.dtype:
                    pg = pg.astype(parent.data.dtype)
                prev = pending.get(parent)
                if prev is None:
                    pending[parent] = pg
                    heappush(heap, (-parent._seq, parent))
                else:  # out of place: `prev` may be shared with another tensor's gradient
                    pending[parent] = prev + pg
            if not retain_graph:  # free the closure (and the arrays it holds) at once
                node._backward = release(node, fn)  # type: ignore[assignment]
                node._parents = ()

    def _accumulate_grad(self, g: Array) -> None:
        """The leaf's share of `backward()`: ``grad ← grad + g`` (the sum rule across calls).

        The one hook for leaves: a subclass may keep its gradient elsewhere (a `Parameter`
        flattened by `chainrule.fast.flatten_parameters` accumulates into its slice of one
        flat buffer) as long as ``.grad`` ends up holding the same numbers.
        """
        acc = g if self.grad is None else self.grad + g
        # Arithmetic on 0-d arrays gives NumPy scalars; `.grad` is always an ndarray.
        self.grad = acc if type(acc) is np.ndarray else np.asarray(acc)

    def zero_grad(self) -> None:
        """Clear the accumulated gradient."""
        self.grad = None

    # ------------------------------------------------------------------ operators
    # The math lives in ops.py; these are the spellings users expect.
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.power(self, exponent)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # Comparisons give plain boolean arrays: they have no derivative.
    def __lt__(self, other: Any) -> Array:
        return self.data < _raw(other)

    def __le__(self, other: Any) -> Array:
        return self.data <= _raw(other)

    def __gt__(self, other: Any) -> Array:
        return self.data > _raw(other)

    def __ge__(self, other: Any) -> Array:
        return self.data >= _raw(other)

    def __eq__(self, other: Any) -> Array:  # type: ignore[override]
        return self.data == _raw(other)

    def __ne__(self, other: Any) -> Array:  # type: ignore[override]
        return self.data != _raw(other)

    __hash__ = object.__hash__  # identity, so tensors can key dicts (optimizer state)

    # ------------------------------------------------------------------ methods
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self, None)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant tensor (dtype of `like` for Python numbers)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, int | float) and not isinstance(x, bool):
        return Tensor._make(np.asarray(x, dtype=like.data.dtype), (), None, "")
    return Tensor(x)


from chainrule.autograd import ops as _ops  # noqa: E402  (ops needs Tensor defined first)
