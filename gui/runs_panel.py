"""The Runs dock: a sortable, filterable table of run folders, ticks to overlay their loss curves,
and the config diff of the selected runs (the facts come from gui.run_summaries)."""

from __future__ import annotations

from pathlib import Path

from PyQt5 import QtCore, QtGui, QtWidgets
from PyQt5.QtCore import Qt, pyqtSignal

from gui import dialogs
from engine.run_folder import append_command
from engine.run_reader import open_run
from gui.run_summaries import (COLUMNS, config_diff, delete_run, read_runs, rename_run, run_folders, set_note,
                               summary_row)

SORT_ROLE = Qt.UserRole + 1
FOLLOW_INTERVAL_MS = 500  # ticked runs still being written are read this often (new epochs within ~1 s)
STEERING = (("Pause", "pause"), ("Resume", "resume"), ("Stop", "stop"))


class RunsPanel(QtWidgets.QWidget):
    """Runs found in ``runs_dir`` plus folders opened by hand; ``sigCompareChanged`` when ticks change."""

    sigCompareChanged = pyqtSignal()
    sigMessage = pyqtSignal(str)  # for the window's status bar
    sigForkRequested = pyqtSignal(object)  # (run folder): the context menu's Fork…
    sigShowRequested = pyqtSignal(object)  # (run folder): the context menu's Show in main panels

    def __init__(self, runs_dir, parent=None):
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self._opened: list[Path] = []  # folders opened by hand, outside runs_dir
        self._readers: list = []
        self._read_cache: dict = {}  # folder -> (stamp, reader): refresh re-reads only changed folders
        self._filling = False
        self.notes: list[str] = []
        self.model = QtGui.QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # the filter text may match any column
        self._build_widgets()
        self.model.itemChanged.connect(self._on_item_changed)
        self.follow_timer = QtCore.QTimer(self)
        self.follow_timer.setInterval(FOLLOW_INTERVAL_MS)
        self.follow_timer.timeout.connect(self.follow)
        self.follow_timer.start()
        # Ticks are drawn on the next turn of the event loop, once however many changed (a click's own
        # handling, the overlay's new items and the repaint after them then fall in separate frames)
        self._compare_soon = QtCore.QTimer(self)
        self._compare_soon.setSingleShot(True)
        self._compare_soon.setInterval(0)
        self._compare_soon.timeout.connect(self._prepare_compared)
        self.refresh()

    def _build_widgets(self) -> None:
        self.filter_edit = QtWidgets.QLineEdit()
        self.filter_edit.setPlaceholderText("filter runs (any column)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_diff)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.diff = QtWidgets.QTableWidget()
        self.diff.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.diff_label = QtWidgets.QLabel("select two or more runs to see the settings that differ")
        self.diff_label.setWordWrap(True)  # a narrow dock wraps it instead of scrolling sideways
        buttons = QtWidgets.QHBoxLayout()
        for text, slot, tip in (("Refresh", self.refresh, "Read the runs folder again"),
                                ("Rename…", self.rename_selected, "Rename the selected run (once it has ended)"),
                                ("Note…", self.note_selected, "Add a note to the selected run"),
                                ("Delete…", self.delete_selected, "Delete the selected runs' folders (asks first)")):
            button = QtWidgets.QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, s=slot: s())
            buttons.addWidget(button)
        buttons.addStretch(1)
        # the steering buttons on a row of their own: one row of eight asked for 700 px, more than
        # the dock's column has on a 1600 px screen (its right part scrolled out of sight)
        steering = QtWidgets.QHBoxLayout()
        for text, command in STEERING:  # through the run's control.jsonl: works for any writer
            button = QtWidgets.QPushButton(text)
            button.setToolTip(f"{text} the selected run (also one trained by another process)")
            button.clicked.connect(lambda _c=False, c=command: self.steer(c))
            steering.addWidget(button)
        rate = QtWidgets.QPushButton("Rate…")
        rate.setToolTip("Change the learning rate of the selected run while it trains")
        rate.clicked.connect(lambda _c=False: self.ask_learning_rate())
        steering.addWidget(rate)
        steering.addStretch(1)
        splitter = QtWidgets.QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        diff_box = QtWidgets.QWidget()
        diff_layout = QtWidgets.QVBoxLayout(diff_box)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_layout.addWidget(self.diff_label)
        diff_layout.addWidget(self.diff)
        splitter.addWidget(diff_box)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter_edit)
        layout.addLayout(buttons)
        layout.addLayout(steering)
        layout.addWidget(splitter, 1)

    # ----- contents
    def set_runs_dir(self, runs_dir) -> None:
        self.runs_dir = Path(runs_dir)
        self.refresh()

    def add_folder(self, folder, *, tick: bool = False) -> None:
        """Show a run folder opened by hand (ticked: its curves overlaid); RunFolderError naming the
        file and the problem if it is not a readable run."""
        folder = Path(folder).resolve()
        open_run(folder)  # raises for a foreign or damaged folder
        if folder not in self._opened and folder.parent != self.runs_dir.resolve():
            self._opened.append(folder)
        self.refresh()
        if tick:
            for row in range(self.model.rowCount()):
                if self._reader_at(row).folder.resolve() == folder:
                    self.model.item(row, 0).setCheckState(Qt.Checked)

    def refresh(self) -> None:
        """Read every run again; ticks, the selection (and so the config diff) and the sort order stay."""
        ticked = {str(r.folder) for r in self.checked_runs()}
        selected = {str(r.folder) for r in self.selected_runs()}
        folders = run_folders(self.runs_dir) + [f for f in self._opened if f.is_dir()]
        self._readers, self.notes = read_runs(folders, self._read_cache)
        self._filling = True  # not blockSignals: the sort/filter proxy must see the rows change
        try:
            self.model.removeRows(0, self.model.rowCount())
            for index, reader in enumerate(self._readers):
                self.model.appendRow(self._row_items(index, reader, str(reader.folder) in ticked))
        finally:
            self._filling = False
        self._select_folders(selected)
        self.table.resizeColumnsToContents()
        if self.notes:
            self.sigMessage.emit(f"{len(self.notes)} folder(s) skipped: {self.notes[0]}")
        self._update_diff()
        self.sigCompareChanged.emit()

    def _row_items(self, index: int, reader, ticked: bool) -> list:
        items = []
        for column, (text, sort_value) in summary_row(reader).items():
            item = QtGui.QStandardItem(text)
            item.setData(sort_value, SORT_ROLE)
            item.setData(index, Qt.UserRole)
            item.setToolTip(str(reader.folder) if column == "name" else text)
            items.append(item)
        note = reader.meta.get("note")
        if note:
            items[0].setToolTip(f"{reader.folder}\n\n{note}")
        items[0].setCheckable(True)
        items[0].setCheckState(Qt.Checked if ticked else Qt.Unchecked)
        return items

    def runs(self) -> list:
        return list(self._readers)

    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return self.proxy.rowCount()

    def shown_names(self) -> list[str]:
        return [self.proxy.index(row, 0).data() for row in range(self.proxy.rowCount())]

    def _reader_at(self, source_row: int):
        return self._readers[self.model.item(source_row, 0).data(Qt.UserRole)]

    def checked_runs(self) -> list:
        return [self._reader_at(row) for row in range(self.model.rowCount())
                if self.model.item(row, 0).checkState() == Qt.Checked]

    def set_checked(self, name: str, checked: bool = True) -> None:
        for row in range(self.model.rowCount()):
            if self._reader_at(row).name == name:
                self.model.item(row, 0).setCheckState(Qt.Checked if checked else Qt.Unchecked)
                return
        raise KeyError(f"no run named {name!r}; runs: {[r.name for r in self._readers]}")

    def selected_runs(self) -> list:
        """The selected runs in the order the table shows them."""
        shown = sorted(self.table.selectionModel().selectedRows(), key=lambda index: index.row())
        return [self._reader_at(self.proxy.mapToSource(index).row()) for index in shown]

    def select(self, names) -> None:
        """Select the runs with these names (tests, and a run just opened)."""
        selection = QtCore.QItemSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() in names:
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, len(COLUMNS) - 1))
        self.table.selectionModel().select(selection, QtCore.QItemSelectionModel.ClearAndSelect)

    def _select_folders(self, folders: set) -> None:
        selection = QtCore.QItemSelection()
        for row in range(self.proxy.rowCount()):
            if str(self._reader_at(self.proxy.mapToSource(self.proxy.index(row, 0)).row()).folder) in folders:
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, len(COLUMNS) - 1))
        self.table.selectionModel().select(selection, QtCore.QItemSelectionModel.ClearAndSelect)

    def compared_curves(self) -> list:
        """[(name, epochs, train_losses, val_losses, markers, checkpoint_epochs)] of the ticked runs,
        for LossPlot.set_compared (markers from events.jsonl, labelled as the window labels its own)."""
        runs = self.checked_runs()
        out = []
        for reader, label in zip(runs, _labels(runs)):
            epochs, val = reader.curve("val_loss")
            _, train = reader.curve("train_loss")
            out.append((label, epochs, train, val, reader.markers(), reader.checkpoint_epochs()))
        return out

    def _prepare_compared(self) -> None:
        """Read one ticked run's curves per turn of the event loop (~4 ms for 1,000 epochs), then
        signal the overlay: a frame does one of them, not ten."""
        for reader in self.checked_runs():
            if not (reader.curve_ready("val_loss") and reader.curve_ready("train_loss")):
                reader.curve("val_loss")
                reader.curve("train_loss")
                self._compare_soon.start()
                return
        self.sigCompareChanged.emit()

    def _on_item_changed(self, item) -> None:
        if item.column() == 0 and not self._filling:
            self._compare_soon.start()

    # ----- following runs that another process writes
    def follow(self) -> bool:
        """Read what the ticked runs still being written appended; True if a curve grew."""
        grew = False
        for row in range(self.model.rowCount()):
            reader = self._reader_at(row)
            if self.model.item(row, 0).checkState() != Qt.Checked or not reader.status.is_active:
                continue
            try:
                reader.epochs  # a lazy reader of the table reads its metrics.csv once, then only what is new
                update = reader.poll()
            except (OSError, ValueError) as exc:  # a damaged run.json mid-write: keep the last good view
                self.sigMessage.emit(f"{reader.folder}: {exc}")
                continue
            if update:
                grew = True
                self._update_row(row, reader)
        if grew:
            self.sigCompareChanged.emit()
        return grew

    def _update_row(self, row: int, reader) -> None:
        self._filling = True
        try:
            for column, (text, sort_value) in enumerate(summary_row(reader).values()):
                item = self.model.item(row, column)
                item.setText(text)
                item.setData(sort_value, SORT_ROLE)
        finally:
            self._filling = False

    def steer(self, command: str, **fields) -> bool:
        """Append a command to the selected run's control.jsonl (only a run still being written reads it)."""
        reader = self._one_selected()
        if reader is None:
            return False
        if not reader.status.is_active:
            self.sigMessage.emit(f"{reader.name} has ended ({reader.status}); only a running run can be steered")
            return False
        append_command(reader.folder, command, **fields)
        what = f"{fields['name']} = {fields['value']}" if command == "set" else command
        self.sigMessage.emit(f"sent to {reader.name}: {what}")
        return True

    def ask_learning_rate(self) -> None:
        reader = self._one_selected()
        if reader is None:
            return
        current = (reader.epochs[-1].get("learning_rate") if reader.epochs else None) or 1e-3
        value, ok = QtWidgets.QInputDialog.getDouble(self, "Learning rate", f"New learning rate for {reader.name}:",
                                                     current, 1e-8, 10.0, 8)
        if ok:
            self.steer("set", name="learning_rate", value=value)

    def context_actions(self, reader) -> list:
        """(text, slot) of the table's context menu for one run."""
        return [("Show in main panels", lambda: self.sigShowRequested.emit(reader.folder)),
                ("Fork…", lambda: self.sigForkRequested.emit(reader.folder))]

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        reader = self._reader_at(self.proxy.mapToSource(index).row())
        menu = QtWidgets.QMenu(self)
        for text, slot in self.context_actions(reader):
            menu.addAction(text).triggered.connect(lambda _c=False, s=slot: s())
        menu.exec_(self.table.viewport().mapToGlobal(pos))
        menu.deleteLater()

    # ----- the config diff
    def _update_diff(self, *_args) -> None:
        runs = self.selected_runs()
        rows = config_diff(runs) if len(runs) > 1 else []
        self.diff.clear()
        self.diff.setColumnCount(len(runs) if len(runs) > 1 else 0)
        self.diff.setRowCount(len(rows))
        self.diff.setHorizontalHeaderLabels(_labels(runs))
        self.diff.setVerticalHeaderLabels([key for key, _ in rows])
        for i, (_, values) in enumerate(rows):
            for j, value in enumerate(values):
                self.diff.setItem(i, j, QtWidgets.QTableWidgetItem(str(value)))
        self.diff.resizeColumnsToContents()
        if len(runs) < 2:
            self.diff_label.setText("select two or more runs to see the settings that differ")
        else:
            same = "the selected runs have the same settings"
            self.diff_label.setText(f"{len(rows)} setting(s) differ" if rows else same)

    def diff_rows(self) -> list[tuple[str, list[str]]]:
        return [(self.diff.verticalHeaderItem(i).text(),
                 [self.diff.item(i, j).text() for j in range(self.diff.columnCount())])
                for i in range(self.diff.rowCount())]

    # ----- edits
    def _one_selected(self):
        runs = self.selected_runs()
        if len(runs) != 1:
            self.sigMessage.emit("select one run first")
            return None
        return runs[0]

    def rename_selected(self) -> None:
        reader = self._one_selected()
        if reader is None:
            return
        name, ok = QtWidgets.QInputDialog.getText(self, "Rename run", "Name:", text=reader.name)
        if ok:
            self._edit(rename_run, reader, name)

    def note_selected(self) -> None:
        reader = self._one_selected()
        if reader is None:
            return
        note, ok = QtWidgets.QInputDialog.getMultiLineText(self, "Note", f"Note for {reader.name}:",
                                                           str(reader.meta.get("note") or ""))
        if ok:
            self._edit(set_note, reader, note)

    def _edit(self, edit, reader, value) -> None:
        try:
            edit(reader, value)
        except (RuntimeError, ValueError, OSError) as exc:
            dialogs.show_error(self, "Cannot change the run", str(exc))
            return
        self.refresh()

    def delete_selected(self) -> None:
        runs = self.selected_runs()
        if not runs:
            self.sigMessage.emit("select the runs to delete first")
            return
        names = "\n".join(f"{r.name}  ({r.folder})" for r in runs)
        if not dialogs.confirm(self, "Delete runs?", f"Delete these run folders from the disk? This cannot be "
                                                     f"undone.\n\n{names}"):
            return
        for reader in runs:
            try:
                delete_run(reader)
            except (RuntimeError, ValueError, OSError) as exc:
                dialogs.show_error(self, "Cannot delete the run", str(exc))
        self._opened = [f for f in self._opened if f.is_dir()]
        self.refresh()


def _labels(runs) -> list[str]:
    """Run names, with the folder added where two runs share a name (same settings, another day)."""
    names = [r.name for r in runs]
    return [r.name if names.count(r.name) == 1 else f"{r.name} [{r.folder.name}]" for r in runs]
