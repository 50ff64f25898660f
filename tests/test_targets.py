"""Targets outside the config's grid are refused with the config key whose values they are
not in; the reload target with save_models off says to turn it on (dry runs)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "results/depth/epochs/layers~3_n~30_seed~0.parquet",
            "3 is not in config key 'depth.layers' [1, 5]",
        ),
        ("results/data/qwerties/n~0_seed~0.parquet", "0 is not in config key 'depth.n_per_cloud'"),
        (
            "results/unbalanced/classes/threshold~5_remedy~none_seed~0.parquet",
            "5 is not in config key 'unbalanced.thresholds' [4, 6]",
        ),
        (
            "results/noise/result/n~999_condition~original_seed~0.parquet",
            "999 is not in config key 'noise.sizes'",
        ),
        (
            "results/depth/reloaded/layers~1_n~30_seed~0.parquet",
            "reloading a saved model needs save_models: true",
        ),
    ],
)
def test_a_target_outside_the_grid_names_the_config_key(make_workflow, target, message):
    run = make_workflow().run("--dry-run", target, check=False)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
