"""ONNX export of convolutional networks: Conv, MaxPool, AveragePool, GlobalAveragePool,
Flatten, BatchNormalization, checked against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import nn
from chainrule.autograd import no_grad

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule.onnx_export import check_with_onnxruntime, to_onnx  # noqa: E402


def _run(model: nn.Module, x: np.ndarray, input_shape=None) -> None:
    model.eval()
    proto = to_onnx(model, input_shape=input_shape)
    ops = {n.op_type for n in proto.graph.node}
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    with no_grad():
        expected = model(x).data
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    return ops


def test_image_cnn_matches_onnxruntime():
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=0),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), rng=1),
        nn.ReLU(),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dense(6, 10, rng=2),
    )
    model.train()
    model(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))  # running statistics
    x = rng.standard_normal((5, 1, 8, 8)).astype(np.float32)
    ops = _run(model, x)
    assert {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm"} <= ops
    # with fixed sizes the exporter checks itself on random inputs
    assert check_with_onnxruntime(to_onnx(model, input_shape=(1, 8, 8)), model) < 1e-4


def test_signal_cnn_with_same_padding_matches_onnxruntime():
    rng = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Conv1d(2, 5, 4, padding="same", rng=0),  # asymmetric: 1 before, 2 after
        nn.Tanh(),
        nn.Conv1d(5, 5, 5, stride=2, rng=1),
        nn.MaxPool1d(3, 2, 1),
        nn.AvgPool1d(2),
        nn.Flatten(),
        nn.Dense(20, 3, rng=2),
    )
    x = rng.standard_normal((4, 2, 40)).astype(np.float32)
    assert {"Conv", "MaxPool", "AveragePool"} <= _run(model, x, input_shape=(2, 40))


def test_unsupported_layers_are_named():
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.AdaptiveAvgPool1d(2))
    with pytest.raises(ValueError, match="size 1"):
        to_onnx(model)
    with pytest.raises(ValueError, match="input_shape"):
        to_onnx(nn.Sequential(nn.Conv1d(1, 2, 3)), input_shape=(2, 10))


def test_batch_norm_without_affine_exports_and_without_running_stats_is_refused():
    rng = np.random.default_rng(2)
    images = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0), nn.BatchNorm2d(3, affine=False), nn.Flatten())
    rows = nn.Sequential(nn.Dense(4, 6, rng=0), nn.BatchNorm(6, affine=False))
    for model, shape, op in ((images, (1, 4, 4), "BatchNormalization"), (rows, (4,), "Mul")):
        model.train()
        model(rng.standard_normal((16, *shape)).astype(np.float32))  # running statistics
        assert op in _run(model, rng.standard_normal((5, *shape)).astype(np.float32))
    model = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0), nn.BatchNorm2d(3, track_running_stats=False))
    with pytest.raises(ValueError, match="track_running_stats=False"):
        to_onnx(model)
