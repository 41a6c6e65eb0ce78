"""Baseline files (CSV and YAML): exact rows; each error names file, line, column and value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from quantrail.risk.baseline import BaselineFileError, BaselineRow, load_baseline
from quantrail.vocab import Bucket

HEADER = "symbol,qty,bucket,prior_close\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def failure(path: Path) -> BaselineFileError:
    with pytest.raises(BaselineFileError) as caught:
        load_baseline(path)
    return caught.value


def test_csv_rows_keep_sign_bucket_and_exact_prior_close(tmp_path: Path) -> None:
    path = write(tmp_path, "acc.csv", HEADER + "PFA,2000,LT,25.10\nQQQ,-300,MM_PURE,50.005\n")
    assert load_baseline(path) == [
        BaselineRow("PFA", 2000, Bucket.LT, Decimal("25.10")),
        BaselineRow("QQQ", -300, Bucket.MM_PURE, Decimal("50.005")),
    ]
    assert str(load_baseline(path)[0].prior_close) == "25.10"  # trailing zero kept: exact


def test_csv_columns_may_come_in_any_order_and_cells_are_trimmed(tmp_path: Path) -> None:
    path = write(tmp_path, "acc.csv", "bucket,prior_close,symbol,qty\n LT , 9.5 , XOM , 0 \n")
    assert load_baseline(path) == [BaselineRow("XOM", 0, Bucket.LT, Decimal("9.5"))]


def test_yaml_rows_read_like_csv_rows(tmp_path: Path) -> None:
    text = (
        "- {symbol: PFA, qty: 2000, bucket: LT, prior_close: 25.10}\n"
        "- {symbol: QQQ, qty: -300, bucket: MM_PURE, prior_close: '50.005'}\n"
    )
    for name in ("acc.yaml", "acc.yml"):
        assert load_baseline(write(tmp_path, name, text)) == [
            BaselineRow("PFA", 2000, Bucket.LT, Decimal("25.1")),
            BaselineRow("QQQ", -300, Bucket.MM_PURE, Decimal("50.005")),
        ]


def test_an_empty_yaml_file_is_a_flat_book(tmp_path: Path) -> None:
    assert load_baseline(write(tmp_path, "acc.yaml", "")) == []


def test_missing_file_is_named(tmp_path: Path) -> None:
    error = failure(tmp_path / "nope.csv")
    assert (error.line, error.column) == (0, "<file>")
    assert "nope.csv" in str(error) and "not found" in str(error)


def test_missing_header_column_names_line_1_and_the_column(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "acc.csv", "symbol,qty,prior_close\nPFA,1,2\n"))
    assert (error.line, error.column) == (1, "bucket")
    assert "acc.csv, line 1, column 'bucket': missing column" in str(error)


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("PFA,1.5,LT,25", "qty", "1.5"),
        ("PFA,,LT,25", "qty", ""),
        ("PFA,100,SWING,25", "bucket", "SWING"),
        ("PFA,100,LT,abc", "prior_close", "abc"),
        ("PFA,100,LT,0", "prior_close", "0"),
        ("PFA,100,LT,-2.5", "prior_close", "-2.5"),
        ("PFA,100,LT,NaN", "prior_close", "NaN"),
        (",100,LT,25", "symbol", ""),
    ],
)
def test_a_bad_csv_cell_names_file_line_column_and_value(
    tmp_path: Path, row: str, column: str, value: str
) -> None:
    path = write(tmp_path, "acc.csv", HEADER + "OK,100,LT,10\n" + row + "\n")
    error = failure(path)
    assert (error.path, error.line, error.column, error.value) == (path, 3, column, value)
    assert f"acc.csv, line 3, column '{column}'" in str(error) and repr(value) in str(error)


def test_a_short_csv_row_names_the_missing_cell(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "acc.csv", HEADER + "PFA,100,LT\n"))
    assert (error.line, error.column, error.value) == (2, "prior_close", None)


def test_a_symbol_listed_twice_names_the_second_line(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "acc.csv", HEADER + "PFA,1,LT,2\nXOM,1,LT,2\nPFA,5,LT,2\n"))
    assert (error.line, error.column, error.value) == (4, "symbol", "PFA")
    assert "listed twice" in str(error)


def test_yaml_errors_name_the_row_number(tmp_path: Path) -> None:
    text = "- {symbol: PFA, qty: 1, bucket: LT, prior_close: 2}\n- {symbol: X, qty: lots}\n"
    error = failure(write(tmp_path, "acc.yaml", text))
    assert (error.line, error.column, error.value) == (2, "qty", "lots")


def test_yaml_that_is_not_a_list_of_mappings_is_refused(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "acc.yaml", "symbol: PFA\nqty: 1\n"))
    assert (error.line, error.column, error.value) == (1, "<root>", "dict")
    error = failure(
        write(tmp_path, "rows.yaml", "- {symbol: PFA, qty: 1, bucket: LT, prior_close: 2}\n- PFA\n")
    )
    assert (error.line, error.column, error.value) == (2, "<row>", "PFA")


def test_malformed_yaml_is_a_baseline_error_naming_the_file(tmp_path: Path) -> None:
    error = failure(write(tmp_path, "acc.yaml", "- {symbol: PFA, qty: [\n"))
    assert "acc.yaml" in str(error)
