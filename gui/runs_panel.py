"""The Runs dock: a sortable, filterable table of run folders, ticks to overlay their loss curves,
and the config diff of the selected runs (the facts come from gui.run_summaries).

The runs folder is listed when the dock is first shown, a few folders per turn of the event loop
(gui.run_listing), and a run that changes is read alone, its row updated in place: however many
run folders there are, the dock costs the GUI thread nothing at launch while it is hidden, and
one folder's read when the window's own run changes state.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from PyQt5 import QtCore, QtGui, QtWidgets
from PyQt5.QtCore import Qt, pyqtSignal

from gui import dialogs
from engine.run_folder import append_command
from engine.run_reader import open_run
from gui.run_listing import RunListing
from gui.run_summaries import COLUMNS, config_diff, delete_run, rename_run, set_note, summary_row

SORT_ROLE = Qt.UserRole + 1
FOLLOW_INTERVAL_MS = 500  # ticked runs still being written are read this often (new epochs within ~1 s)
READ_BUDGET_S = 0.008  # reading the runs folder: about this much per turn of the event loop (half a frame)
SIZED_ROWS = 50  # rows measured (besides those in view) when the columns are fitted to their contents
STEERING = (("Pause", "pause"), ("Resume", "resume"), ("Stop", "stop"))


class RunsPanel(QtWidgets.QWidget):
    """Runs found in ``runs_dir`` plus folders opened by hand; ``sigCompareChanged`` when ticks change."""

    sigCompareChanged = pyqtSignal()
    sigMessage = pyqtSignal(str)  # for the window's status bar
    sigForkRequested = pyqtSignal(object)  # (run folder): the context menu's Fork…
    sigShowRequested = pyqtSignal(object)  # (run folder): the context menu's Show in main panels

    def __init__(self, runs_dir, parent=None):
        super().__init__(parent)
        self.listing = RunListing(runs_dir)
        self._rows: dict[Path, QtGui.QStandardItem] = {}  # folder -> the first item of its row
        self._dock = None  # the dock it lives in, if any (read_when_in_view)
        self._filling = False
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
        self._read_soon = QtCore.QTimer(self)  # the next few folders of the runs folder, next turn
        self._read_soon.setSingleShot(True)
        self._read_soon.setInterval(0)
        self._read_soon.timeout.connect(self._read_more)

    @property
    def runs_dir(self) -> Path:
        return self.listing.runs_dir

    @property
    def notes(self) -> list[str]:
        """One line per folder skipped (damaged, foreign)."""
        return self.listing.notes()

    def read_when_in_view(self, dock: QtWidgets.QDockWidget) -> None:
        """Read the runs folder when this dock first comes into view (its ``visibilityChanged``: a tab
        behind another one is "visible" to Qt, but not in view), not when the panel is shown."""
        self._dock = dock
        dock.visibilityChanged.connect(self.in_view)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._dock is None:  # on its own (tools, tests): shown is in view
            self.in_view(True)

    def in_view(self, shown: bool = True) -> None:
        """The first time the panel comes into view the runs folder is read, a few folders per frame."""
        if shown and not self.listing.listed:
            self._start_listing()

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
        # column widths from the rows in view and SIZED_ROWS more, not all: 500 rows took 100 ms in one frame
        self.table.horizontalHeader().setResizeContentsPrecision(SIZED_ROWS)
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
        listed = self.listing.listed
        self._apply(self.listing.set_runs_dir(runs_dir))
        if listed:  # in view before: read the new one now (else when it comes into view)
            self._start_listing()

    def add_folder(self, folder, *, tick: bool = False) -> None:
        """Show a run folder opened by hand (ticked: its curves overlaid); RunFolderError naming the
        file and the problem if it is not a readable run. Only this folder is read now."""
        open_run(folder, lazy=True)  # raises for a foreign or damaged folder
        key = self.listing.open_by_hand(folder)
        self.listing.read(key)  # (unchanged since an earlier read: nothing read)
        self._apply([key])
        if tick and key in self._rows:
            self._rows[key].setCheckState(Qt.Checked)

    def refresh(self) -> None:
        """Read every run again, a few per turn of the event loop (only the changed ones are opened);
        ticks, the selection (and so the config diff) and the sort order stay."""
        self._start_listing(again=True)

    def update_folder(self, folder) -> None:
        """One run folder changed (the window's own run started or ended): its row alone is read
        again; the runs folder is looked at once (a folder that appeared or went) and a new one is
        read on the next turns. Nothing while the runs folder was never listed (the dock never shown)."""
        if folder is None or not self.listing.listed:
            return
        self._apply(self.listing.scan_if_changed())
        key = self.listing.key(folder)
        if self.listing.read(key):
            self._apply([key])
            note = self.listing.note(key)
            if note:
                self.sigMessage.emit(note)
        if self.listing.pending:
            self._read_soon.start()

    def _start_listing(self, *, again: bool = False) -> None:
        self._apply(self.listing.scan(again=again))
        self._read_more()

    def _read_more(self) -> None:
        """Read the runs folder's next folders and show their rows for about READ_BUDGET_S (one folder
        at least); the rest on the next turns. The budget covers the rows too: they cost as much as the reads."""
        deadline = time.perf_counter() + READ_BUDGET_S
        self._apply(self.listing.read_some(0.0))
        while self.listing.pending and time.perf_counter() < deadline:
            self._apply(self.listing.read_some(0.0))
        if self.listing.pending:
            self._read_soon.start()
        else:
            self._listing_done()

    def _listing_done(self) -> None:
        self.table.resizeColumnsToContents()
        notes = self.notes
        if notes:
            self.sigMessage.emit(f"{len(notes)} folder(s) skipped: {notes[0]}")

    def _list_all_now(self) -> None:
        """Finish reading the runs folder at once (callers that ask for every run by name: tests, tools)."""
        if not self.listing.listed:
            self._apply(self.listing.scan())
        if self.listing.pending:
            self._read_soon.stop()
            self._apply(self.listing.read_some(math.inf))
            self._listing_done()

    def _apply(self, folders) -> None:
        """Bring the rows of these folders in line with the listing: added, updated in place, removed."""
        if not folders:
            return
        selected = {self.model.item(self.proxy.mapToSource(index).row(), 0).data(Qt.UserRole)
                    for index in self.table.selectionModel().selectedRows()}
        compared = False
        self._filling = True  # not blockSignals: the sort/filter proxy must see the rows change
        try:
            for folder in folders:
                item, reader = self._rows.get(folder), self.listing.reader(folder)
                compared = compared or (item is not None and item.checkState() == Qt.Checked)
                if reader is None:
                    if item is not None:
                        self.model.removeRow(self._rows.pop(folder).row())
                elif item is None:
                    items = self._row_items(folder, reader)
                    self.model.appendRow(items)
                    self._rows[folder] = items[0]
                else:
                    self._set_row(item.row(), reader)
        finally:
            self._filling = False
        if selected & set(folders):
            self._update_diff()
        if compared:
            self._compare_soon.start()

    def _row_items(self, folder: Path, reader) -> list:
        items = [QtGui.QStandardItem() for _ in COLUMNS]
        items[0].setData(folder, Qt.UserRole)
        items[0].setCheckable(True)
        items[0].setCheckState(Qt.Unchecked)
        self._fill_row(items, reader)
        return items

    def _fill_row(self, items, reader) -> None:
        for item, (column, (text, sort_value)) in zip(items, summary_row(reader).items()):
            item.setText(text)
            item.setData(sort_value, SORT_ROLE)
            item.setToolTip(str(reader.folder) if column == "name" else text)
        note = reader.meta.get("note")
        if note:
            items[0].setToolTip(f"{reader.folder}\n\n{note}")

    def _set_row(self, row: int, reader) -> None:
        filling, self._filling = self._filling, True
        try:
            self._fill_row([self.model.item(row, column) for column in range(len(COLUMNS))], reader)
        finally:
            self._filling = filling

    def runs(self) -> list:
        """Every listed run (the runs folder is read to the end first)."""
        self._list_all_now()
        return self.listing.readers()

    def row_count(self) -> int:
        """Rows shown (after the filter), the runs folder read to the end first."""
        self._list_all_now()
        return self.proxy.rowCount()

    def shown_names(self) -> list[str]:
        self._list_all_now()
        return [self.proxy.index(row, 0).data() for row in range(self.proxy.rowCount())]

    def _reader_at(self, source_row: int):
        return self.listing.reader(self.model.item(source_row, 0).data(Qt.UserRole))

    def checked_runs(self) -> list:
        return [self._reader_at(row) for row in range(self.model.rowCount())
                if self.model.item(row, 0).checkState() == Qt.Checked]

    def set_checked(self, name: str, checked: bool = True) -> None:
        self._list_all_now()
        for row in range(self.model.rowCount()):
            if self._reader_at(row).name == name:
                self.model.item(row, 0).setCheckState(Qt.Checked if checked else Qt.Unchecked)
                return
        raise KeyError(f"no run named {name!r}; runs: {[r.name for r in self.listing.readers()]}")

    def selected_runs(self) -> list:
        """The selected runs in the order the table shows them."""
        shown = sorted(self.table.selectionModel().selectedRows(), key=lambda index: index.row())
        return [self._reader_at(self.proxy.mapToSource(index).row()) for index in shown]

    def select(self, names) -> None:
        """Select the runs with these names (tests, and a run just opened)."""
        self._list_all_now()
        selection = QtCore.QItemSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() in names:
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
            if self.model.item(row, 0).checkState() != Qt.Checked:
                continue
            reader = self._reader_at(row)
            if not reader.status.is_active:
                continue
            try:
                reader.epochs  # a lazy reader of the table reads its metrics.csv once, then only what is new
                update = reader.poll()
            except (OSError, ValueError) as exc:  # a damaged run.json mid-write: keep the last good view
                self.sigMessage.emit(f"{reader.folder}: {exc}")
                continue
            if update:
                grew = True
                self._set_row(row, reader)
        if grew:
            self.sigCompareChanged.emit()
        return grew

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
        self.update_folder(reader.folder)

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
            self.listing.read(reader.folder)  # gone: no longer listed
        self._apply([self.listing.key(r.folder) for r in runs])


def _labels(runs) -> list[str]:
    """Run names, with the folder added where two runs share a name (same settings, another day)."""
    names = [r.name for r in runs]
    return [r.name if names.count(r.name) == 1 else f"{r.name} [{r.folder.name}]" for r in runs]
