#!/usr/bin/env python3
"""Check a hearings data home after a crash and its recovery (used by tools/crash-test).

Independent of the Swift code: it reads the database with sqlite3 and the journal through
`hearings journal dump` (JSON lines), and applies the rules of docs/architecture.md.

Usage:
  crash_check.py markers HOME               print the batch markers of HOME's database (JSON)
  crash_check.py dump HOME                  print a canonical dump of the managed tables (JSON),
                                            without the created_at/updated_at timestamps
  crash_check.py dump --by-content HOME     the same with every surrogate row id left out and each
                                            foreign key replaced by the content of the row it
                                            names: equal for two databases that hold the same rows
                                            numbered in another order (batches committed in
                                            another order, e.g. after a batch failed and was re-run)
  crash_check.py check HOME --hearings BIN [--before MARKERS.json]
        after `hearings recover`: (a) the managed rows are exactly the replay, from an empty
        database, of the batches that have a marker, in journal order, each whole, every
        before-image holding; (b) every marker has its intent at its position, every intent has an
        outcome, an outcome says committed exactly when the marker exists, and every marker of
        MARKERS.json (taken before recovery) is still there; (c) tools/journal_reader.py --verify
        and `hearings journal verify` pass; (d) PRAGMA integrity_check is ok and
        foreign_key_check is empty
  crash_check.py compare A.json B.json      exit 0 when two dumps are equal, else print the first
                                            differences and exit 1

Exit status: 0 every check passed; 1 a check failed (each failure printed on standard error); 2 usage.
"""

import json
import os
import sqlite3
import subprocess
import sys

MANAGED_TABLES = [
    "committees", "hearings", "hearing_committees", "witnesses", "witness_appearances",
    "witness_documents", "supporting_documents", "hearing_transcripts",
]
TIMESTAMPS = {"created_at", "updated_at"}
HERE = os.path.dirname(os.path.abspath(__file__))


def connect(home):
    path = os.path.join(home, "hearings.sqlite")
    if not os.path.exists(path):
        return None
    return sqlite3.connect(path)


def markers(db):
    if db is None:
        return {}
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal_batches'").fetchone()
    if not exists:
        return {}
    return {str(batch): position for batch, position in
            db.execute("SELECT batch_id, intent_position FROM journal_batches")}


def primary_keys(db, table):
    columns = db.execute(f"PRAGMA table_info({table})").fetchall()
    keyed = sorted((column[5], column[1]) for column in columns if column[5] > 0)
    return [name for _, name in keyed], [column[1] for column in columns]


def rows(db, keep_timestamps=True):
    """{(table, key tuple): {column: value}} for every managed row."""
    result = {}
    if db is None:
        return result
    for table in MANAGED_TABLES:
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if not exists:
            continue
        keys, columns = primary_keys(db, table)
        for values in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
            row = dict(zip(columns, values))
            if not keep_timestamps:
                row = {name: value for name, value in row.items() if name not in TIMESTAMPS}
            result[(table, tuple(row[key] for key in keys))] = row
    return result


def image_value(value):
    """A journal row-image value as sqlite3 returns it."""
    if isinstance(value, dict):
        if "real" in value:
            return float(value["real"])
        if "blob" in value:
            return bytes.fromhex(value["blob"])
        raise ValueError(f"unknown tagged value {value!r}")
    return value


def image(row):
    return None if row is None else {name: image_value(value) for name, value in row.items()}


def journal_events(home, hearings):
    process = subprocess.run(
        [hearings, "journal", "dump", "--home", home], capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"hearings journal dump failed ({process.returncode}): {process.stderr.strip()}")
    return [json.loads(line) for line in process.stdout.splitlines() if line.strip()]


def check(home, hearings, before_path):
    failures = []
    db = connect(home)
    found = markers(db)
    events = journal_events(home, hearings)
    intents = [event for event in events if event["type"] == "batch_intent"]
    outcomes = {}
    for event in events:
        if event["type"] == "batch_outcome":
            outcomes[str(event["batch_id"])] = event
    positions = {str(intent["batch_id"]): intent["position"] for intent in intents}

    # (b)
    for batch, position in sorted(found.items(), key=lambda item: int(item[0])):
        if positions.get(batch) != position:
            failures.append(f"batch {batch}: marker at position {position}, but no intent there in the journal")
    for intent in intents:
        batch = str(intent["batch_id"])
        outcome = outcomes.get(batch)
        if outcome is None:
            failures.append(f"batch {batch}: no outcome after recovery")
        elif (outcome["result"] == "committed") != (batch in found):
            failures.append(
                f"batch {batch}: outcome {outcome['result']} but {'a' if batch in found else 'no'} marker")
    if before_path:
        with open(before_path) as handle:
            before = json.load(handle)
        for batch in sorted(before, key=int):
            if batch not in found:
                failures.append(f"batch {batch} was committed before the crash and is lost")

    # (a) replay the batches that have a marker, whole, in journal order, from an empty database.
    model = {}
    key_columns = {}
    if db is not None:
        for table in MANAGED_TABLES:
            key_columns[table] = primary_keys(db, table)[0]
    for intent in intents:
        if str(intent["batch_id"]) not in found:
            continue
        for mutation in intent["mutations"]:
            table = mutation["table"]
            key = tuple(image_value(mutation["key"][column]) for column in key_columns.get(table, []))
            slot = (table, key)
            before, after = image(mutation.get("before")), image(mutation.get("after"))
            if model.get(slot) != before:
                failures.append(
                    f"batch {intent['batch_id']}: the before-image of {table} {key} does not follow from the "
                    "batches before it")
            if after is None:
                model.pop(slot, None)
            else:
                model[slot] = after
    actual = rows(db)
    if actual != model:
        differing = sorted(slot for slot in set(actual) | set(model) if actual.get(slot) != model.get(slot))
        failures.append(
            f"the database is not the committed batches applied whole: {len(differing)} rows differ, e.g. "
            + "; ".join(f"{table} {key}" for table, key in differing[:3]))

    # (c)
    reader = subprocess.run(
        [sys.executable, os.path.join(HERE, "journal_reader.py"), "--verify", os.path.join(home, "journal")],
        capture_output=True, text=True)
    if reader.returncode != 0:
        failures.append(f"journal_reader.py --verify: exit {reader.returncode}: {reader.stderr.strip()}")
    verify = subprocess.run([hearings, "journal", "verify", "--home", home], capture_output=True, text=True)
    if verify.returncode != 0:
        failures.append(f"hearings journal verify: exit {verify.returncode}: {verify.stdout.strip()}")

    # (d)
    if db is not None:
        integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            failures.append(f"integrity_check: {integrity[:5]}")
        foreign = db.execute("PRAGMA foreign_key_check").fetchall()
        if foreign:
            failures.append(f"foreign_key_check: {len(foreign)} rows, e.g. {foreign[:3]}")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


def dump(home):
    result = {}
    for (table, key), row in sorted(rows(connect(home), keep_timestamps=False).items(), key=lambda item: repr(item[0])):
        result.setdefault(table, []).append(
            {name: (value.hex() if isinstance(value, bytes) else value) for name, value in row.items()})
    return result


def content_dump(home):
    """Each managed table as a sorted list of rows, ids replaced by what they refer to."""
    db = connect(home)
    if db is None:
        return {}
    keyed, references = {}, {}
    for table in MANAGED_TABLES:
        keys, columns = primary_keys(db, table)
        references[table] = {row[3]: row[2] for row in db.execute(f"PRAGMA foreign_key_list({table})")}
        keyed[table] = {}
        for values in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
            row = dict(zip(columns, values))
            keyed[table][tuple(row[key] for key in keys)] = (keys, row)
    memo = {}

    def canonical(table, key):
        if (table, key) in memo:
            return memo[(table, key)]
        keys, row = keyed[table][key]
        parts = []
        for name in sorted(row):
            value = row[name]
            if name in TIMESTAMPS:
                continue
            target = references[table].get(name)
            if target is not None and value is not None and (value,) in keyed[target]:
                value = ["→", target, canonical(target, (value,))]
            elif name in keys and len(keys) == 1:
                continue  # the row's own surrogate id
            elif isinstance(value, bytes):
                value = value.hex()
            parts.append([name, value])
        memo[(table, key)] = parts
        return parts

    return {table: sorted(json.dumps(canonical(table, key)) for key in keyed[table]) for table in MANAGED_TABLES}


def shorten(row, limit=300):
    text = row if isinstance(row, str) else json.dumps(row, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def compare(first, second):
    with open(first) as handle:
        a = json.load(handle)
    with open(second) as handle:
        b = json.load(handle)
    if a == b:
        return 0
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table, []), b.get(table, [])
        if left != right:
            print(f"{table}: {len(left)} rows vs {len(right)} rows", file=sys.stderr)
            for x, y in zip(left, right):
                if x != y:
                    print(f"  first difference: {shorten(x)} vs {shorten(y)}", file=sys.stderr)
                    break
    return 1


def main(arguments):
    if len(arguments) >= 2 and arguments[0] == "markers":
        print(json.dumps(markers(connect(arguments[1])), sort_keys=True))
        return 0
    if len(arguments) >= 3 and arguments[0] == "dump" and arguments[1] == "--by-content":
        print(json.dumps(content_dump(arguments[2]), sort_keys=True, indent=1))
        return 0
    if len(arguments) >= 2 and arguments[0] == "dump":
        print(json.dumps(dump(arguments[1]), sort_keys=True, indent=1))
        return 0
    if len(arguments) >= 4 and arguments[0] == "check" and arguments[2] == "--hearings":
        before = arguments[5] if len(arguments) >= 6 and arguments[4] == "--before" else None
        return check(arguments[1], arguments[3], before)
    if len(arguments) == 3 and arguments[0] == "compare":
        return compare(arguments[1], arguments[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
