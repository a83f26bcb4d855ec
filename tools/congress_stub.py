#!/usr/bin/env python3
"""A local stand-in for the Congress.gov API (v3), for tests and benchmarks of `--source api`.

Serves the bundled sample (Sources/Congress/Resources/sample) in the shapes of the official OpenAPI
description: the committee-meeting lists of a congress and chamber (paged, filtered by update date),
the meeting details (the sample's documents, byte for byte), and committee details built from the
sample's real committee list. Standard library only.

    python3 tools/congress_stub.py [--day N] [--key KEY] [--page-size N] [--delay S] \
        [--fault KIND:TARGET[:ARG]]... [--log FILE] [--record DIR]

Binds 127.0.0.1 on a port the OS chooses and prints `PORT <n>` on the first line of standard output.
Stop it with SIGTERM or SIGINT.

TARGET is a request path below /v3 without the query (`committee-meeting/119/house/117214`); for a
list page add `@OFFSET` (`committee-meeting/119/house@60`). KIND is one of:
  429once    the first request answers 429 with `Retry-After: ARG` (default 1), then normally
  500once    the first request answers 500, then normally
  slowonce   the first request is answered only after ARG seconds (default 5; logged as "slow")
  resetonce  the first request's connection is closed without an answer
  truncate   every answer is a 200 whose JSON body is cut in half
  html       every answer is a 200 `text/html` page
  huge       every answer is a 200 JSON body of ARG bytes (default 8 MiB)
  hugestream the same without Content-Length, streamed until the connection closes
  404        every answer is a 404
The window edge: `fromDateTime` and `toDateTime` are inclusive; a malformed one is a 400.

--log writes one JSON line per request (path, offset, status, whether the key was right; never the
key). --record writes every complete 200 JSON answer to DIR/<path>.json (list pages as
DIR/<path>@<offset>.json), so a `dir:` run can read exactly what the API run read.
"""

import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SAMPLE = os.path.join(ROOT, "Sources", "Congress", "Resources", "sample")
PUBLIC_ROOT = "https://api.congress.gov/v3"


def parse_update(text):
    """The sample's two update-date forms: 2025-03-24T13:00:00Z and 2025-03-24 13:00:00+00:00."""
    text = text.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def parse_window(text):
    """The form the API documents for fromDateTime/toDateTime: YYYY-MM-DDTHH:MM:SSZ, or None."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


class Site:
    """Everything the stub serves, read once at start."""

    def __init__(self, sample, day):
        self.details = {}  # "committee-meeting/119/house/117214" -> bytes
        self.lists = {}  # "committee-meeting/119/house" -> [(update datetime, item dict)]
        folder = os.path.join(sample, "day-%d" % day)
        for chamber in sorted(os.listdir(folder)):
            for name in sorted(os.listdir(os.path.join(folder, chamber))):
                if not name.endswith(".json"):
                    continue
                with open(os.path.join(folder, chamber, name), "rb") as handle:
                    body = handle.read()
                meeting = json.loads(body)["committeeMeeting"]
                congress = meeting["congress"]
                segment = meeting["chamber"].lower()
                path = "committee-meeting/%d/%s/%s" % (congress, segment, meeting["eventId"])
                self.details[path] = body
                item = {
                    "chamber": meeting["chamber"],
                    "congress": congress,
                    "eventId": meeting["eventId"],
                    "updateDate": meeting["updateDate"],
                    "url": "%s/%s?format=json" % (PUBLIC_ROOT, path),
                }
                key = "committee-meeting/%d/%s" % (congress, segment)
                self.lists.setdefault(key, []).append((parse_update(meeting["updateDate"]), item))
        for items in self.lists.values():
            # Newest first, as Congress.gov sorts by update date.
            items.sort(key=lambda pair: (pair[0], pair[1]["eventId"]), reverse=True)
        self.committees = {}  # "committee/house/hsap06" -> bytes
        with open(os.path.join(sample, "committees.json"), "rb") as handle:
            listed = json.load(handle)["committees"]
        for entry in listed:
            chamber = entry["chamber"].lower()
            code = entry["systemCode"]
            # The detail's shape (OpenAPI CommitteeDetail): no name or chamber of its own; the name is in
            # the history, the chamber in the request echo.
            committee = {
                "history": [
                    {"libraryOfCongressName": entry["name"], "officialName": entry["name"],
                     "updateDate": entry.get("updateDate")}
                ],
                "isCurrent": True,
                "systemCode": code,
                "type": entry.get("committeeTypeCode"),
                "updateDate": entry.get("updateDate"),
            }
            if entry.get("parent"):
                committee["parent"] = entry["parent"]
            if entry.get("subcommittees"):
                committee["subcommittees"] = entry["subcommittees"]
            document = {
                "committee": committee,
                "request": {"chamber": chamber, "committeeCode": code, "contentType": "application/json",
                            "format": "json"},
            }
            self.committees["committee/%s/%s" % (chamber, code)] = json.dumps(
                document, indent=2, sort_keys=True).encode()


class State:
    def __init__(self, options):
        self.options = options
        self.site = Site(options.sample, options.day)
        self.faults = {}
        for text in options.fault:
            parts = text.split(":")
            if len(parts) < 2:
                sys.exit("congress_stub: --fault KIND:TARGET[:ARG], got %r" % text)
            self.faults[parts[1]] = (parts[0], parts[2] if len(parts) > 2 else None)
        self.fired = set()
        self.lock = threading.Lock()
        self.log = open(options.log, "a", buffering=1) if options.log else None

    def fault(self, target):
        """The fault for `target`, if it applies to this request (once-faults fire once)."""
        with self.lock:
            entry = self.faults.get(target)
            if entry is None:
                return None
            kind, argument = entry
            if kind.endswith("once"):
                if target in self.fired:
                    return None
                self.fired.add(target)
            return kind, argument

    def record(self, target, body):
        if not self.options.record:
            return
        path = os.path.join(self.options.record, target + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(body)

    def note(self, entry):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms for a
    # delayed ACK, and the stub would measure that instead of the client.
    disable_nagle_algorithm = True
    server_version = "congress-stub"

    def log_message(self, *args):  # quiet: the request log is --log
        pass

    def send(self, status, body, content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def error(self, status, message, headers=()):
        body = json.dumps({"error": {"code": status, "message": message}}).encode()
        self.send(status, body, headers=headers)
        return status

    def do_GET(self):
        state = self.server.state
        options = state.options
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if path.startswith("/v3/"):
            path = path[4:]
        path = path.strip("/")
        given = self.headers.get("X-Api-Key") or query.get("api_key")
        key_ok = options.key is None or given == options.key
        offset = query.get("offset", "0")
        is_list = path.startswith("committee-meeting/") and path.count("/") == 2
        target = "%s@%s" % (path, offset) if is_list else path
        if options.delay:
            time.sleep(options.delay)
        entry = {"path": path, "offset": int(offset) if offset.isdigit() else offset, "key_ok": key_ok,
                 "from": query.get("fromDateTime"), "to": query.get("toDateTime"), "limit": query.get("limit"),
                 "format": query.get("format")}
        status = self.answer(state, path, query, target, key_ok, is_list, entry)
        if status is not None:
            entry["status"] = status
            state.note(entry)

    def answer(self, state, path, query, target, key_ok, is_list, entry):
        if not key_ok:
            # What api.data.gov answers without a valid key.
            return self.error(403, "An invalid api_key was supplied.")
        fault = state.fault(target)
        if fault:
            kind, argument = fault
            if kind == "429once":
                return self.error(429, "rate limit", headers=[("Retry-After", argument or "1")])
            if kind == "500once":
                return self.error(500, "internal error")
            if kind == "resetonce":
                self.close_connection = True
                self.connection.shutdown(2)
                return 0
            if kind == "slowonce":
                # Logged before the wait: the client has given up by the time the answer goes out.
                entry["status"] = "slow"
                state.note(entry)
                time.sleep(float(argument or 5))
                self.send(200, state.site.details.get(path) or state.site.committees.get(path) or b"{}")
                return None
            if kind == "404":
                return self.error(404, "not found")
            if kind == "html":
                self.send(200, b"<html><body>maintenance</body></html>", content_type="text/html")
                return 200
            if kind == "hugestream":
                # No Content-Length: the body ends when the connection closes, so only counting what
                # arrives can stop it.
                size = int(argument or 8 << 20)
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(b'{"padding": "')
                    for _ in range(size // 65536):
                        self.wfile.write(b"x" * 65536)
                    self.wfile.write(b'"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return 200
            if kind == "huge":
                size = int(argument or 8 << 20)
                self.send(200, b'{"padding": "' + b"x" * max(0, size - 16) + b'"}')
                return 200
        if is_list:
            body = self.page(state, path, query)
            if body is None:
                return self.error(400, "fromDateTime and toDateTime take the form YYYY-MM-DDTHH:MM:SSZ")
        elif path in state.site.details:
            body = state.site.details[path]
        elif path in state.site.committees:
            body = state.site.committees[path]
        else:
            return self.error(404, "not found")
        if fault and fault[0] == "truncate":
            self.send(200, body[: len(body) // 2])
            return 200
        state.record(target, body)
        self.send(200, body)
        return 200

    def page(self, state, path, query):
        start = end = None
        if "fromDateTime" in query:
            start = parse_window(query["fromDateTime"])
            if start is None:
                return None
        if "toDateTime" in query:
            end = parse_window(query["toDateTime"])
            if end is None:
                return None
        items = [item for (updated, item) in state.site.lists.get(path, [])
                 if (start is None or updated >= start) and (end is None or updated <= end)]
        limit = min(int(query.get("limit", "20")), 250, state.options.page_size)
        offset = int(query.get("offset", "0"))
        chunk = items[offset: offset + limit]
        pagination = {"count": len(items)}
        if offset + limit < len(items):
            following = dict(query)
            following["offset"] = str(offset + limit)
            # Echo the key in `next` as a careless server might: the client must never log it.
            if state.options.key:
                following["api_key"] = state.options.key
            pagination["next"] = "%s/%s?%s" % (PUBLIC_ROOT, path, urllib.parse.urlencode(following))
        document = {
            "committeeMeetings": [item for item in chunk],
            "pagination": pagination,
            "request": {"congress": path.split("/")[1], "chamber": path.split("/")[2],
                        "contentType": "application/json", "format": "json"},
        }
        return json.dumps(document, indent=2).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", default=DEFAULT_SAMPLE)
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--key", help="the API key requests must carry (X-Api-Key or api_key)")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--log")
    parser.add_argument("--record")
    options = parser.parse_args()
    # A parent may have started us with signals blocked (Foundation's Process on Linux passes on the
    # spawning thread's mask): unblock them, or SIGTERM would never stop the stub.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(options)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
