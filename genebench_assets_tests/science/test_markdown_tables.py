"""The one markdown-table renderer: GitHub pipe tables, cells as given."""

from genebench_assets.science.markdown_tables import markdown_table


def test_cells_are_rendered_as_given_without_padding_or_number_parsing():
    md = markdown_table(["model", "AUROC", "note"], [["pca_lr", "0.750", ""], ["lr", 1, None]])
    lines = md.splitlines()
    assert lines[0] == "| model | AUROC | note |"
    assert set(lines[1]) == {"|", "-"} and lines[1].count("|") == 4
    assert lines[2:] == ["| pca_lr | 0.750 |  |", "| lr | 1 | None |"]


def test_a_table_without_rows_is_its_header():
    assert markdown_table(["a", "b"], []).splitlines()[0] == "| a | b |"


def test_a_line_break_in_a_cell_keeps_the_row_on_one_line():
    assert markdown_table(["a"], [["x\ny"]]).splitlines()[2:] == ["| x y |"]
