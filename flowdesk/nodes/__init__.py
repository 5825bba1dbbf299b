"""Node kinds: what each kind of node declares (ports, config, run function) and the registry."""
