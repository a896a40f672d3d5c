#!/usr/bin/env python3
"""Instructions per tool call, counted by callgrind: a figure a noisy machine does not move.

`make callgrind` (benches/callgrind.sh) starts `tally serve` under
`valgrind --tool=callgrind` and runs this driver against it. The driver warms the server up
(the first calls prepare statements and fill caches), then for each of create_invoice,
get_invoice and list_invoices zeroes the counters (`callgrind_control -z`), makes N calls over
one HTTP/1.1 connection in one MCP session, dumps (`callgrind_control -d`) and reads the dump's
total instruction count. Instructions per call are that total over N: every thread of the
server is counted (the runtime's workers, the pool's background tasks), so it is what a call
costs the process, not one function.

Usage: callgrind.py URL PID OUTDIR [N]
"""

import glob
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid


class Session:
    def __init__(self, url: str):
        u = urllib.parse.urlsplit(url)
        self.path = u.path
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        self.session = None
        self.next_id = 0
        self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "tally-callgrind", "version": "1"}}})
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, body: dict):
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2025-11-25"}
        if self.session:
            headers["mcp-session-id"] = self.session
        self.conn.request("POST", self.path, json.dumps(body), headers)
        res = self.conn.getresponse()
        data = res.read()
        if res.status >= 300:
            raise SystemExit(f"HTTP {res.status}: {data[:300]!r}")
        self.session = res.getheader("mcp-session-id") or self.session
        return json.loads(data) if data else None

    def call(self, tool: str, args: dict) -> dict:
        self.next_id += 1
        reply = self.post({"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call",
                           "params": {"name": tool, "arguments": args}})
        result = reply.get("result")
        if not result or result.get("isError"):
            raise SystemExit(f"{tool} failed: {json.dumps(reply)[:500]}")
        return result["structuredContent"]


def create_args() -> dict:
    return {"customer_id": "cg_customer", "idempotency_key": str(uuid.uuid4()),
            "line_items": [{"description": "Widget", "amount_cents": 1500, "quantity": 2},
                           {"description": "Installation", "amount_cents": 500}]}


def total_ir(dump: str) -> int:
    with open(dump) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"no totals in {dump}")


def main() -> None:
    url, pid, out = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    s = Session(url)
    s.call("upsert_customer", {"customer_id": "cg_customer", "name": "Callgrind Ltd"})
    ids = [s.call("create_invoice", create_args())["invoice_id"] for _ in range(50)]
    for i in range(20):
        s.call("get_invoice", {"invoice_id": ids[i]})
        s.call("list_invoices", {"customer_id": "cg_customer", "limit": 20})
    scenarios = {
        "create_invoice": lambda i: s.call("create_invoice", create_args()),
        "get_invoice": lambda i: s.call("get_invoice", {"invoice_id": ids[i % len(ids)]}),
        "list_invoices": lambda i: s.call("list_invoices", {"customer_id": "cg_customer", "limit": 20}),
    }
    figures = {}
    for name, call in scenarios.items():
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
        for i in range(n):
            call(i)
        before = set(glob.glob(os.path.join(out, f"callgrind.out.{pid}.*")))
        subprocess.run(["callgrind_control", "-d", name, pid], check=True, capture_output=True)
        for _ in range(600):
            new = set(glob.glob(os.path.join(out, f"callgrind.out.{pid}.*"))) - before
            if new:
                break
            time.sleep(0.1)
        (dump,) = new
        time.sleep(0.5)  # let callgrind finish writing it
        figures[name] = total_ir(dump) / n
        print(f"{name:16} {figures[name]:>12,.0f} instructions per call ({n} calls)", flush=True)
    with open(os.path.join(out, "callgrind.json"), "w") as f:
        json.dump({"calls": n, "instructions_per_call": figures}, f, indent=2)


if __name__ == "__main__":
    main()
