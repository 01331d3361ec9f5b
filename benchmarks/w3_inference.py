"""W3 inference: W1's network (784-256-128-10, float32) predicting the classes of 10,000 rows.

Every contender gets the same trained weights (copied from a chainrule model trained for one
epoch on W1's data, so the predictions can be compared) and predicts argmax of the logits:
chainrule's ``model(x)`` in evaluation mode under ``cr.no_grad()``, PyTorch eager under
``torch.inference_mode()`` (CPU, 2 threads), scikit-learn's MLPClassifier `predict` (weights
set through `coefs_` / `intercepts_`) and the minimal NumPy floor (2,048-row chunks).

    python benchmarks/w3_inference.py [--quick] [--repeats 9] [--json w3.json]

Prints the median time per prediction of all rows, in ms, and checks that all contenders
predict the same classes.
"""

from __future__ import annotations

import numpy as np

import harness as h
from minimal_numpy import MinimalMLP

SIZES = (784, 256, 128, 10)


def main() -> None:
    args = h.parser(__doc__.splitlines()[0]).parse_args()
    n = 10_000
    repeats = args.repeats or (5 if args.quick else 15)
    X_train, y_train = h.mnist_shaped(10_000 if args.quick else 60_000, seed=0)
    X, _ = h.mnist_shaped(n, seed=1)

    trained = h.ChainruleLoop(SIZES)
    trained.epoch(X_train, y_train, 128)
    dense = [m for m in trained.model if isinstance(m, h.cr.nn.Dense)]
    weights = [(d.weight.data.copy(), d.bias.data.copy()) for d in dense]  # (out, in), (out,)

    predictors = {}
    names = ["chainrule", h.TORCH, h.SKLEARN, h.MINIMAL]
    for name in h.selected(names, args.only):
        if name == "chainrule":
            model = h.chainrule_mlp(SIZES)
            model.load_state_dict(trained.model.state_dict())
            runner = h.ChainruleLoop.__new__(h.ChainruleLoop)
            runner.model = model
            predictors[name] = lambda runner=runner: runner.predict(X)
        elif name == h.TORCH:
            if h.load_torch() is None:
                print("torch not installed: skipped")
                continue
            runner = h.TorchLoop(SIZES)
            linears = [m for m in runner.model if isinstance(m, h.torch.nn.Linear)]
            with h.torch.no_grad():
                for lin, (W, b) in zip(linears, weights, strict=True):
                    lin.weight.copy_(h.torch.from_numpy(W))
                    lin.bias.copy_(h.torch.from_numpy(b))
            Xt = h.torch.from_numpy(X)
            predictors[name] = lambda runner=runner, Xt=Xt: runner.predict(Xt)
        elif name == h.SKLEARN:
            clf = h.sklearn_mlp(SIZES, 128, max_iter=1)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.partial_fit(X_train[:256], y_train[:256], classes=np.arange(SIZES[-1]))
            clf.coefs_ = [np.ascontiguousarray(W.T) for W, _ in weights]  # sklearn: (in, out)
            clf.intercepts_ = [b.copy() for _, b in weights]
            predictors[name] = lambda clf=clf: clf.predict(X)
        else:
            mm = MinimalMLP(SIZES)
            for Wm, bm, (W, b) in zip(mm.W, mm.b, weights, strict=True):
                Wm[...] = W.T
                bm[...] = b
            predictors[name] = lambda mm=mm: mm.predict(X)

    reference = None
    for name, predict in predictors.items():
        pred = np.asarray(predict())
        if reference is None:
            reference = pred
        agree = float(np.mean(pred == reference))
        print(f"{name}: predictions agree with {next(iter(predictors))} on {agree:.2%} of rows")

    times = h.timed_rounds(predictors, repeats, args.warmup, pause=0.1)
    rows = h.summarize(times)
    for row in rows.values():
        row["samples_per_s"] = n / row["median_s"]
    h.print_table(
        f"W3: predict {n:,} rows, 784-256-128-10 float32 (median of {repeats})",
        rows,
        unit="ms",
        extra=[("samples/s", "samples_per_s", ",.0f")],
    )
    h.write_json(
        args.json,
        {"workload": "W3", "n_samples": n, "sizes": SIZES, "repeats": repeats, "results": rows},
    )


if __name__ == "__main__":
    main()
