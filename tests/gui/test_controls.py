"""The control tree: every row explains itself on hover."""
from PyQt5 import QtCore


def _all_params(param):
    for child in param.children():
        yield child
        yield from _all_params(child)


def _row(panel, param):
    (item,) = [i for i in param.items if i.treeWidget() is panel.tree]
    return item


def test_every_control_has_a_tip_on_its_row_not_only_in_its_editor(qtbot):
    from gui.controls import ControlPanel

    panel = ControlPanel()
    qtbot.addWidget(panel)
    params = list(_all_params(panel.params))
    assert len(params) > 15
    for param in params:
        tip = param.opts.get("tip")
        assert tip, f"control {param.name()!r} has no tooltip"
        item = _row(panel, param)
        # the name column is what the pointer is over when nothing is being edited
        assert item.toolTip(0) == tip, param.name()
        index = panel.tree.indexFromItem(item, 0)
        assert index.data(QtCore.Qt.ToolTipRole) == tip


def test_a_tip_that_changes_later_follows_to_the_row(qtbot, forecast_csv):
    from engine.data import load_sequences
    from gui.controls import ControlPanel

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(load_sequences(forecast_csv))
    file_param = panel._param("file")
    assert _row(panel, file_param).toolTip(0).endswith("sine.csv")
