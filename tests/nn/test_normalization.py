"""BatchNorm against its formulas: batch statistics, running statistics, eval, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import BatchNorm, Dense, Sequential


@pytest.fixture
def batch(rng):
    return rng.normal(loc=3.0, scale=2.0, size=(8, 3))


def test_training_output_is_normalized_batch_scaled_and_shifted(batch):
    bn = BatchNorm(3, dtype=np.float64)
    bn.weight.data[:] = [1.0, 2.0, 0.5]
    bn.bias.data[:] = [0.0, -1.0, 3.0]
    out = bn(cr.Tensor(batch)).data
    mu, var = batch.mean(axis=0), batch.var(axis=0)  # biased variance normalizes
    expected = (batch - mu) / np.sqrt(var + 1e-5) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    plain = BatchNorm(3, dtype=np.float64)(cr.Tensor(batch)).data
    np.testing.assert_allclose(plain.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(plain.var(axis=0), 1, rtol=1e-4)


def test_running_statistics_follow_pytorchs_update(rng):
    m = 0.3
    bn = BatchNorm(2, momentum=m, dtype=np.float64)
    running_mean, running_var = np.zeros(2), np.ones(2)
    for _ in range(4):
        x = rng.normal(loc=[1.0, -2.0], scale=[0.5, 3.0], size=(10, 2))
        bn(cr.Tensor(x))
        running_mean = (1 - m) * running_mean + m * x.mean(axis=0)
        running_var = (1 - m) * running_var + m * x.var(axis=0, ddof=1)  # unbiased
    np.testing.assert_allclose(bn.running_mean, running_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, running_var, rtol=1e-12)
    state = bn.state_dict()
    np.testing.assert_array_equal(state["running_mean"], running_mean)
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    assert state["num_batches_tracked"] == 4 and state["num_batches_tracked"].dtype == np.int64


def test_momentum_none_is_the_cumulative_average_of_the_batch_statistics(rng):
    bn = BatchNorm(2, momentum=None, dtype=np.float64)
    batches = [rng.normal(loc=[1.0, -2.0], scale=[0.5, 3.0], size=(10, 2)) for _ in range(5)]
    for x in batches:
        bn(cr.Tensor(x))
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0))
    variances = [x.var(axis=0, ddof=1) for x in batches]
    np.testing.assert_allclose(bn.running_var, np.mean(variances, axis=0), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 5


def test_without_affine_the_output_is_x_hat_and_there_are_no_parameters(batch):
    bn = BatchNorm(3, dtype=np.float64, affine=False)
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []
    x = cr.Tensor(batch, requires_grad=True)
    out = bn(x)
    xhat = (batch - batch.mean(axis=0)) / np.sqrt(batch.var(axis=0) + 1e-5)
    np.testing.assert_allclose(out.data, xhat, rtol=1e-12)
    assert cr.grad_check(lambda t: (bn(t) * cr.Tensor(batch)).sum(), [x])
    bn.eval()
    assert cr.grad_check(lambda t: (bn(t) * cr.Tensor(batch)).sum(), [x])
    assert "affine=False" in repr(bn)


def test_without_running_stats_evaluation_uses_the_batch_statistics(batch):
    bn = BatchNorm(3, dtype=np.float64, track_running_stats=False)
    assert bn.running_mean is None and set(bn.state_dict()) == {"weight", "bias"}
    train_out = bn(cr.Tensor(batch)).data
    bn.eval()
    np.testing.assert_allclose(bn(cr.Tensor(batch)).data, train_out, rtol=1e-12)


def test_a_state_without_the_batch_counter_loads_as_pytorch_allows():
    bn = BatchNorm(3)
    state = {k: v for k, v in BatchNorm(3).state_dict().items() if k != "num_batches_tracked"}
    state["running_mean"] = np.full(3, 2.0, np.float32)
    assert bn.load_state_dict(state) == ([], [])
    np.testing.assert_array_equal(bn.running_mean, 2.0)
    with pytest.raises(ValueError, match="missing keys: running_var"):
        bn.load_state_dict({k: v for k, v in state.items() if k != "running_var"})


def test_eval_uses_running_statistics_and_does_not_update_them(batch):
    bn = BatchNorm(3, dtype=np.float64)
    bn.running_mean[:] = [1.0, 2.0, 3.0]
    bn.running_var[:] = [4.0, 0.25, 1.0]
    bn.weight.data[:] = [2.0, 1.0, -1.0]
    bn.bias.data[:] = 0.5
    assert bn.eval() is bn
    out = bn(cr.Tensor(batch)).data
    expected = (batch - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) * bn.weight.data + 0.5
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0, 3.0])
    single = bn(cr.Tensor(batch[:1])).data  # one sample is fine in evaluation
    np.testing.assert_allclose(single, expected[:1], rtol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(training, grads_match, batch, rng):
    bn = BatchNorm(3, dtype=np.float64).train(training)
    bn.weight.data[:] = rng.normal(size=3)
    bn.bias.data[:] = rng.normal(size=3)
    bn.running_mean[:] = rng.normal(size=3)
    bn.running_var[:] = rng.uniform(0.5, 2, size=3)
    x = cr.Tensor(batch, requires_grad=True)
    c = rng.normal(size=batch.shape)
    grads_match(lambda: (bn(x) * c).sum(), [x, bn.weight, bn.bias])


def test_fused_backward_equals_composed_ops(batch, rng):
    c = rng.normal(size=batch.shape)
    bn = BatchNorm(3, dtype=np.float64)
    bn.weight.data[:] = [0.5, 1.5, -2.0]
    x1 = cr.Tensor(batch, requires_grad=True)
    (bn(x1) * c).sum().backward()
    x2 = cr.Tensor(batch, requires_grad=True)
    gamma = cr.Tensor(bn.weight.data, requires_grad=True)
    beta = cr.Tensor(bn.bias.data, requires_grad=True)
    mu = x2.mean(axis=0)
    var = ((x2 - mu) ** 2).mean(axis=0)
    out = (x2 - mu) / (var + 1e-5).sqrt() * gamma + beta
    (out * c).sum().backward()
    np.testing.assert_allclose(x1.grad, x2.grad, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad, gamma.grad, rtol=1e-9)
    np.testing.assert_allclose(bn.bias.grad, beta.grad, rtol=1e-9)


def test_float32_and_skipped_input_gradient(batch):
    bn = BatchNorm(3)
    out = bn(cr.Tensor(batch.astype(np.float32)))
    assert out.dtype == np.float32 and bn.running_var.dtype == np.float32
    out.sum().backward()
    assert bn.weight.grad.dtype == np.float32


def test_in_a_network_state_round_trip(batch):
    model = Sequential(Dense(3, 4, rng=0), BatchNorm(4))
    for _ in range(3):
        model(cr.Tensor(batch.astype(np.float32)))
    clone = Sequential(Dense(3, 4, rng=1), BatchNorm(4))
    clone.load_state_dict(model.state_dict())
    x = cr.Tensor(batch[:2].astype(np.float32))
    np.testing.assert_array_equal(clone.eval()(x).data, model.eval()(x).data)


def test_input_checks():
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(cr.Tensor(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="more than one sample"):
        bn(cr.Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=0)
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)
    assert repr(bn) == "BatchNorm(3, momentum=0.1, eps=1e-05)  # 6 parameters"


def test_against_pytorch(batch, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = (
        BatchNorm(3, momentum=0.2, dtype=np.float64),
        torch.nn.BatchNorm1d(3, momentum=0.2),
    )
    theirs.double()
    c = rng.normal(size=batch.shape)
    x = cr.Tensor(batch, requires_grad=True)
    (ours(x) * c).sum().backward()
    tx = torch.tensor(batch, requires_grad=True)
    (theirs(tx) * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("cls", "shape"),
    [("BatchNorm1d", (4, 3, 7)), ("BatchNorm2d", (3, 3, 4, 5)), ("BatchNorm1d", (5, 3))],
)
def test_batchnorm_over_channels_equals_torch(cls, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = getattr(cr.nn, cls)(3, eps=1e-3, momentum=0.2, dtype=np.float64)
    ref = getattr(torch.nn, cls)(3, eps=1e-3, momentum=0.2).double()
    ours.weight.data[:] = rng.standard_normal(3)
    ours.bias.data[:] = rng.standard_normal(3)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ours.weight.data))
        ref.bias.copy_(torch.tensor(ours.bias.data))
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(ref, mode)()
        x = rng.standard_normal(shape)
        xt, rx = cr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, rout = ours(xt), ref(rx)
        np.testing.assert_allclose(out.data, rout.detach().numpy(), atol=1e-10)
        g = rng.standard_normal(shape)
        ours.zero_grad()
        out.backward(g)
        rout.backward(torch.tensor(g))
        np.testing.assert_allclose(xt.grad, rx.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.weight.grad, ref.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.bias.grad, ref.bias.grad.numpy(), atol=1e-10)
        ref.weight.grad = ref.bias.grad = None
        np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), atol=1e-12)


def test_batchnorm_over_channels_matches_finite_differences():
    rng = np.random.default_rng(1)
    bn = cr.nn.BatchNorm2d(2, dtype=np.float64)
    weights = rng.standard_normal((3, 2, 2, 3))
    result = cr.grad_check(lambda x: (bn(x) * weights).sum(), [rng.standard_normal((3, 2, 2, 3))])
    assert result, result.report()
    with pytest.raises(ValueError, match=r"BatchNorm2d expects input of shape \(N, 2, H, W\)"):
        bn(np.zeros((3, 2)))
    assert cr.nn.BatchNorm(2)(np.ones((2, 2, 5), np.float32)).shape == (2, 2, 5)
