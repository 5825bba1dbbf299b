"""Running a workflow's child runs on a Dask cluster (the optional ``flowdesk[dask]`` extra).

``dask_children`` connects to a scheduler and sends each map item and sub-workflow call there;
``payload`` builds what one task carries; ``worker_task`` is what a worker runs. Only the
coordinator (the process that started the run) writes the library.
"""
