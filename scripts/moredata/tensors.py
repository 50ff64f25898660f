"""Tables to training tensors: the train, dev and test rows of a data table (columns
..., label, split) as a replicate of the trainer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from moredata.training import Replicate, Split


def split_tensors(data: pd.DataFrame, columns: Sequence[str], split: str) -> tuple[Tensor, Tensor]:
    """Features ``columns`` (float32) and labels of the rows of one split."""
    rows = (data["split"] == split).to_numpy()
    x = torch.tensor(data.loc[rows, list(columns)].to_numpy(dtype=np.float32))
    return x, torch.tensor(data.loc[rows, "label"].to_numpy(dtype=np.int64))


def table_replicate(
    data: pd.DataFrame, columns: Sequence[str], model: nn.Sequential, shuffle_seed: int, name: str
) -> Replicate:
    """The replicate of a data table (columns ..., label, split): its train rows as
    ``columns`` and labels; its held-out sets, judged after every epoch, are the ``test``
    rows (whose final predictions it returns) and, when the table has a dev split, the
    ``dev`` rows (whose best epoch's parameters it keeps)."""
    x_train, y_train = split_tensors(data, columns, "train")
    held_out = {"test": Split(*split_tensors(data, columns, "test"))}
    has_dev = bool((data["split"] == "dev").any())
    if has_dev:
        held_out["dev"] = Split(*split_tensors(data, columns, "dev"))
    return Replicate(
        model=model,
        x_train=x_train,
        y_train=y_train,
        generator=torch.Generator().manual_seed(shuffle_seed),
        held_out=held_out,
        name=name,
        predict="test",
        keep_best="dev" if has_dev else None,
    )
