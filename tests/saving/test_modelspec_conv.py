"""Convolutional networks in model files (cr.save / cr.load) and PyTorch state dicts."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.saving.archive import read_archive, write_archive
from chainrule.saving.modelspec import network_io


def cnn(dtype=np.float64) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, dtype=dtype, rng=0),
        nn.BatchNorm2d(4, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(
            4,
            6,
            (3, 2),
            stride=(1, 2),
            padding="same" if False else 1,
            dilation=1,
            bias=False,
            dtype=dtype,
            rng=1,
        ),
        nn.ReLU(),
        nn.AvgPool2d(2, count_include_pad=False, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dense(6, 3, dtype=dtype, rng=2),
    )


def signal_net(dtype=np.float64) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(2, 5, 5, stride=2, dtype=dtype, rng=3),
        nn.BatchNorm1d(5, dtype=dtype),
        nn.ReLU(),
        nn.Conv1d(5, 4, 3, padding="same", dilation=2, dtype=dtype, rng=4),
        nn.MaxPool1d(3, 2, 1),
        nn.AvgPool1d(2),
        nn.AdaptiveAvgPool1d(2),
        nn.Flatten(),
        nn.Dense(8, 2, dtype=dtype, rng=5),
    )


@pytest.mark.parametrize(("build", "shape"), [(cnn, (5, 1, 8, 8)), (signal_net, (4, 2, 40))])
def test_save_load_round_trip(tmp_path, build, shape):
    model = build()
    x = np.random.default_rng(0).standard_normal(shape)
    model.train()
    model(x)  # move the running statistics away from their start
    model.eval()
    expected = model(x).data
    cr.save(model, tmp_path / "m.crm")
    loaded = cr.load(tmp_path / "m.crm")
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.eval()(x).data, expected)
    with zipfile.ZipFile(tmp_path / "m.crm") as z:  # no pickle: JSON and arrays
        assert not any(name.endswith((".pkl", ".pickle")) for name in z.namelist())


def test_network_io_of_a_convolutional_network():
    assert network_io(cnn()) == (None, 3)
    assert network_io(nn.Sequential(nn.Dense(4, 3), nn.ReLU())) == (4, 3)


@pytest.mark.parametrize(
    ("layer", "key", "value"),
    [
        (0, "kernel_size", [3, 3, 3]),
        (4, "stride", [0, 1]),
        (3, "padding", [-1, 0]),
        (7, "output_size", [0, 1]),
    ],
)
def test_a_damaged_record_is_refused(tmp_path, layer, key, value):
    cr.save(cnn(), tmp_path / "m.crm")
    arrays, meta = read_archive(tmp_path / "m.crm")
    meta["network"]["layers"][layer][key] = value
    write_archive(tmp_path / "bad.crm", arrays, meta)
    with pytest.raises(cr.ModelFileError, match=key):
        cr.load(tmp_path / "bad.crm")


@pytest.mark.parametrize(("build", "shape"), [(cnn, (5, 1, 8, 8)), (signal_net, (4, 2, 40))])
def test_torch_state_dict_loads_into_the_same_architecture(build, shape):
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    if build is cnn:
        ref = tnn.Sequential(
            tnn.Conv2d(1, 4, 3, padding=1),
            tnn.BatchNorm2d(4),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=1, bias=False),
            tnn.ReLU(),
            tnn.AvgPool2d(2, count_include_pad=False, padding=1),
            tnn.AdaptiveAvgPool2d(1),
            tnn.Flatten(),
            tnn.Linear(6, 3),
        )
    else:
        ref = tnn.Sequential(
            tnn.Conv1d(2, 5, 5, stride=2),
            tnn.BatchNorm1d(5),
            tnn.ReLU(),
            tnn.Conv1d(5, 4, 3, padding="same", dilation=2),
            tnn.MaxPool1d(3, 2, 1),
            tnn.AvgPool1d(2),
            tnn.AdaptiveAvgPool1d(2),
            tnn.Flatten(),
            tnn.Linear(8, 2),
        )
    ref = ref.double()
    x = np.random.default_rng(1).standard_normal(shape)
    ref.train()
    ref(torch.tensor(x))  # running statistics
    ref.eval()
    state = {k: v.numpy() for k, v in ref.state_dict().items()}  # num_batches_tracked too
    model = build()
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in state.items()
    }
    model.load_state_dict(state)
    model.eval()
    np.testing.assert_allclose(model(x).data, ref(torch.tensor(x)).detach().numpy(), atol=1e-10)
