#!/usr/bin/env python3
"""Refresh the tools/list answers inside recorded sessions after a deliberate catalogue change.

Every other recorded message stays byte-for-byte as it was, so a replay still proves that the
rest of the wire did not move. Usage (a server must be running, e.g. `make run`):

    python3 tests/agents/refresh_tools_list.py http://127.0.0.1:8080/mcp tests/sessions/*.jsonl
"""
import json
import sys
import urllib.request

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def post(url, body, session=None):
    headers = dict(HEADERS)
    if session:
        headers["mcp-session-id"] = session
        headers["mcp-protocol-version"] = "2025-11-25"
    req = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(req) as res:
        return res.headers.get("mcp-session-id"), json.loads(res.read() or b"null")


def current_tools(url):
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "refresh", "version": "1"}}
    session, _ = post(url, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
    post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    _, reply = post(url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session)
    return reply["result"]


def refresh(path, result):
    lines = open(path, encoding="utf-8").read().splitlines()
    records = [json.loads(line) for line in lines]
    asks = [r for r in records if r.get("dir") == "in" and (r.get("message") or {}).get("method") == "tools/list"]
    # Newer recordings pair by seq/re; the oldest format pairs by JSON-RPC id.
    seqs = {r["seq"] for r in asks if "seq" in r}
    ids = {r["message"].get("id") for r in asks if "seq" not in r}

    def answers(r):
        message = r.get("message") or {}
        return r.get("re") in seqs if "re" in r else message.get("id") in ids

    changed = 0
    for i, r in enumerate(records):
        if r.get("dir") == "out" and "result" in (r.get("message") or {}) and answers(r):
            # Only the catalogue: a 2026-07-28 answer keeps its resultType, serverInfo and cache hints.
            r["message"]["result"]["tools"] = result["tools"]
            lines[i] = json.dumps(r, ensure_ascii=False, separators=(",", ":"))
            changed += 1
    open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    print(f"{path}: {changed} tools/list answer(s) refreshed")


if __name__ == "__main__":
    tools = current_tools(sys.argv[1])
    for p in sys.argv[2:]:
        refresh(p, tools)
