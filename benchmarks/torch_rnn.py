"""PyTorch CPU reference of the same one-layer Elman model (``nn.RNN``), for bench_engine.py.

Only imported when torch is importable; torch is never a dependency of RNN Scope. Same
model, loss, optimizer (Adam) and global-norm clipping as the engine, the idiomatic PyTorch way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchElman(nn.Module):
    def __init__(self, task, n_in, hidden, n_out, *, embedding_size=None, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.task = task
        self.emb = nn.Embedding(n_in, embedding_size) if embedding_size else None
        self.rnn = nn.RNN(embedding_size or n_in, hidden, nonlinearity="tanh")  # time-major
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x, lengths):
        inp = self.emb(x) if self.emb is not None else x  # (T, B, F)
        hs, _ = self.rnn(inp)  # (T, B, H)
        if self.task == "classify_sequence":
            return self.head(hs[lengths - 1, torch.arange(hs.shape[1])])  # (B, C)
        return self.head(hs)  # (T, B, K)

    def loss(self, x, mask, y, lengths):
        out = self(x, lengths)
        if self.task == "classify_sequence":
            return nn.functional.cross_entropy(out, y)
        if self.task == "next_token":
            ce = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1),
                                             reduction="none")
            return (ce * mask.reshape(-1)).sum() / mask.sum()
        return (((out - y) ** 2).mean(-1) * mask).sum() / mask.sum()


class TorchTrainer:
    """Adam + clip_grad_norm_ over pre-converted batches."""

    def __init__(self, task, n_in, hidden, n_out, *, embedding_size=None, seed=0,
                 learning_rate=3e-3, clip_norm=5.0):
        torch.set_num_threads(1)
        self.model = TorchElman(task, n_in, hidden, n_out, embedding_size=embedding_size,
                                seed=seed)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=learning_rate)
        self.clip_norm = clip_norm
        self.task = task

    def tensors(self, x, mask, y, lengths):
        """NumPy batch -> torch tensors (done once, outside the timed loop)."""
        x = torch.from_numpy(np.ascontiguousarray(x))
        if x.dtype == torch.int32:
            x = x.long()
        y = torch.from_numpy(np.ascontiguousarray(y))
        if self.task != "forecast":
            y = y.long()
        return x, torch.from_numpy(np.ascontiguousarray(mask)), y, torch.from_numpy(lengths).long()

    def train_step(self, batch):
        self.opt.zero_grad(set_to_none=True)
        loss = self.model.loss(*batch)
        loss.backward()
        if self.clip_norm:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.opt.step()
        return loss.item()

    def loss(self, batch):
        with torch.no_grad():
            return float(self.model.loss(*batch))
