"""A training run for the crash-resume test, run in a subprocess.

    python resume_script.py MODE CHECKPOINT OUT EPOCHS [SLEEP]

MODE "full" trains without interruption; "checkpointed" writes a checkpoint after every epoch;
"resume" does too, continuing from the checkpoint. Each epoch ends with a pause of SLEEP
seconds (default 0), so that a test can kill the run midway. The final weights and history go
to OUT (a chainrule archive).
"""

from __future__ import annotations

import sys
import time

from trainkit import make_data

import chainrule as cr
from chainrule.optim.schedules import StepLR
from chainrule.saving.archive import write_archive


class Sleep(cr.callbacks.Callback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_epoch_end(self, trainer, epoch, logs):
        time.sleep(self.seconds)


def main(mode: str, checkpoint: str, out: str, epochs: int, sleep: float) -> None:
    X, y = make_data(90, d=4)
    cr.set_seed(0)
    model = cr.nn.Sequential(
        cr.nn.Dense(4, 16),
        cr.nn.ReLU(),
        cr.nn.Dropout(0.2),  # draws from the library generator
        cr.nn.Dense(16, 16),
        cr.nn.Tanh(),
        cr.nn.Dropout(0.1, rng=3),  # a generator of its own
        cr.nn.Dense(16, 2),
    )
    optimizer = cr.optim.Adam(model.parameters(), lr=0.01)
    callbacks = [
        cr.EarlyStopping(patience=1000),
        Sleep(sleep),
        cr.callbacks.CSVLogger(out + ".csv" if mode == "full" else checkpoint + ".csv"),
    ]
    if mode != "full":
        callbacks.append(cr.ModelCheckpoint(checkpoint))
    history = cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        optimizer,
        X,
        y,
        epochs=epochs,
        batch_size=16,
        validation_split=0.2,
        metrics=["accuracy"],
        scheduler=StepLR(optimizer, step_size=3, gamma=0.7),
        callbacks=callbacks,
        resume_from=checkpoint if mode == "resume" else None,
        progress=False,
    )
    arrays = {f"weight/{k}": v for k, v in model.state_dict().items()}
    write_archive(out, arrays, {"history": history.history})


if __name__ == "__main__":
    sleep = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sleep)
