"""The red-wine data (UCI wine quality): download, check, clean and z-score."""

# The downloaded CSV and the checked, z-scored table every wine experiment reads: the rules
# that write them and the recipes that read them take the paths from here.
WINE_CSV = "results/data/wine.csv"
WINE_DATA = "results/data/wine.parquet"


def wine_data_settings(config: dict) -> dict:
    """The settings the wine table is made with (recorded in it; every job that reads it
    checks them): the source's sha256, the cleaning bound and the z-scoring."""
    wine = config["wine"]
    return {
        "wine_sha256": wine["sha256"].lower(),
        "max_total_sulfur_dioxide": wine["max_total_sulfur_dioxide"],
        "zscore": wine["zscore"],
    }
