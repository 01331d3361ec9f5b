"""Every fast path of chainrule, and the plain code each one must equal.

The rest of the library is written to be read: `autograd` is the chain rule, `nn` the layers as
the lecture writes them, `optim` the update rules with m̂, v̂ and ε in sight. What makes small
networks fast lives here, each piece naming the plain code it replaces and tested to give the
same numbers on random inputs (``tests/fast/``):

=====================  ==============================================  =========================
fast path              must equal                                      where it is switched on
=====================  ==============================================  =========================
`flat` buffers         ``grad ← grad + g`` (`Tensor._accumulate_grad`)  `flatten_parameters`
                       and the per-parameter optimizer loop            (estimators, benchmarks)
`groups`: one update   ``for p in group: rule(p.data, p.grad, ...)``   `Optimizer.step`, when a
per parameter group    (`Optimizer.step`'s loop)                       group is flat
`dense_chain`          ``for m in seq: x = m(x)`` over Dense and       first lines of
                       ReLU/tanh/sigmoid/identity (`nn.functional`)    `Sequential.forward`
`train_step`: a step   ``E = loss(model(x), y) + penalties;``          the training loop, via
without a graph        ``E.backward()`` (same E, same ``p.grad``)      `training.fused`
`updates`: in-place    the optimizers' plain rules (`optim.sgd.sgd_rule`,  each optimizer's
optimizer steps        `optim.adam.adam_rule`, `optim.rmsprop.rmsprop_rule`) `_update`
`kernels`: compiled    the NumPy code of `updates`, `dense_chain` and      numba installed (extra
one-pass kernels       `nn.losses.cross_entropy`                       ``[fast]``), unless
                                                                       ``CHAINRULE_NO_NUMBA=1``
`conv_kernels`:        the data movement of `nn.conv_ops.conv` (im2col,  as `kernels`, loaded
compiled im2col,       col2im, layouts) and `nn.pool_ops.max_pool`     after ~1 s of NumPy
col2im, max pooling    (exactly: same numbers)                         convolution training
=====================  ==============================================  =========================

The fused softmax cross-entropy (`chainrule.nn.losses.cross_entropy`) is a primitive with its
own derivative, listed in the table of local derivatives (`chainrule.autograd.derivatives`).

Layering: this package depends on `autograd` and NumPy only; `nn` and `optim` call into it, it
calls into neither. `Tensor` knows nothing of it: `Parameter._accumulate_grad`, the leaf hook,
hands over to `flat.accumulate_in_buffer` when the parameter has a gradient buffer.
"""

from chainrule.fast.dense_chain import dense_chain, plan_chain
from chainrule.fast.flat import FlatBuffer, flatten_parameters, grad_destination
from chainrule.fast.groups import FlatGroup, contiguous_view, find_flat_group

__all__ = [
    "FlatBuffer",
    "FlatGroup",
    "contiguous_view",
    "dense_chain",
    "find_flat_group",
    "flatten_parameters",
    "grad_destination",
    "plan_chain",
]
