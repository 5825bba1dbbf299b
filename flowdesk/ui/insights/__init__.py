"""The Insights view: how workflows do over time (charts with pyqtgraph, imported when the view opens)."""
