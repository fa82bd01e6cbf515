"""The polars cell reader gives read_counts_csv what pandas.read_csv gave it (same dtypes, values and
kept strings) on the shapes GeneLab files and their faults take."""

from __future__ import annotations

import pandas as pd
import pytest

from genebench_assets.science.osdr.polars_csv import read_csv_cells

CASES = {
    "integers": ",S1,S2\nENSMUSG01,1,2\nENSMUSG02,0,7\n",
    "rsem_decimals": ",S1,S2\nENSMUSG01,1.50,2.00\nENSMUSG02,0.00,1e3\n",
    "bom_and_crlf": "\ufeffgene_id,S1\r\nG1,3\r\nG2,4\r\n",
    "blank_lines": "gene_id,S1,S2\nG1,1,2\n\nG2,3,4\n\n",
    "empty_cell": ",S1,S2\nG1,,2\nG2,3,4\n",
    "na_text": ",S1,S2\nG1,NA,2\nG2,3,4\n",
    "non_numeric": ",S1,S2\nG1,12a,2\nG2,3,4\n",
    "padded": ",S1,S2\nG1, 12,2\nG2,3 ,4\n",
    "negative_and_inf": ",S1,S2\nG1,-5,inf\nG2,3,4.5\n",
    "quoted_ids": ',S1\n"G1,a",1\n"G2",2\n',
}


def pandas_cells(path):
    return pd.read_csv(path, header=0, dtype={0: str}, keep_default_na=False, na_values=[], encoding="utf-8-sig",
                       low_memory=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_cells_as_pandas(tmp_path, case):
    path = tmp_path / "counts.csv"
    path.write_bytes(CASES[case].encode("utf-8"))
    got, want = read_csv_cells(path), pandas_cells(path)
    assert got.shape == want.shape
    assert list(got.columns[1:]) == list(want.columns[1:])
    for j in range(got.shape[1]):
        g, w = got.iloc[:, j], want.iloc[:, j]
        if w.dtype == object:
            # pandas keeps a non-numeric column as text; so does the polars reader (whitespace aside,
            # which read_counts_csv strips before converting).
            assert g.dtype == object and [str(x).strip() for x in g] == [str(x).strip() for x in w]
        else:
            assert g.dtype == w.dtype, (j, g.dtype, w.dtype)
            assert g.tolist() == w.tolist()


def test_malformed_file_is_a_value_error(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(',S1\n"G1,1\n')
    with pytest.raises(ValueError):
        read_csv_cells(path)
