"""A real SSE client of `flowdesk serve` in its own process (so its work is not the service's), for benchmarks.

    python tests/support/sse_client.py URL TOKEN WORKFLOW [--no-stream]

Submits a run of WORKFLOW, reads its event stream to the end (or, with ``--no-stream``, waits for
the run's end by asking its status twice a second), and prints one JSON line: the run id, events
received, the seconds from the first event to the end, and the lag: how long after the run's end
(its ``run_finished`` event's time) the client had it.
"""

from __future__ import annotations

import json
import sys
import time

import httpx


def stream(api: httpx.Client, run_id: str) -> dict[str, float]:
    """Reads the stream as it comes, counting events by their ``event:`` lines; only the run's end is parsed
    (a client that keeps up with a fast run cannot afford to parse each event in Python)."""
    count = 0
    first = finished_ts = got_finished = 0.0
    tail = b""
    with api.stream("GET", f"/api/runs/{run_id}/events", timeout=600) as response:
        for chunk in response.iter_raw():
            first = first or time.time()
            text = tail + chunk
            cut = text.rfind(b"\n") + 1
            lines, tail = text[:cut], text[cut:]  # whole lines only; the rest comes with the next chunk
            count += (b"\n" + lines).count(b"\nevent: ")
            if b'"run_finished"' in lines:  # (each item's run ends too: those are read and passed over)
                for line in lines.split(b"\n"):
                    if line.startswith(b"data: ") and b'"run_finished"' in line:
                        event = json.loads(line[6:])
                        if event.get("run_id") == run_id:
                            finished_ts, got_finished = event["ts"], time.time()
    return {
        "events": count - 1,  # the closing 'end' is not a run event
        "seconds": time.time() - first,
        "lag_s": got_finished - finished_ts,
    }


def main(url: str, token: str, workflow: str, *, read: bool) -> dict[str, object]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        run_id = api.post(f"/api/workflows/{workflow}/runs", json={}).json()["run_id"]
        result: dict[str, object] = {"run_id": run_id}
        if read:
            result.update(stream(api, run_id))
        else:
            while api.get(f"/api/runs/{run_id}").json()["finished_at"] is None:
                time.sleep(0.5)
        return result


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(main(args[0], args[1], args[2], read="--no-stream" not in args)))
