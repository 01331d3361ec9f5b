"""Step-by-step agreement with ``torch.optim`` (skipped when PyTorch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.parameter import Parameter
from chainrule.optim import SGD, Adam, AdamW, RMSprop
from chainrule.optim import schedules as cr_schedules

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-4}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"weight_decay": 0.1}),
    ("RMSprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.3}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]
OURS = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}


def compare(name, kwargs, groups_lr=None, n_steps=30):
    """Run our optimizer and torch's on the same gradients; compare the weights every step."""
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (4,)]
    w0 = [rng.normal(size=s) for s in shapes]
    ours = [Parameter(w.copy()) for w in w0]
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    if groups_lr is None:
        opt, topt = OURS[name](ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    else:
        opt = OURS[name](
            [{"params": [p], "lr": lr} for p, lr in zip(ours, groups_lr, strict=True)], **kwargs
        )
        topt = getattr(torch.optim, name)(
            [{"params": [p], "lr": lr} for p, lr in zip(theirs, groups_lr, strict=True)], **kwargs
        )
    for step in range(n_steps):
        scale = 10.0 ** rng.integers(-3, 2)  # gradients of changing size
        for p, q in zip(ours, theirs, strict=True):
            g = rng.normal(size=p.shape) * scale
            p.grad = g
            q.grad = torch.tensor(g.copy())
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(
                p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step + 1}"
            )


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch_step_by_step(name, kwargs):
    compare(name, kwargs)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW"])
def test_param_groups_with_different_lr_match_torch(name):
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    compare(name, {"lr": 0.1, **kwargs}, groups_lr=[0.05, 0.002], n_steps=10)


def schedule_lrs(schedule, n_epochs, metrics=None):
    out = [schedule.get_last_lr()[0]]
    for e in range(n_epochs - 1):
        if metrics is None:
            schedule.step()
        else:
            schedule.step(metrics[e])
        out.append(schedule.get_last_lr()[0])
    return out


METRICS = [5.0, 4.0, 4.0, 4.0, 3.99995, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 2.0, 2.0, 2.0, 2.0]


# torch warns when a schedule steps without optimizer steps; these tests only read the rates
@pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")
@pytest.mark.parametrize(
    ("cls", "kwargs", "metrics"),
    [
        ("StepLR", {"step_size": 3, "gamma": 0.5}, None),
        ("ExponentialLR", {"gamma": 0.8}, None),
        ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}, None),
        ("ReduceLROnPlateau", {"factor": 0.5, "patience": 1}, METRICS),
        ("ReduceLROnPlateau", {"patience": 2, "cooldown": 2, "min_lr": 0.02}, METRICS),
        (
            "ReduceLROnPlateau",
            {"mode": "max", "threshold": 0.1, "threshold_mode": "abs", "patience": 0},
            METRICS,
        ),
    ],
)
def test_schedules_match_torch(cls, kwargs, metrics):
    ours = getattr(cr_schedules, cls)(SGD([Parameter(np.zeros(1))], lr=0.3), **kwargs)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    theirs = getattr(torch.optim.lr_scheduler, cls)(topt, **kwargs)
    n = 15
    np.testing.assert_allclose(
        schedule_lrs(ours, n, metrics), schedule_lrs(theirs, n, metrics), rtol=1e-12
    )
