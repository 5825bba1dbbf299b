"""A workflow's executor setting: where its map items and sub-workflow calls run.

What a person relies on: a typo in a scheduler's address is refused where it is typed (the file, the
inspector), with what an address looks like; a file from before the setting still opens; and the
choice goes flag, then workflow, then app, with 'local' meaning this computer whatever comes after.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowdesk.model.executor import LOCAL, check_executor, chosen_executor, where_words
from flowdesk.model.fileformat import WorkflowFileError, dumps_workflow, read_workflow
from flowdesk.model.workflow import Settings
from tests.support.wfbuild import node, workflow


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("dask://10.0.0.5:8786", "dask://10.0.0.5:8786"),
        ("  tcp://sched.example.org:8786 ", "tcp://sched.example.org:8786"),
        ("tls://[::1]:8786", "tls://[::1]:8786"),
        ("Local", LOCAL),
        ("", None),
        (None, None),
    ],
)
def test_an_executor_is_local_or_a_scheduler_address(given: str | None, kept: str | None) -> None:
    assert check_executor(given) == kept


@pytest.mark.parametrize("bad", ["127.0.0.1:8786", "dask://nohost", "http://x:1", "dask://h:0", "dask://a b:1"])
def test_a_bad_executor_is_refused_with_what_an_address_looks_like(bad: str) -> None:
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        check_executor(bad)


def test_the_flag_beats_the_workflow_which_beats_the_app_and_local_means_here() -> None:
    cluster = "dask://sched:8786"
    assert chosen_executor(None, cluster, "dask://other:1") == cluster
    assert chosen_executor(None, None, cluster) == cluster
    assert chosen_executor(LOCAL, cluster) is None  # --executor local forces this computer
    assert chosen_executor(None, LOCAL, cluster) is None  # the workflow says here, whatever the app's default
    assert chosen_executor(None, None, None) is None
    assert where_words(None) == "this computer" and where_words(cluster) == f"the Dask cluster at {cluster}"


def test_a_file_with_a_bad_executor_names_the_setting(tmp_path: Path) -> None:
    wf = workflow([node("o", "output", name="x")], [])
    data = json.loads(dumps_workflow(wf))
    data["settings"]["executor"] = "sched:8786"
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(WorkflowFileError, match=r"executor.*dask://HOST:PORT"):
        read_workflow(path)


def test_the_setting_round_trips_and_an_older_file_without_it_opens(tmp_path: Path) -> None:
    wf = workflow([node("o", "output", name="x")], [])
    wf = wf.model_copy(update={"settings": Settings(executor="dask://sched:8786")})
    path = tmp_path / "wf.json"
    path.write_text(dumps_workflow(wf), encoding="utf-8")
    assert read_workflow(path).settings.executor == "dask://sched:8786"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["settings"]["executor"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert read_workflow(path).settings.executor is None
