"""The reverse-mode automatic differentiation engine: `Tensor`, its ops, `no_grad`, `grad_check`."""

from chainrule.autograd import ops
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from chainrule.autograd.gradcheck import grad_check
from chainrule.autograd.tensor import Tensor, as_tensor

__all__ = ["Tensor", "as_tensor", "enable_grad", "grad_check", "is_grad_enabled", "no_grad", "ops"]
