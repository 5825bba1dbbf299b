"""Run functions of the built-in node kinds (``async def run(ctx, inputs, config) -> dict``)."""
