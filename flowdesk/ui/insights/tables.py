"""The Insights view's lists: suggestions, the nodes where the time goes, failures, models, a day's runs."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from flowdesk.nodes.llm_contract import cost_text
from flowdesk.store.insights import DayRun, Stats

RUN_ID_ROLE = Qt.ItemDataRole.UserRole


def money(cost: float) -> str:
    return cost_text(cost) if cost else "—"


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def table(headers: Sequence[str], stretch: int = 0) -> QTreeWidget:
    """A list whose column ``stretch`` (the free text) takes the room the figures leave."""
    tree = QTreeWidget()
    tree.setHeaderLabels(list(headers))
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return tree


def _fill(tree: QTreeWidget, rows: Sequence[Sequence[str]], empty: str) -> None:
    tree.clear()
    if not rows:
        item = QTreeWidgetItem([empty])
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        tree.addTopLevelItem(item)
        return
    for row in rows:
        item = QTreeWidgetItem(list(row))
        for col in range(1, len(row)):
            item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tree.addTopLevelItem(item)


SUGGESTION_HEADERS = ("Suggestion", "Evidence")
NODE_HEADERS = ("Node", "Critical path", "Time", "Attempts", "Retries", "Failures", "Cost", "Retry cost")
FAILURE_HEADERS = ("What", "Class", "Node", "Count", "Cost", "Example")
MODEL_HEADERS = ("Model", "Calls", "Tokens in", "Tokens out", "Cut at max_tokens", "Cost")
RUN_HEADERS = ("Run", "Workflow", "Status", "Duration", "Tokens", "Cost")


def fill_suggestions(tree: QTreeWidget, stats: Stats) -> None:
    _fill(
        tree,
        [(s.text, s.evidence) for s in stats.suggestions],
        "No suggestions: not enough runs, or nothing stands out",
    )
    for i in range(tree.topLevelItemCount()):
        tree.topLevelItem(i).setTextAlignment(1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def fill_nodes(tree: QTreeWidget, stats: Stats) -> None:
    several = stats.workflow is None
    _fill(
        tree,
        [(f"{stats.names.get(n.workflow, n.workflow)} / {n.node_id}" if several else n.node_id,
          f"{n.critical_share:.0%}", seconds(n.duration_s), f"{n.attempts:,}", f"{n.retries:,}", f"{n.failures:,}",
          money(n.cost_usd), money(n.retry_cost_usd)) for n in stats.nodes],
        "No node ran in this period",
    )  # fmt: skip


def fill_failures(tree: QTreeWidget, stats: Stats) -> None:
    _fill(
        tree,
        [("run failed" if f.kind == "run" else "retried", f.error_class, f.node_id or "—", f"{f.count:,}",
          money(f.cost_usd), f.message) for f in stats.failures],
        "No failures in this period",
    )  # fmt: skip
    for i in range(tree.topLevelItemCount()):
        tree.topLevelItem(i).setTextAlignment(5, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def fill_models(tree: QTreeWidget, stats: Stats) -> None:
    _fill(
        tree,
        [(m.model, f"{m.calls:,}", f"{m.input_tokens:,}", f"{m.output_tokens:,}", f"{m.truncated:,}",
          money(m.cost_usd)) for m in stats.models],
        "No model was called in this period",
    )  # fmt: skip


def fill_runs(tree: QTreeWidget, runs: Sequence[DayRun]) -> None:
    _fill(
        tree,
        [(r.id, r.workflow_name, r.status, seconds(r.duration_s), f"{r.tokens:,}", money(r.cost_usd))
         for r in runs],
        "Click a day in a chart to list its runs",
    )  # fmt: skip
    for i, run in enumerate(runs):
        tree.topLevelItem(i).setData(0, RUN_ID_ROLE, run.id)
