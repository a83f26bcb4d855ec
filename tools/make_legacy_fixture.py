#!/usr/bin/env python3
"""Derives the legacy-import test fixture from the predecessor's real database.

Keeps the predecessor's exact schema and a real subset of its rows that carries every flaw the import
must report: all meetings with an empty title, meetings with two primary committees, repeated witness
names, plus ordinary House and Senate meetings with their committee links, witnesses and appearances,
and every committee.

Usage: python3 tools/make_legacy_fixture.py [SOURCE] [OUTPUT]
"""
import os
import sqlite3
import sys

source = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/congress-119-hearings-2025-10-02.sqlite"
output = sys.argv[2] if len(sys.argv) > 2 else "Tests/UpdaterTests/Fixtures/legacy-subset.sqlite"
if os.path.exists(output):
    os.remove(output)
src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
dst = sqlite3.connect(output)
for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"):
    dst.execute(sql)

empty = [r[0] for r in src.execute("SELECT hearing_id FROM hearings WHERE trim(title) = '' ORDER BY hearing_id")]
two_primary = [r[0] for r in src.execute(
    "SELECT hearing_id FROM hearing_committees WHERE is_primary = 1 GROUP BY hearing_id HAVING COUNT(*) > 1 "
    "ORDER BY hearing_id LIMIT 40")]
repeated = [r[0] for r in src.execute(
    "SELECT DISTINCT a.hearing_id FROM witness_appearances a JOIN witnesses w USING (witness_id) WHERE w.full_name IN "
    "(SELECT full_name FROM witnesses GROUP BY full_name HAVING COUNT(*) > 1) ORDER BY a.hearing_id LIMIT 40")]
house = [r[0] for r in src.execute("SELECT hearing_id FROM hearings WHERE chamber = 'House' ORDER BY hearing_id LIMIT 40")]
senate = [r[0] for r in src.execute("SELECT hearing_id FROM hearings WHERE chamber = 'Senate' AND title <> '' ORDER BY hearing_id LIMIT 40")]
hearings = sorted(set(empty + two_primary + repeated + house + senate))
marks = ",".join("?" * len(hearings))


def copy(table, where="", arguments=()):
    rows = src.execute(f"SELECT * FROM {table} {where}", arguments).fetchall()
    if rows:
        dst.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)
    return len(rows)


copy("committees")
copy("hearings", f"WHERE hearing_id IN ({marks})", hearings)
copy("hearing_committees", f"WHERE hearing_id IN ({marks})", hearings)
copy("witness_appearances", f"WHERE hearing_id IN ({marks})", hearings)
copy("witnesses", f"WHERE witness_id IN (SELECT witness_id FROM witness_appearances WHERE hearing_id IN ({marks}))", hearings)
for table in ("witness_documents", "supporting_documents", "hearing_transcripts"):
    copy(table, f"WHERE 0")
dst.execute("INSERT INTO sqlite_sequence SELECT * FROM (SELECT 'hearings', MAX(hearing_id) FROM hearings)")
dst.commit()
dst.execute("VACUUM")
dst.close()
check = sqlite3.connect(output)
counts = {t: check.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
          for t in ("committees", "hearings", "hearing_committees", "witnesses", "witness_appearances")}
print(output, counts, "empty titles", len(empty), "two primaries", len(two_primary))
