"""A small LSTM forecaster in PyTorch on the CPU: each window of the last `lookback` values
predicts the next one, and the forecast feeds its own predictions back in, one step at a time.

Each window is taken relative to its own mean (all windows divided by one spread), and the
network predicts the next value relative to that mean. An LSTM squashes through tanh, so on raw
values it cannot forecast past the highest level it was trained on; relative to a moving level,
a trend carries forward and the forecast starts where the series ended. Differencing would do
that too but doubles the noise the network sees, and a fitted line taken out misplaces the level
wherever the trend has bent. Across seasonal series with and without trend (airline passengers,
US retail sales, Peyton Manning's page views) window means forecast best of the three overall
and worst on none.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from engine.algorithms.base import require_fitted
from engine.errors import FieldProblem, ValidationError
from engine.forecasting.base import PointForecast, SeriesData, positive_scale

WEIGHTS_FILE = "lstm.pt"
STATE_FILE = "lstm.json"

_DEFAULTS: dict[str, Any] = {
    "hidden_size": 32,
    "num_layers": 1,
    "learning_rate": 0.01,
    "batch_size": 64,
    "dropout": 0.0,
}
_GRADIENT_STEPS = 600
"""Training budget when `epochs` is not given: a short series needs many passes over its few
windows, a long one few, and a fit takes about the same 1.5-2 s on one core either way."""
_AT_LEAST_ONE = ("lookback", "hidden_size", "num_layers", "epochs", "batch_size")


class _Network(nn.Module):
    def __init__(self, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        # nn.LSTM only drops out between layers, so a one-layer net gets it on its output.
        self.lstm = nn.LSTM(
            1,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(windows.unsqueeze(-1))
        last: torch.Tensor = self.dropout(output[:, -1, :])
        prediction: torch.Tensor = self.head(last)
        return prediction.squeeze(-1)


@contextmanager
def _torch_run(seed: int) -> Iterator[None]:
    """Seeded and single-threaded, leaving torch's global RNG and thread count as they were.

    One thread is also the fastest here: a net this small spends more time synchronising
    threads than computing, and a fixed thread count keeps the arithmetic reproducible."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


class LstmForecaster:
    name: ClassVar[str] = "lstm"
    task: ClassVar[str] = "forecasting"
    supports_regressors: ClassVar[bool] = False
    accepts_missing: ClassVar[bool] = False
    payload_files: ClassVar[tuple[str, ...]] = (STATE_FILE, WEIGHTS_FILE)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "lookback": int,
        "hidden_size": int,
        "num_layers": int,
        "epochs": int,
        "learning_rate": float,
        "batch_size": int,
        "dropout": float,
    }

    def __init__(self, random_state: int = 0, **hyperparameters: Any) -> None:
        problems = _problems({**_DEFAULTS, **hyperparameters})
        if problems:
            raise ValidationError(
                "Invalid hyperparameters for lstm: "
                + "; ".join(f"{p.field}: {p.problem}" for p in problems),
                problems,
            )
        self.random_state = random_state
        self.hyperparameters = hyperparameters
        self.network_: _Network | None = None
        self.state_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return {**self.hyperparameters, "random_state": self.random_state}

    def frozen_hyperparameters(self) -> dict[str, Any]:
        require_fitted(self, "network_")
        return {**self.hyperparameters, "lookback": self.state_["lookback"]}

    def _settings(self, n: int, season_length: int) -> dict[str, Any]:
        settings = {**_DEFAULTS, **self.hyperparameters}
        if n < 2:
            raise ValidationError.for_field(
                "series", f"lstm needs at least 2 observations to learn from, got {n}"
            )
        # At most half the series, so that at least as many windows as window steps remain to
        # learn from; a backtest fold, shorter than the series it was frozen on, shrinks it too.
        requested = settings.get("lookback")
        if requested is None:
            requested = max(14, 2 * season_length)
        settings["lookback"] = lookback = max(1, min(int(requested), n // 2))
        if "epochs" not in settings:
            batches = math.ceil((n - lookback) / settings["batch_size"])
            settings["epochs"] = math.ceil(_GRADIENT_STEPS / batches)
        return settings

    def fit(self, series: SeriesData) -> LstmForecaster:
        y = np.asarray(series.y, dtype=float)
        settings = self._settings(len(y), series.season_length)
        lookback = int(settings["lookback"])
        raw = np.lib.stride_tricks.sliding_window_view(y[:-1], lookback)
        levels = raw.mean(axis=1)
        spread = float((y[lookback:] - levels).std()) or 1.0
        windows = torch.tensor((raw - levels[:, None]) / spread, dtype=torch.float32)
        targets = torch.tensor((y[lookback:] - levels) / spread, dtype=torch.float32)
        with _torch_run(self.random_state):
            network = _Network(
                int(settings["hidden_size"]),
                int(settings["num_layers"]),
                float(settings["dropout"]),
            )
            loss = _train(network, windows, targets, settings, self.random_state)
            if not math.isfinite(loss):
                raise ValidationError.for_field(
                    "hyperparameters.lstm.learning_rate",
                    f"training diverged (loss {loss}); try a smaller learning rate",
                )
            network.eval()
            with torch.no_grad():
                errors = (network(windows) - targets).numpy().astype(float)
        self.network_ = network
        self.state_ = {
            "lookback": lookback,
            "hidden_size": int(settings["hidden_size"]),
            "num_layers": int(settings["num_layers"]),
            "dropout": float(settings["dropout"]),
            "epochs": int(settings["epochs"]),
            "spread": spread,
            "tail": [float(v) for v in y[-lookback:]],
            "residual_std": float(errors.std() * spread),
            "training_loss": loss,
            "series_std": float(y.std()),
        }
        return self

    def forecast(self, horizon: int, future_regressors: np.ndarray | None = None) -> PointForecast:
        require_fitted(self, "network_")
        assert self.network_ is not None
        state = self.state_
        values = list(state["tail"])
        lookback, spread = len(values), state["spread"]
        with _torch_run(self.random_state), torch.no_grad():
            for _ in range(horizon):
                window = np.asarray(values[-lookback:])
                level = window.mean()
                inputs = torch.tensor((window - level) / spread, dtype=torch.float32)
                values.append(level + spread * float(self.network_(inputs[None])[0]))
        mean = np.asarray(values[lookback:])
        # One-step in-sample error grown like a random walk's; the engine calibrates intervals
        # on backtest errors anyway, so only the shape over the horizon needs to be plausible.
        scale = state["residual_std"] * np.sqrt(np.arange(1, horizon + 1))
        floor = 1e-6 * (state["series_std"] or 1.0)
        return PointForecast(mean=mean, scale=positive_scale(scale, floor))

    def summary(self) -> dict[str, Any]:
        require_fitted(self, "network_")
        assert self.network_ is not None
        return {
            "lookback": self.state_["lookback"],
            "epochs": self.state_["epochs"],
            "final_training_loss": self.state_["training_loss"],
            "parameters": sum(p.numel() for p in self.network_.parameters()),
            "hidden_size": self.state_["hidden_size"],
            "num_layers": self.state_["num_layers"],
            "one_step_residual_std": self.state_["residual_std"],
        }

    def save(self, directory: Path) -> None:
        require_fitted(self, "network_")
        assert self.network_ is not None
        torch.save(self.network_.state_dict(), directory / WEIGHTS_FILE)
        (directory / STATE_FILE).write_text(json.dumps(self.state_), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> LstmForecaster:
        params = dict(params)
        model = cls(random_state=int(params.pop("random_state", 0)), **params)
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        network = _Network(state["hidden_size"], state["num_layers"], state["dropout"])
        network.load_state_dict(torch.load(directory / WEIGHTS_FILE, weights_only=True))
        network.eval()
        model.network_, model.state_ = network, state
        return model


def _train(
    network: _Network,
    windows: torch.Tensor,
    targets: torch.Tensor,
    settings: dict[str, Any],
    seed: int,
) -> float:
    """Adam on mean squared error over shuffled mini-batches; the last epoch's mean loss."""
    optimiser = torch.optim.Adam(network.parameters(), lr=float(settings["learning_rate"]))
    shuffle = torch.Generator().manual_seed(seed)
    batch_size = int(settings["batch_size"])
    network.train()
    epoch_loss = math.nan
    for _ in range(int(settings["epochs"])):
        order = torch.randperm(len(windows), generator=shuffle)
        total = 0.0
        for start in range(0, len(windows), batch_size):
            batch = order[start : start + batch_size]
            optimiser.zero_grad()
            loss = nn.functional.mse_loss(network(windows[batch]), targets[batch])
            torch.autograd.backward(loss)
            optimiser.step()
            total += loss.item() * len(batch)
        epoch_loss = total / len(windows)
    return epoch_loss


def _problems(settings: dict[str, Any]) -> list[FieldProblem]:
    problems = [
        FieldProblem(f"hyperparameters.lstm.{key}", f"must be at least 1, got {settings[key]!r}")
        for key in _AT_LEAST_ONE
        if key in settings and settings[key] < 1
    ]
    if not settings["learning_rate"] > 0:
        problems.append(
            FieldProblem("hyperparameters.lstm.learning_rate", "must be greater than 0")
        )
    if not 0 <= settings["dropout"] < 1:
        problems.append(FieldProblem("hyperparameters.lstm.dropout", "must be in [0, 1)"))
    return problems
