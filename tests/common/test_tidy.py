"""Tidy rows on disk (`ssl_kit.common.tidy`): a table reads back as it was written."""

from __future__ import annotations

from ssl_kit.common.tidy import read_rows, write_rows


def test_a_table_reads_back_as_written(tmp_path):
    rows = [
        {"cell": "a", "seed": 0, "metric": "knn_acc", "K": None, "value": 0.1 + 0.2},
        {"cell": "b", "seed": 2, "metric": "viewpoint", "K": 10, "value": None, "extra": "dropped"},
    ]
    path = write_rows(rows, tmp_path / "sub" / "t.csv", ("cell", "seed", "metric", "K", "value"))
    assert path.read_text().splitlines()[0] == "cell,seed,metric,K,value"
    back = read_rows(path)
    assert back == [{k: v for k, v in r.items() if k != "extra"} for r in rows]
    assert back[0]["value"] == 0.30000000000000004  # floats in full precision, not rounded


def test_number_columns_are_typed_and_others_left_as_text(tmp_path):
    path = write_rows(
        [{"model": "m", "K": 25, "value": 81.5, "step": 3}],
        tmp_path / "t.csv",
        ("model", "K", "value", "step"),
    )
    (row,) = read_rows(path)
    assert row == {"model": "m", "K": 25, "value": 81.5, "step": 3}
    assert type(row["K"]) is int and type(row["value"]) is float and type(row["model"]) is str


def test_tables_with_the_old_column_names_read_back_in_the_one_schema(tmp_path):
    old_measure = tmp_path / "measure.csv"
    old_measure.write_text("model,invariance,K,score\nmocov2,occlusion,25,52.5\n")
    assert read_rows(old_measure) == [{"model": "mocov2", "K": 25, "metric": "occlusion", "value": 52.5}]
    old_cosine = tmp_path / "cosine.csv"
    old_cosine.write_text("model,invariance,metric,score\nmocov2,viewpoint,cosine,0.25\n")
    assert read_rows(old_cosine) == [{"model": "mocov2", "metric": "viewpoint", "value": 0.25}]
