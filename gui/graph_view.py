"""GraphView (the Graph dock): the compiled training step as PyTensor prints it, searchable.

The text and the op counts come from ``engine.graph_text`` (printed on the worker thread once a
run has compiled, sent by ``TrainingWorker.sigGraph``). The find box highlights every match and
Enter / Next / Previous walk through them; clicking an op type in the count table finds it.
A new run (``begin_run``) says it is compiling until its own graph arrives; a graph of an
earlier run that is still queued is dropped.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

MAX_HIGHLIGHTS = 5000  # matches painted at once (all are still found by Next / Previous)
HIGHLIGHT = QtGui.QColor(250, 210, 60)
CURRENT = QtGui.QColor(255, 140, 0)


class GraphView(QtWidgets.QWidget):
    """The Graph dock (see the module docstring)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = QtWidgets.QLabel("no model compiled yet: the training step's graph appears after its "
                                       "first epoch")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.find_edit = QtWidgets.QLineEdit()
        self.find_edit.setPlaceholderText("Find in the graph (e.g. Scan, Dot, Composite, U1)")
        self.find_edit.setClearButtonEnabled(True)
        self.prev_button = QtWidgets.QPushButton("Previous")
        self.next_button = QtWidgets.QPushButton("Next")
        self.match_label = QtWidgets.QLabel("")
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.find_edit, 1)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.match_label)

        self.counts = QtWidgets.QTableWidget(0, 3)
        self.counts.setHorizontalHeaderLabels(["op type", "graph", "in scans"])
        self.counts.verticalHeader().hide()
        self.counts.setMinimumWidth(290)  # the op type and both counts, without a horizontal scroll
        self.counts.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.counts.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.counts.setToolTip("Ops by type in the compiled graph and inside its scans' inner graphs; "
                               "click one to find it in the text")
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.text.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        splitter = QtWidgets.QSplitter(QtCore.Qt.Horizontal)
        splitter.addWidget(self.counts)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 700])

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self.graph = None
        self._run_id = None
        self.find_edit.textChanged.connect(self._on_query)
        self.find_edit.returnPressed.connect(self.find_next)
        self.next_button.clicked.connect(self.find_next)
        self.prev_button.clicked.connect(self.find_previous)
        self.counts.cellClicked.connect(lambda row, _col: self.find_edit.setText(self.counts.item(row, 0).text()))

    # ----- runs
    def begin_run(self, run_id: int) -> None:
        """A new run was asked for: its graph replaces the shown one once it has compiled."""
        self._run_id = int(run_id)
        if self.graph is not None:
            self.header.setText(f"compiling the new model… (below: the previous run's {self.graph.name})")

    def take(self, run_id: int, graph) -> None:
        """``TrainingWorker.sigGraph`` slot: show ``graph`` if it is the current run's."""
        if self._run_id is None or int(run_id) == self._run_id:
            self.set_graph(graph)

    def set_graph(self, graph) -> None:
        """Show an ``engine.graph_text.GraphText``."""
        self.graph = graph
        cut = f" · the print is cut at {len(graph.text):,} of {graph.total_chars:,} characters" if graph.truncated else ""
        self.header.setText(f"{graph.name}: {graph.n_nodes} nodes after PyTensor's rewrites · {graph.backend} · "
                            f"printed in {graph.seconds:.2f} s{cut}")
        self.text.setPlainText(graph.text)
        self._fill_counts(graph)
        self._on_query(self.find_edit.text())

    def _fill_counts(self, graph) -> None:
        inner = dict(graph.inner_op_counts)
        names = [name for name, _ in graph.op_counts] + [n for n, _ in graph.inner_op_counts
                                                        if n not in dict(graph.op_counts)]
        outer = dict(graph.op_counts)
        self.counts.setSortingEnabled(False)
        self.counts.setRowCount(len(names))
        for row, name in enumerate(names):
            self.counts.setItem(row, 0, QtWidgets.QTableWidgetItem(name))
            for col, value in ((1, outer.get(name, 0)), (2, inner.get(name, 0))):
                item = QtWidgets.QTableWidgetItem()
                item.setData(QtCore.Qt.DisplayRole, int(value))
                self.counts.setItem(row, col, item)
        self.counts.setSortingEnabled(True)
        self.counts.sortItems(1, QtCore.Qt.DescendingOrder)  # the most frequent op first
        self.counts.resizeColumnsToContents()

    def op_counts(self) -> dict:
        """{op type: (in the graph, in scans)} as the table shows them."""
        return {self.counts.item(r, 0).text(): (self.counts.item(r, 1).data(QtCore.Qt.DisplayRole),
                                               self.counts.item(r, 2).data(QtCore.Qt.DisplayRole))
                for r in range(self.counts.rowCount())}

    # ----- find
    def _on_query(self, query: str) -> None:
        self._highlight(query)
        if query:
            cursor = self.text.textCursor()
            cursor.movePosition(QtGui.QTextCursor.Start)
            self.text.setTextCursor(cursor)
            self.find_next()

    def match_count(self) -> int:
        query = self.find_edit.text()
        return self.text.toPlainText().lower().count(query.lower()) if query else 0

    def _highlight(self, query: str) -> None:
        selections = []
        if query:
            document = self.text.document()
            cursor = QtGui.QTextCursor(document)
            while len(selections) < MAX_HIGHLIGHTS:
                cursor = document.find(query, cursor)
                if cursor.isNull():
                    break
                selection = QtWidgets.QTextEdit.ExtraSelection()
                selection.format.setBackground(HIGHLIGHT)
                selection.format.setForeground(QtGui.QColor("black"))
                selection.cursor = cursor
                selections.append(selection)
        self.text.setExtraSelections(selections)
        n = self.match_count()
        self.match_label.setText("" if not query else f"{n} match{'es' if n != 1 else ''}")

    def highlighted(self) -> int:
        return len(self.text.extraSelections())

    def find_next(self) -> bool:
        return self._find(QtGui.QTextDocument.FindFlags())

    def find_previous(self) -> bool:
        return self._find(QtGui.QTextDocument.FindBackward)

    def _find(self, flags) -> bool:
        """Select the next (or previous) match, wrapping around; False when there is none."""
        query = self.find_edit.text()
        if not query:
            return False
        if self.text.find(query, flags):
            return True
        cursor = self.text.textCursor()  # wrap around
        cursor.movePosition(QtGui.QTextCursor.End if flags & QtGui.QTextDocument.FindBackward
                            else QtGui.QTextCursor.Start)
        self.text.setTextCursor(cursor)
        return self.text.find(query, flags)

    def current_match(self) -> tuple[int, str]:
        """(position, text) of the match selected now."""
        cursor = self.text.textCursor()
        return cursor.selectionStart(), cursor.selectedText()
