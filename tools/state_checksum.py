#!/usr/bin/env python3
"""Computes the logical state checksum of a hearings database independently of the Swift code.

It follows the encoding documented in docs/architecture.md ("Logical state checksum"): for every row of
the managed tables, SHA-256 over (table name, primary-key columns, every column sorted by name), the first
8 bytes as a little-endian integer, all XORed together. `hearings verify` compares the same value.

Usage: python3 tools/state_checksum.py hearings.sqlite
"""
import hashlib
import sqlite3
import struct
import sys

TABLES = [
    ("committees", ["committee_id"]),
    ("hearings", ["hearing_id"]),
    ("hearing_committees", ["hearing_id", "committee_id"]),
    ("witnesses", ["witness_id"]),
    ("witness_appearances", ["appearance_id"]),
    ("witness_documents", ["document_id"]),
    ("supporting_documents", ["document_id"]),
    ("hearing_transcripts", ["transcript_id"]),
]


def encode_string(text):
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return struct.pack("<I", len(data)) + data


def encode_value(value):
    if value is None:
        return b"\x00"
    if isinstance(value, int):
        return b"\x01" + struct.pack("<q", value)
    if isinstance(value, float):
        return b"\x02" + struct.pack("<d", value)
    if isinstance(value, str):
        return b"\x03" + encode_string(value)
    return b"\x04" + encode_string(value)


def row_hash(table, key_columns, row):
    data = encode_string(table)
    for column in key_columns:
        data += encode_string(column) + encode_value(row[column])
    for column in sorted(row, key=lambda name: name.encode("utf-8")):
        data += encode_string(column) + encode_value(row[column])
    return struct.unpack("<Q", hashlib.sha256(data).digest()[:8])[0]


def state_checksum(path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    checksum = 0
    for table, key_columns in TABLES:
        for row in connection.execute(f"SELECT * FROM {table}"):
            checksum ^= row_hash(table, key_columns, {name: row[name] for name in row.keys()})
    return checksum


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print("%016x" % state_checksum(sys.argv[1]))
