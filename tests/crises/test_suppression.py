from crises.suppression import Cell, suppress_breakdown, suppress_total


def test_counts_from_1_to_k_minus_1_are_hidden_and_zero_and_k_are_shown():
    assert suppress_total(0, 10) == Cell(0, False)
    assert suppress_total(1, 10) == Cell(None, True)
    assert suppress_total(9, 10) == Cell(None, True)
    assert suppress_total(10, 10) == Cell(10, False)


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it():
    cells = suppress_breakdown({"FJ": 40, "TO": 3, "WS": 25, "VU": 0}, 10)
    assert cells["TO"].suppressed and cells["WS"].suppressed
    assert cells["FJ"] == Cell(40, False)
    assert cells["VU"] == Cell(0, False)


def test_two_hidden_cells_need_no_more():
    cells = suppress_breakdown({"FJ": 40, "TO": 3, "WS": 2}, 10)
    assert [name for name, cell in cells.items() if cell.suppressed] == ["TO", "WS"]
