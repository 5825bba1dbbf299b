"""Triggers: what starts a workflow's runs without a person pressing Run (schedules, webhooks, folders,
another workflow finishing). Sits at the store/cli level: it may use the store and below, never the UI."""
