"""Running and inspecting runs in the desktop app: following, log, runs list, timeline, node records."""
