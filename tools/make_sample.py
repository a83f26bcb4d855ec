#!/usr/bin/env python3
"""Build the bundled sample data in Sources/Congress/Resources/sample/.

The sample is derived from the predecessor's production database of 2025-10-02 (public
US government data that originally came from the Congress.gov API) and written in the
shapes of the Congress.gov API v3:

  committees.json                   the committee list (GET /committee/119), all committees
  day-1/{house,senate}/<id>.json    committee-meeting detail responses, first daily run
  day-2/{house,senate}/<id>.json    what the next daily run fetches: unchanged, changed, new
  README.md                         provenance, layout and the day-2 change counts

Fields the predecessor stored are copied; fields it never stored (status, type, location,
documents, transcripts, videos) and the day-2 changes are synthesized deterministically.
Same input database, same output bytes.

Usage:
  python3 tools/make_sample.py [--db PATH] [--out DIR]   generate, then check
  python3 tools/make_sample.py --check [--db PATH] [--out DIR]
      check an existing sample (and, when the database is present, that regenerating it
      reproduces the same bytes)
  python3 tools/make_sample.py --fixture PATH [--db PATH]
      write every meeting of the database (all 1,168, the damaged ones included) as
      committee-meeting detail responses, one minified JSON document per line, derived the
      same way as the sample; the sample directory is not touched

Standard library only.
"""

import argparse
import copy
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import unicodedata
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DB = os.path.normpath(
    os.path.join(ROOT, "..", "shared", "data", "congress-119-hearings-2025-10-02.sqlite")
)
DEFAULT_OUT = os.path.join(ROOT, "Sources", "Congress", "Resources", "sample")

SEED = "hearings-sample-119"
CONGRESS = 119
API = "https://api.congress.gov/v3"
WEB = "https://www.congress.gov"

# The first daily run happens on the day the database was taken; the second the day after.
RUN1 = datetime(2025, 10, 2, 12, 0, 0, tzinfo=timezone.utc)
# Day-2 update dates fall in this window (strictly more than a day after every day-1 date).
DAY2_FROM = datetime(2025, 10, 2, 20, 0, 0, tzinfo=timezone.utc)
DAY2_TO = datetime(2025, 10, 3, 9, 0, 0, tzinfo=timezone.utc)
# Meetings updated since then are inside the look-back window of both runs.
OVERLAP_FROM = datetime(2025, 9, 29, tzinfo=timezone.utc)
TRANSCRIPT_BEFORE = datetime(2025, 6, 1, tzinfo=timezone.utc)

DAY1_PER_CHAMBER = 150
DAY1_HOUSE_WITHOUT_WITNESSES = 35
DAY2_NEW_PER_CHAMBER = 20
DAY2_UNCHANGED = 20
DAY2_UNCHANGED_SENATE = 5
# Kinds of day-2 change and how many meetings get each one (a meeting gets one kind; a
# rescheduled meeting may also have its title edited).
DAY2_CHANGES = [
    ("postponed", 6),
    ("canceled", 6),
    ("rescheduled", 6),
    ("time moved", 6),
    ("title edited", 5),
    ("witnesses added", 6),
    ("witnesses removed", 4),
    ("witness documents added", 5),
    ("meeting documents added", 6),
    ("transcript added", 4),
    ("committee added", 4),
    ("video added", 2),
]
DAY1_EXTRA_STATUS = [("Canceled", 3), ("Postponed", 2)]

# Committee links. 221 meetings carry two links, both marked primary: in every one the
# earlier link comes from a bulk pass of the predecessor that attached a wrong committee
# (all of one pass share one created_at second) and the later link is the meeting's own
# committee, so only the later link is kept. Meetings whose only link comes from such a
# pass have no trustworthy committee and are left out.
BULK_LINKS = 20

# Joint subcommittee hearings whose titles name a second subcommittee of the same full
# committee; the predecessor kept only one of them.
TITLE_SECOND_COMMITTEE = {
    "118522": "hswm06",  # Joint Health and Oversight Subcommittee Hearing
    "118473": "hswm03",  # Joint Social Security and Work & Welfare Subcommittee Hearing
    "118435": "hswm03",  # Joint Social Security and Work & Welfare Subcommittee Hearing
}

# Field hearings (by title) and the synthesized address each one is given.
FIELD_ADDRESSES = [
    {"street": "1664 North Virginia Street", "city": "Reno", "state": "NV", "zipCode": "89557"},
    {"street": "6375 West Charleston Boulevard", "city": "Las Vegas", "state": "NV", "zipCode": "89146"},
    {"street": "143 South Third Street", "city": "Philadelphia", "state": "PA", "zipCode": "19106"},
    {"street": "1000 University Avenue", "city": "Laramie", "state": "WY", "zipCode": "82071"},
]

HOUSE_BUILDINGS = {
    "Rayburn": "Rayburn House Office Building",
    "Longworth": "Longworth House Office Building",
    "Cannon": "Cannon House Office Building",
    "Capitol": "Capitol",
    "CVC": "Capitol Visitor Center",
}
# Full committee code prefix -> (building, rooms)
HOUSE_ROOMS = {
    "hsag": ("Longworth", ["1300", "1302"]),
    "hsap": ("Rayburn", ["2359", "2362-A", "2358-A", "2007", "2008"]),
    "hsas": ("Rayburn", ["2118", "2212", "2216"]),
    "hsba": ("Rayburn", ["2128", "2220"]),
    "hsbu": ("Cannon", ["210"]),
    "hsed": ("Rayburn", ["2175", "2261"]),
    "hsfa": ("Rayburn", ["2172", "2200"]),
    "hsgo": ("Rayburn", ["2154", "2247"]),
    "hsha": ("Longworth", ["1310"]),
    "hshm": ("Cannon", ["310", "311"]),
    "hsif": ("Rayburn", ["2123", "2322"]),
    "hsii": ("Longworth", ["1324", "1334"]),
    "hsju": ("Rayburn", ["2141", "2237"]),
    "hspw": ("Rayburn", ["2167", "2253"]),
    "hsru": ("Capitol", ["H-313"]),
    "hssm": ("Rayburn", ["2360"]),
    "hsso": ("Longworth", ["1015"]),
    "hssy": ("Rayburn", ["2318"]),
    "hsvr": ("Cannon", ["360", "390"]),
    "hswm": ("Longworth", ["1100", "1129"]),
    "hlig": ("CVC", ["HVC-304"]),
    "hlzs": ("Cannon", ["390"]),
    "hotl": ("Rayburn", ["2255"]),
}
SENATE_BUILDINGS = {
    "SD": "Dirksen Senate Office Building",
    "SR": "Russell Senate Office Building",
    "SH": "Hart Senate Office Building",
}
SENATE_ROOMS = {
    "ssaf": ["SR-328A", "SD-106"],
    "ssap": ["SD-124", "SD-138", "SD-192"],
    "ssas": ["SR-222", "SR-232A", "SD-G50"],
    "ssbk": ["SD-538"],
    "ssbu": ["SD-608"],
    "sscm": ["SR-253", "SH-216"],
    "sseg": ["SD-366"],
    "ssev": ["SD-406"],
    "ssfi": ["SD-215"],
    "ssfr": ["SD-419"],
    "ssga": ["SD-342", "SD-562"],
    "sshr": ["SD-430"],
    "ssju": ["SD-226", "SH-216"],
    "ssra": ["SR-301"],
    "sssb": ["SR-428A"],
    "ssva": ["SR-418"],
    "slia": ["SD-628"],
    "slin": ["SH-219"],
    "slet": ["SH-220"],
    "spag": ["SD-562"],
    "scnc": ["SD-562"],
}

RANK_WORDS = {
    "general", "gen", "lieutenant", "lt", "major", "maj", "brigadier", "colonel", "col",
    "captain", "capt", "admiral", "adm", "rear", "vice", "lower", "upper", "half",
    "commander", "chief", "master", "sergeant", "sgt", "sheriff", "rev", "reverend",
    "dr", "mr", "ms", "mrs", "hon", "honorable", "the", "ambassador", "governor", "mayor",
    "senator", "representative", "command", "senior", "petty", "officer",
}
LEADING_TITLES = {
    "general", "gen.", "lieutenant", "lt.", "major", "brigadier", "colonel", "col.",
    "captain", "admiral", "adm.", "rear", "vice", "commander", "chief", "sheriff", "rev.",
    "reverend", "dr.", "mr.", "ms.", "mrs.", "hon.", "the", "honorable", "sergeant",
    "command", "ambassador", "governor", "mayor", "senator", "representative",
}
MALE = set(
    """John David Michael James Robert Paul Scott Andrew Matthew Tom Kevin William Daniel Brian
    Mike Eric Jim Thomas Tim Dan Charles Patrick Christopher Richard Frank Justin Jonathan Mark
    Steven Stephen Joseph Jeffrey Gregory Peter Timothy Edward Anthony Ryan Jason Brandon
    Joshua Benjamin Samuel Jacob Nicholas Adam Aaron Gary Larry Jerry Dennis George Kenneth
    Donald Ronald Douglas Bruce Carl Roger Keith Jeremy Nathan Zachary Kyle Travis Todd Craig
    Sean Shawn Jack Henry Harold Walter Raymond Philip Phillip Alan Eugene Wayne Ralph Russell
    Roy Louis Bill Bob Steve Joe Greg Jeff Ben Sam Nick Matt Rick Ron Don Ken Doug Rob Tony
    Jose Juan Carlos Luis Brett Chad Derek Dustin Grant Ian Jared Jay Joel Jon Kurt Marc Neil
    Nathaniel Randy Rodney Seth Stuart Ted Troy Vincent Wesley Howard Martin Arthur Albert
    Frederick Fred Lawrence Gordon Glenn Dale Bradley Brad Curtis Clay Clayton Colin Dean Drew
    Gerald Hunter Kirk Luke Mitchell Nolan Oliver Owen Preston Reed Spencer Tyler Victor Warren""".split()
)
FEMALE = set(
    """Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty
    Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie
    Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole
    Helen Samantha Katherine Christine Debra Rachel Catherine Carolyn Janet Ruth Maria Heather
    Diane Virginia Julie Joyce Victoria Kelly Christina Lauren Joan Evelyn Olivia Judith Megan
    Cheryl Martha Andrea Frances Hannah Jacqueline Ann Gloria Jean Kathryn Alice Teresa Sara
    Janice Doris Julia Grace Judy Abigail Marie Denise Beverly Amber Theresa Marilyn Danielle
    Diana Brittany Natalie Sophia Rose Kristen Erin Wendy Tiffany Allison Molly Claire Kate
    Katie Jane Jill Beth Annie Elisabeth Nina Leah Regina Dorothy Eve Maggie Caroline Kristin
    Lindsay Lindsey Meghan Monica Paula Renee Rhonda Robin Sheila Stacy Suzanne Tammy Tara
    Vanessa Veronica Yvonne Alexandra Alexis Alison Anne Audrey Bethany Bonnie Brooke Carla
    Carrie Cassandra Colleen Courtney Dana Dawn Elaine Ellen Erica Erika Felicia Gina Holly
    Irene Jamie Jenna Jenny Joanna Karin Katharine Kathy Kristina Krista Lori Lynn Marcia
    Melanie Miranda Naomi Patty Peggy Rachael Sally Shannon Sylvia Tina Valerie Whitney""".split()
)

BILL_TYPES = [
    (r"H\.\s?J\.\s?Res\.", "HJRES"),
    (r"H\.\s?Con\.\s?Res\.", "HCONRES"),
    (r"H\.\s?Res\.", "HRES"),
    (r"H\.\s?R\.", "HR"),
    (r"S\.\s?J\.\s?Res\.", "SJRES"),
    (r"S\.\s?Con\.\s?Res\.", "SCONRES"),
    (r"S\.\s?Res\.", "SRES"),
    (r"S\.", "S"),
]
BILL_RE = re.compile(
    r"(?<![\w.])(" + "|".join(p for p, _ in BILL_TYPES) + r")\s?(\d{1,5})\b"
)
BILL_DISPLAY = {
    "HR": "H.R.", "HRES": "H.Res.", "HJRES": "H.J.Res.", "HCONRES": "H.Con.Res.",
    "S": "S.", "SRES": "S.Res.", "SJRES": "S.J.Res.", "SCONRES": "S.Con.Res.",
}
BILL_START_RE = re.compile(
    r"^\W*(" + "|".join(p for p, _ in BILL_TYPES[:4]) + r"|S\.\s?J\.\s?Res\.|Senate amendment)", re.I
)


# ---------------------------------------------------------------------------------------
# Helpers


def rng_for(*parts):
    """A random generator that depends only on the seed and the given parts."""
    return random.Random(SEED + "|" + "|".join(str(p) for p in parts))


def chance(p, *parts):
    return rng_for(*parts).random() < p


def norm(text):
    return " ".join(text.split())


def iso_z(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_offset(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S+00:00")


def parse_api_datetime(text):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S+00:00"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    raise ValueError("not an API date-time: %r" % text)


def db_datetime(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def ascii_letters(text):
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z-]", "", folded)


def dump(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def random_between(rng, start, end):
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


# ---------------------------------------------------------------------------------------
# Loading the predecessor's database


def committee_url(chamber, code):
    return "%s/committee/%s/%s?format=json" % (API, chamber.lower(), code)


def load(db_path, everything=False):
    """The committees and the meetings of the predecessor's database.

    By default the damaged meetings (no title or date) and those whose only committee link
    comes from a bulk pass are left out of `hearings` and listed in `damaged` and
    `unattributed`. With everything=True they are kept in `hearings` as well: a damaged one
    with "date" None and an empty title, an unattributed one with its bulk-pass link.
    """
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    con.row_factory = sqlite3.Row

    committees = {}
    by_id = {}
    for r in con.execute("SELECT * FROM committees ORDER BY system_code"):
        c = {
            "id": r["committee_id"],
            "code": r["system_code"],
            "name": r["name"],
            "chamber": r["chamber"],
            "type": r["type"],
            "parent_id": r["parent_committee_id"],
            "url": r["url"] or committee_url(r["chamber"], r["system_code"]),
            "updated": db_datetime(r["updated_at"]),
        }
        committees[c["code"]] = c
        by_id[c["id"]] = c
    for c in committees.values():
        c["parent"] = by_id[c["parent_id"]]["code"] if c["parent_id"] else None
    for c in committees.values():
        c["subs"] = sorted(s["code"] for s in committees.values() if s["parent"] == c["code"])

    links = {}
    for r in con.execute(
        "SELECT hc.hearing_id, c.system_code, hc.is_primary, hc.created_at "
        "FROM hearing_committees hc JOIN committees c USING (committee_id) "
        "ORDER BY hc.hearing_id, hc.created_at, c.system_code"
    ):
        links.setdefault(r["hearing_id"], []).append((r["created_at"], r["system_code"]))

    appearances = {}
    for r in con.execute(
        "SELECT wa.hearing_id, wa.appearance_id, wa.appearance_order, wa.position, "
        "wa.witness_type, w.witness_id, w.first_name, w.last_name, w.full_name, w.title, "
        "w.organization FROM witness_appearances wa JOIN witnesses w USING (witness_id) "
        "ORDER BY wa.hearing_id, wa.appearance_order, wa.appearance_id"
    ):
        appearances.setdefault(r["hearing_id"], []).append(dict(r))

    # Link timestamps shared by many rows mark the predecessor's bulk attribution passes.
    bulk = {
        r[0] for r in con.execute(
            "SELECT created_at FROM hearing_committees GROUP BY created_at HAVING COUNT(*) >= %d"
            % BULK_LINKS)
    }

    hearings = []
    damaged = []
    unattributed = []
    for r in con.execute("SELECT * FROM hearings ORDER BY event_id"):
        rows = links.get(r["hearing_id"], [])
        if len(rows) > 1:
            rows = [max(rows)]
        if not r["title"] or not r["hearing_date"]:
            damaged.append(r["event_id"])
            if everything:
                hearings.append(damaged_hearing(r, rows))
            continue
        if not rows or rows[0][0] in bulk:
            unattributed.append(r["event_id"])
            if not everything or not rows:
                continue
        hearings.append(
            {
                "hid": r["hearing_id"],
                "event_id": r["event_id"],
                "chamber": r["chamber"],
                "title": r["title"],
                "date": db_datetime("%s %s" % (r["hearing_date"], r["hearing_time"])),
                "update": db_datetime(r["update_date"]),
                "codes": [code for _, code in rows],
                "appearances": appearances.get(r["hearing_id"], []),
            }
        )
    con.close()
    return committees, hearings, damaged, unattributed


def damaged_hearing(r, rows):
    """A meeting the predecessor damaged (title emptied, date NULL), kept as it is."""
    return {
        "hid": r["hearing_id"],
        "event_id": r["event_id"],
        "chamber": r["chamber"],
        "title": r["title"] or "",
        "date": None,
        "update": db_datetime(r["update_date"]),
        "codes": [code for _, code in rows],
        "appearances": [],
    }


# ---------------------------------------------------------------------------------------
# Deriving the fields the predecessor never stored


def meeting_type(chamber, title, primary):
    t = norm(title).lower()
    if re.search(r"\bmark[\s-]?up\b", t):
        return "Markup"
    if chamber == "Senate":
        if "business meeting" in t or "closed briefing" in t:
            return "Meeting"
        return "Hearing"
    if re.search(
        r"organizational meeting|organizing meeting|organizing of|business meeting|committee roster", t
    ):
        return "Meeting"
    if primary.startswith("hsru") and BILL_START_RE.match(norm(title)):
        return "Meeting"
    if re.search(r"hearing|member day|members[’']? day|witness day", t):
        return "Hearing"
    if BILL_START_RE.match(norm(title)) or re.search(
        r"to consider|to continue considering|consideration of|committee print|various measures|"
        r"amendment in the nature of a substitute|reconciliation|concurrent resolution on the budget|"
        r"authorization act for fiscal year|subcommittee allocations",
        t,
    ):
        return "Markup"
    if re.match(r"^\W*(the )?fiscal year \d{4} .*\bbill\b", t):
        return "Markup"
    return "Hearing"


def title_status(title):
    t = norm(title).lower()
    if re.match(r"^\W*postponed", t):
        return "Postponed"
    if re.match(r"^\W*cancel", t):
        return "Canceled"
    if "rescheduled" in t:
        return "Rescheduled"
    return "Scheduled"


def is_closed(title):
    t = norm(title).lower()
    return "closed" in t or "briefing" in t


def is_field_hearing(title):
    return "field hearing" in norm(title).lower()


def parse_bills(title):
    bills = []
    seen = set()
    for m in BILL_RE.finditer(title):
        prefix = re.sub(r"\s", "", m.group(1))
        kind = next(k for p, k in BILL_TYPES if re.fullmatch(p.replace(r"\s?", ""), prefix))
        key = (kind, int(m.group(2)))
        if key in seen:
            continue
        seen.add(key)
        bills.append(key)
    return bills


def witness_name(a):
    """The witness name as the API writes it: any honorific kept, one added to some."""
    full = norm(a["full_name"])
    first_word = full.split()[0].lower()
    if first_word in LEADING_TITLES:
        return full
    position = a["position"] or a["title"] or ""
    # Elected officials and ambassadors, and heads of federal departments and agencies.
    if re.search(
        r"\b(Member of Congress|U\.S\. Representative|Congress(wo)?man|Governor|Mayor|"
        r"Ambassador|U\.S\. Senator)\b",
        position,
    ) or (a["witness_type"] == "Government" and re.match(
        r"(Acting |Former |U\.S\. |The )?(Secretary|Deputy Secretary|Under Secretary|"
        r"Assistant Secretary|Administrator|Commissioner|Comptroller General|Attorney General|"
        r"Inspector General)\b",
        position,
    )):
        return "The Honorable " + full
    if re.search(r",\s*(Ph\.?\s?D|M\.?D|DrPH|Ed\.?D|DNP|DVM|D\.O)\b", full, re.I) or re.search(
        r"\b(Professor|Physician)\b", position
    ):
        return "Dr. " + full
    if not chance(0.75, "honorific", a["witness_id"]):
        return full
    first = (a["first_name"] or "").strip()
    if first in MALE:
        return "Mr. " + full
    if first in FEMALE:
        return "Ms. " + full
    return full


def witness_file_key(full_name):
    base = norm(full_name).split(",")[0]
    tokens = [t for t in base.split() if t.strip(".").lower() not in RANK_WORDS]
    if not tokens:
        tokens = base.split()
    first = ascii_letters(tokens[0]) or "X"
    last = ascii_letters(tokens[-1]) or first
    return last, first


def document_code(code):
    """hsgo00 -> GO00, hlig01 -> IG01, ssju00 -> JU00 (the committee part of HHRG names)."""
    return code[2:].upper()


class Meeting:
    """One committee meeting as the API would describe it at one moment."""

    def __init__(self, h, committees):
        self.event_id = h["event_id"]
        self.chamber = h["chamber"]
        self.title = h["title"]
        self.date = h["date"]
        self.doc_date = h["date"]
        self.update = h["update"]
        self.codes = list(h["codes"])
        eid = self.event_id
        if eid in TITLE_SECOND_COMMITTEE and TITLE_SECOND_COMMITTEE[eid] not in self.codes:
            self.codes.append(TITLE_SECOND_COMMITTEE[eid])
        self.primary = self.codes[0]
        self.type = meeting_type(self.chamber, self.title, self.primary)
        self.status = title_status(self.title)
        self.offset_style = chance(0.15, "update-style", eid)
        self.video_item_style = chance(0.10, "video-style", eid)
        self.location = self._location()
        self.witnesses = self._witnesses(h["appearances"])
        self.meeting_docs = self._meeting_docs(committees)
        self.transcripts = []
        self.videos = self._videos(committees)
        self.bills = parse_bills(self.title)

    # -- synthesized parts

    def _location(self):
        rng = rng_for("location", self.event_id)
        if is_field_hearing(self.title):
            return {"address": dict(FIELD_ADDRESSES[int(self.event_id) % len(FIELD_ADDRESSES)])}
        prefix = self.primary[:4]
        if self.chamber == "House":
            building, rooms = HOUSE_ROOMS.get(prefix, ("Rayburn", ["2247"]))
            return {"building": HOUSE_BUILDINGS[building], "room": rng.choice(rooms)}
        rooms = SENATE_ROOMS.get(prefix, ["SD-106"])
        if is_closed(self.title) and prefix == "ssas":
            rooms = ["SR-232A"]
        room = rng.choice(rooms)
        return {"building": SENATE_BUILDINGS[room[:2]], "room": room}

    def _witnesses(self, appearances):
        out = []
        future = self.date > RUN1
        for a in appearances:
            docs = []
            if not future:
                wid = a["witness_id"]
                nongov = a["witness_type"] != "Government"
                if chance(0.85, "wstate", self.event_id, wid):
                    docs.append("Wstate")
                if chance(0.45, "wbio", self.event_id, wid):
                    docs.append("Wbio")
                if chance(0.55 if nongov else 0.08, "wtruth", self.event_id, wid):
                    docs.append("Wtruth")
                if chance(0.12, "wsupp", self.event_id, wid):
                    docs.append("Wsupp")
            w = {
                "wid": a["witness_id"],
                "name": witness_name(a),
                "position": a["position"] or a["title"],
                "organization": a["organization"],
                "docs": docs,
            }
            out.append(w)
        return out

    def _meeting_docs(self, committees):
        if self.chamber != "House":
            return []
        rng = rng_for("meeting-docs", self.event_id)
        kind = self.type
        docs = []
        notice = "Hearing Notice" if kind == "Hearing" else "Meeting Notice"
        if rng.random() < 0.92:
            docs.append({"name": notice, "description": "", "documentType": "Support Document"})
        if self.date > RUN1:
            return self._number(docs)
        bills = parse_bills(self.title)
        if kind == "Hearing" and rng.random() < 0.5:
            docs.append({"name": "Hearing: Memo", "description": "Committee memorandum",
                         "documentType": "Committee Memo"})
        if kind == "Markup" and rng.random() < 0.3:
            docs.append({"name": "Markup: Memo", "description": "Committee memorandum",
                         "documentType": "Committee Memo"})
        label = "Hearing" if kind == "Hearing" else ("Markup" if kind == "Markup" else "Meeting")
        for bkind, number in bills[:6]:
            docs.append({"name": "%s: Bill" % label,
                         "description": "%s %d" % (BILL_DISPLAY[bkind], number),
                         "documentType": "Bill"})
        if kind == "Markup" and rng.random() < 0.8:
            for i in range(rng.randint(1, 3)):
                if bills:
                    bkind, number = bills[i % len(bills)]
                    target = "%s %d" % (BILL_DISPLAY[bkind], number)
                else:
                    target = "the Committee Print"
                text = ("Amendment in the Nature of a Substitute to %s" if i == 0
                        else "Amendment to %s") % target
                docs.append({"name": "Markup: Amendment", "description": text,
                             "documentType": "Amendment"})
        t = norm(self.title).lower()
        if kind == "Meeting" and re.search(r"organiz|oversight plan|rules of", t):
            docs.append({"name": "Activity Report",
                         "description": "Authorization and Oversight Plan for the 119th Congress",
                         "documentType": "Activity Report"})
        return self._number(docs)

    def _number(self, docs, start=1):
        ymd = self.doc_date.strftime("%Y%m%d")
        code = document_code(self.primary)
        for i, d in enumerate(docs, start):
            d["format"] = "PDF"
            d["url"] = "%s/%d/meeting/house/%s/documents/HHRG-%d-%s-%s-SD%03d.pdf" % (
                WEB, CONGRESS, self.event_id, CONGRESS, code, ymd, i)
        return docs

    def add_meeting_doc(self, doc):
        doc = dict(doc)
        self._number([doc], start=len(self.meeting_docs) + 1)
        self.meeting_docs.append(doc)

    def _videos(self, committees):
        if is_closed(self.title) or self.date > RUN1:
            return []
        p = 0.8 if self.chamber == "House" else 0.55
        if not chance(p, "video", self.event_id):
            return []
        return [self.video_entry(committees)]

    def video_entry(self, committees):
        title = norm(self.title).strip('"“” ')
        if len(title) > 150:
            title = title[:150].rsplit(" ", 1)[0].rstrip(",;:–-") + "..."
        name = "%s | %s" % (title, committees[self.primary]["name"])
        return {"name": name, "url": "%s/event/%dth-Congress/%s-event/%s" % (
            WEB, CONGRESS, self.chamber.lower(), self.event_id)}

    def transcript_eligible(self):
        return self.type == "Hearing" and self.date < TRANSCRIPT_BEFORE and not is_closed(self.title)

    # -- rendering

    def witness_documents(self):
        ymd = self.doc_date.strftime("%Y%m%d")
        code = document_code(self.primary)
        kinds = {
            "Wstate": "Witness Statement",
            "Wbio": "Witness Biography",
            "Wtruth": "Witness Truth in Testimony",
            "Wsupp": "Witness Supporting Document",
        }
        keys = {}
        out = []
        for w in self.witnesses:
            last, first = witness_file_key(w["name"])
            key = last + first[:1]
            n = 1
            while key in keys and keys[key] != w["wid"]:
                n += 1
                key = "%s%s%d" % (last, first[:1], n)
            keys[key] = w["wid"]
            for d in w["docs"]:
                out.append({
                    "documentType": kinds[d],
                    "format": "PDF",
                    "url": "%s/%d/meeting/house/%s/witnesses/HHRG-%d-%s-%s-%s-%s.pdf" % (
                        WEB, CONGRESS, self.event_id, CONGRESS, code, d, key, ymd),
                })
        return out

    def render(self, committees):
        chamber = self.chamber.lower()
        witnesses = []
        for w in self.witnesses:
            entry = {"name": w["name"]}
            if w["organization"]:
                entry["organization"] = w["organization"]
            if w["position"]:
                entry["position"] = w["position"]
            witnesses.append(entry)
        videos = [dict(v) for v in self.videos]
        videos_value = {"item": videos} if (videos and self.video_item_style) else videos
        meeting = {
            "chamber": self.chamber,
            "committees": [
                {"name": committees[c]["name"], "systemCode": c, "url": committees[c]["url"]}
                for c in self.codes
            ],
            "congress": CONGRESS,
            "date": iso_z(self.date),
            "eventId": self.event_id,
            "hearingTranscript": [
                {"jacketNumber": j, "url": "%s/hearing/%d/%s/%d?format=json" % (API, CONGRESS, chamber, j)}
                for j in self.transcripts
            ],
            "location": copy.deepcopy(self.location),
            "meetingDocuments": [
                {k: d[k] for k in ("description", "documentType", "format", "name", "url")}
                for d in self.meeting_docs
            ],
            "meetingStatus": self.status,
            "relatedItems": {
                "bills": [
                    {"congress": CONGRESS, "number": str(n), "type": k,
                     "url": "%s/bill/%d/%s/%d?format=json" % (API, CONGRESS, k.lower(), n)}
                    for k, n in self.bills
                ],
                "nominations": [],
                "treaties": [],
            },
            "title": self.title,
            "type": self.type,
            "updateDate": iso_offset(self.update) if self.offset_style else iso_z(self.update),
            "videos": videos_value,
            "witnessDocuments": self.witness_documents(),
            "witnesses": witnesses,
        }
        request = {
            "chamber": chamber,
            "congress": str(CONGRESS),
            "contentType": "application/json",
            "eventId": self.event_id,
            "format": "json",
        }
        return {"committeeMeeting": meeting, "request": request}


# ---------------------------------------------------------------------------------------
# Committees


def committees_document(committees):
    items = []
    for code in sorted(committees):
        c = committees[code]
        item = {
            "chamber": c["chamber"],
            "committeeTypeCode": c["type"],
            "name": c["name"],
        }
        if c["parent"]:
            p = committees[c["parent"]]
            item["parent"] = {"name": p["name"], "systemCode": p["code"], "url": p["url"]}
        if c["subs"]:
            item["subcommittees"] = [
                {"name": committees[s]["name"], "systemCode": s, "url": committees[s]["url"]}
                for s in c["subs"]
            ]
        item["systemCode"] = code
        item["updateDate"] = iso_z(c["updated"])
        item["url"] = c["url"]
        items.append(item)
    return {
        "committees": items,
        "pagination": {"count": len(items)},
        "request": {"congress": str(CONGRESS), "contentType": "application/json", "format": "json"},
    }


# ---------------------------------------------------------------------------------------
# Choosing the meetings and the day-2 changes


def fix_title(title):
    fixed = title.replace('"“', "“").replace('”"', "”")
    if fixed.startswith('"') and fixed.endswith("”"):
        fixed = "“" + fixed[1:]
    if fixed.startswith("“") and fixed.endswith('"'):
        fixed = fixed[:-1] + "”"
    fixed = fixed.replace("Adaptative", "Adaptive").replace("examine on threats", "examine threats")
    fixed = re.sub(r"(?<=\S)  (?=\S)", " ", fixed)  # a doubled space inside a line
    return fixed


def round_robin(pool, count, rng, key=lambda h: h["codes"][0]):
    """Pick count meetings spreading them over as many committees as possible."""
    groups = {}
    for h in sorted(pool, key=lambda h: h["event_id"]):
        groups.setdefault(key(h), []).append(h)
    for g in groups.values():
        rng.shuffle(g)
    order = sorted(groups)
    picked = []
    while len(picked) < count and any(groups.values()):
        for k in order:
            if groups[k] and len(picked) < count:
                picked.append(groups[k].pop())
    return picked


def build(committees, hearings):
    rng = rng_for("selection")
    by_event = {h["event_id"]: h for h in hearings}

    # Meetings that must be in day 1: field hearings, titles carrying a status, joint
    # subcommittee hearings, the largest witness list, and titles with fixable typos.
    forced = set(TITLE_SECOND_COMMITTEE)
    for h in hearings:
        if is_field_hearing(h["title"]) or title_status(h["title"]) != "Scheduled":
            forced.add(h["event_id"])
    forced.add(max(hearings, key=lambda h: (len(h["appearances"]), h["event_id"]))["event_id"])
    title_fixable = sorted(h["event_id"] for h in hearings if fix_title(h["title"]) != h["title"])
    forced.update(title_fixable)

    # Day 2 new meetings: recent meetings that the first run did not see.
    recent = [h for h in hearings if h["date"] >= datetime(2025, 9, 1, tzinfo=timezone.utc)
              and h["event_id"] not in forced]
    new = []
    for chamber in ("House", "Senate"):
        pool = sorted((h for h in recent if h["chamber"] == chamber), key=lambda h: h["event_id"])
        new += rng.sample(pool, DAY2_NEW_PER_CHAMBER)
    new_ids = {h["event_id"] for h in new}

    # Day 1: forced ones, the most recent ones (they get the status changes), then spread
    # over committees; House prefers meetings with witnesses.
    day1 = {e for e in forced}
    latest = sorted((h for h in hearings if h["event_id"] not in new_ids),
                    key=lambda h: (h["date"], h["event_id"]), reverse=True)
    for chamber in ("House", "Senate"):
        day1.update(h["event_id"] for h in [x for x in latest if x["chamber"] == chamber][:22])
    for chamber in ("House", "Senate"):
        have = [e for e in day1 if by_event[e]["chamber"] == chamber]
        rest = [h for h in hearings if h["chamber"] == chamber
                and h["event_id"] not in day1 and h["event_id"] not in new_ids]
        need = DAY1_PER_CHAMBER - len(have)
        if chamber == "House":
            without_have = sum(1 for e in have if not by_event[e]["appearances"])
            need_without = max(0, DAY1_HOUSE_WITHOUT_WITNESSES - without_have)
            picked = round_robin([h for h in rest if not h["appearances"]], need_without, rng)
            picked += round_robin([h for h in rest if h["appearances"]], need - len(picked), rng)
        else:
            picked = round_robin(rest, need, rng)
        day1.update(h["event_id"] for h in picked)

    # The base meetings, and unique transcript jacket numbers for all of them.
    jackets = list(range(59000, 62000))
    rng_for("jackets").shuffle(jackets)
    base = {}
    for eid in sorted(day1 | new_ids):
        m = Meeting(by_event[eid], committees)
        if m.transcript_eligible() and chance(0.4, "transcript", eid):
            m.transcripts = [jackets.pop()]
        base[eid] = m

    day1_ids = sorted(day1)
    day1_models = {e: copy.deepcopy(base[e]) for e in day1_ids}
    day2_models = {}
    changes = {}
    used = set(forced) - set(title_fixable)  # special meetings stay as they are

    # Unchanged: meetings updated in the last days, seen again through the overlapping
    # window. Only meetings already held: the upcoming ones are left for the changes.
    overlap = [e for e in day1_ids if base[e].update >= OVERLAP_FROM and base[e].date <= RUN1
               and e not in used and base[e].status == "Scheduled"]
    senate = [e for e in overlap if base[e].chamber == "Senate"]
    house = [e for e in overlap if base[e].chamber == "House"]
    unchanged = rng.sample(senate, min(len(senate), DAY2_UNCHANGED_SENATE))
    unchanged += rng.sample(house, DAY2_UNCHANGED - len(unchanged))
    used.update(unchanged)

    def candidates(pred, recent_first=False):
        pool = [e for e in day1_ids if e not in used and pred(base[e])]
        if recent_first:
            pool.sort(key=lambda e: (base[e].date, e), reverse=True)
        else:
            rng.shuffle(pool)
        return pool

    def related_committee(code):
        c = committees[code]
        if c["parent"]:
            siblings = [s for s in committees[c["parent"]]["subs"] if s != code]
            return rng_for("sibling", code).choice(siblings) if siblings else c["parent"]
        if c["subs"]:
            return rng_for("sub", code).choice(c["subs"])
        return None

    scheduled = lambda m: m.status == "Scheduled"
    fixable = set(title_fixable)
    for kind, count in DAY2_CHANGES:
        if kind in ("postponed", "canceled", "rescheduled", "time moved"):
            pool = candidates(lambda m: scheduled(m) and m.event_id not in fixable, recent_first=True)
        elif kind == "title edited":
            pool = [e for e in title_fixable if e in day1 and e not in used and scheduled(base[e])]
            rng.shuffle(pool)
        elif kind == "witnesses added":
            pool = candidates(lambda m: len(m.witnesses) >= 3)
        elif kind == "witnesses removed":
            pool = candidates(lambda m: len(m.witnesses) >= 3)
        elif kind == "witness documents added":
            pool = candidates(lambda m: any(w["docs"] for w in m.witnesses))
        elif kind == "meeting documents added":
            pool = candidates(lambda m: m.chamber == "House" and m.date <= RUN1)
        elif kind == "transcript added":
            pool = candidates(lambda m: m.transcript_eligible() and not m.transcripts)
        elif kind == "committee added":
            pool = candidates(lambda m: len(m.codes) == 1 and related_committee(m.primary))
        elif kind == "video added":
            pool = candidates(lambda m: not m.videos and not is_closed(m.title) and m.date <= RUN1)
        else:
            raise AssertionError(kind)
        if len(pool) < count:
            raise SystemExit("not enough candidates for day-2 change %r" % kind)
        for eid in pool[:count]:
            used.add(eid)
            r = rng_for("change", kind, eid)
            before = day1_models[eid]
            after = copy.deepcopy(before)
            kinds = [kind]
            if kind == "postponed":
                after.status = "Postponed"
            elif kind == "canceled":
                after.status = "Canceled"
            elif kind == "rescheduled":
                after.status = "Rescheduled"
                # Moved to a weekday (Monday to Thursday) after the run, same time of day.
                day = DAY2_TO.date() + timedelta(days=r.randint(4, 25))
                while day.weekday() > 3:
                    day += timedelta(days=1)
                after.date = after.date.replace(year=day.year, month=day.month, day=day.day)
                if r.random() < 0.5:
                    after.title = after.title.rstrip() + " (Rescheduled)"
                    kinds.append("title edited")
            elif kind == "time moved":
                shifts = [s for s in (-60, -30, 30, 60, 90, 120)
                          if 12 <= (after.date + timedelta(minutes=s)).hour <= 22
                          and (after.date + timedelta(minutes=s)).date() == after.date.date()]
                after.date = after.date + timedelta(minutes=r.choice(shifts))
            elif kind == "title edited":
                after.title = fix_title(after.title)
            elif kind == "witnesses added":
                # The first run saw the witness list before its last witnesses were posted.
                n = 2 if (len(before.witnesses) >= 5 and r.random() < 0.5) else 1
                before.witnesses = before.witnesses[:-n]
            elif kind == "witnesses removed":
                del after.witnesses[r.randrange(1, len(after.witnesses))]
            elif kind == "witness documents added":
                # The first run saw only the statements (or, without any, nothing for the last
                # witness); the biographies, truth-in-testimony forms and the rest came later.
                trimmed = [[d for d in w["docs"] if d == "Wstate"] for w in before.witnesses]
                if trimmed == [w["docs"] for w in before.witnesses]:
                    with_docs = [w for w in before.witnesses if w["docs"]]
                    with_docs[-1]["docs"] = []
                else:
                    for w, docs in zip(before.witnesses, trimmed):
                        w["docs"] = docs
            elif kind == "meeting documents added":
                have = {d["documentType"] for d in after.meeting_docs}
                label = "Markup" if after.type == "Markup" else "Hearing"
                extra = []
                if "Committee Memo" not in have:
                    extra.append({"name": "%s: Memo" % label, "description": "Committee memorandum",
                                  "documentType": "Committee Memo"})
                if after.type == "Markup":
                    extra.append({"name": "Markup: Amendment",
                                  "description": "Manager's amendment", "documentType": "Amendment"})
                else:
                    extra.append({"name": "Witness List", "description": "",
                                  "documentType": "Support Document"})
                for d in extra[: 1 + (r.random() < 0.5)]:
                    after.add_meeting_doc(d)
            elif kind == "transcript added":
                after.transcripts = [jackets.pop()]
            elif kind == "committee added":
                after.codes.append(related_committee(after.primary))
            elif kind == "video added":
                after.videos = [after.video_entry(committees)]
            after.update = random_between(r, DAY2_FROM, DAY2_TO)
            day2_models[eid] = after
            changes[eid] = kinds

    # A few meetings were already canceled or postponed when the first run saw them.
    for status, count in DAY1_EXTRA_STATUS:
        for eid in candidates(scheduled)[:count]:
            used.add(eid)
            day1_models[eid].status = status

    for eid in unchanged:
        day2_models[eid] = day1_models[eid]
    for h in new:
        m = copy.deepcopy(base[h["event_id"]])
        m.update = random_between(rng_for("new-update", m.event_id), DAY2_FROM, DAY2_TO)
        day2_models[m.event_id] = m
        changes[m.event_id] = ["new"]

    return day1_models, day2_models, unchanged, changes


# ---------------------------------------------------------------------------------------
# Writing


def write_tree(out, committees, day1, day2, unchanged, changes, damaged, unattributed):
    for sub in ("day-1", "day-2"):
        path = os.path.join(out, sub)
        if os.path.isdir(path):
            shutil.rmtree(path)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "committees.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(dump(committees_document(committees)))

    texts = {}
    for day, models in (("day-1", day1), ("day-2", day2)):
        for eid in sorted(models):
            m = models[eid]
            folder = os.path.join(out, day, m.chamber.lower())
            os.makedirs(folder, exist_ok=True)
            text = dump(m.render(committees))
            if day == "day-2" and eid in unchanged:
                text = texts[("day-1", eid)]
            texts[(day, eid)] = text
            with open(os.path.join(folder, eid + ".json"), "w", encoding="utf-8", newline="\n") as f:
                f.write(text)

    stats = summarize(day1, day2, unchanged, changes)
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(readme(stats, committees, damaged, unattributed))
    return stats


def summarize(day1, day2, unchanged, changes):
    count = lambda models, ch: sum(1 for m in models.values() if m.chamber == ch)
    kinds = {}
    for eid, ks in changes.items():
        for k in ks:
            kinds[k] = kinds.get(k, 0) + 1
    changed = [e for e, ks in changes.items() if ks != ["new"]]
    order = [k for k, _ in DAY2_CHANGES]
    unchanged_updates = sorted(day1[e].update for e in unchanged)
    return {
        "day1": {"House": count(day1, "House"), "Senate": count(day1, "Senate")},
        "day2": {"House": count(day2, "House"), "Senate": count(day2, "Senate")},
        "unchanged": len(unchanged),
        "unchanged_from": unchanged_updates[0].strftime("%Y-%m-%d"),
        "unchanged_to": unchanged_updates[-1].strftime("%Y-%m-%d"),
        "changed": len(changed),
        "new": kinds.get("new", 0),
        "kinds": [(k, kinds.get(k, 0)) for k in order],
        "day1_status": {s: sum(1 for m in day1.values() if m.status == s)
                        for s in ("Scheduled", "Postponed", "Canceled", "Rescheduled")},
        "day1_type": {t: sum(1 for m in day1.values() if m.type == t)
                      for t in ("Hearing", "Markup", "Meeting")},
    }


def readme(stats, committees, damaged, unattributed):
    kinds = "\n".join("| %s | %d |" % (k, n) for k, n in stats["kinds"])
    d1, d2 = stats["day1"], stats["day2"]
    typed_children = sum(1 for c in committees.values() if c["parent"] and c["type"] != "Subcommittee")
    status = ", ".join("%d %s" % (n, s) for s, n in stats["day1_status"].items() if n)
    types = stats["day1_type"]
    return """# Sample data

Congress.gov API responses for two consecutive daily runs of `hearings`, bundled with the
`Congress` module. They let the tool, its tests and a first-time user exercise a full
update cycle without an API key or network access.

## Provenance

The sample is derived from the predecessor system's production database as of 2025-10-02
(`archive/legacy_databases/database_audit.db` of the public repository
`jasonlemming/Hearing-Database`). That data is public US government information that came
from the Congress.gov API (Library of Congress); it covers the 119th Congress.

Copied from the database:

- `eventId`, `congress`, `chamber`, and `title` verbatim (line breaks, quotes and all);
- `date`, from the stored meeting date and UTC time of day;
- `updateDate` of every day-1 document;
- the meeting's committees, and every committee in `committees.json` (system code, name,
  chamber, type, parent, URL); a committee's `updateDate` is when the predecessor stored it;
- witness names, positions and organizations, in appearance order. Only House meetings
  have witnesses: the predecessor stored none for the Senate.

Synthesized by `tools/make_sample.py`, because the predecessor never stored them:

- `meetingStatus`, `type`, `location`, `meetingDocuments`, `witnessDocuments`,
  `hearingTranscript`, `videos`, `relatedItems` (bills named in the title), the honorific
  added to some witness names, and every day-2 change.

What was corrected or left out:

- 221 meetings carry two committee links, both marked primary. In each one the earlier
  link comes from a bulk pass of the predecessor that attached a wrong committee (for
  example Senate Agriculture on the Secretary of State nomination hearing). Only the later
  link, the meeting's own committee, is kept.
- %d meetings whose only committee link comes from such a bulk pass are left out: their
  committee cannot be trusted.
- %d Senate meetings with an empty title and no date (%s to %s) are left out:
  nothing the API published about them survives.
- Three Ways and Means joint subcommittee hearings (%s) also list
  the second subcommittee their titles name.
- Committee types are kept as stored. %d subcommittees (all Senate) have type `Standing`,
  and the select and special committees are typed `Standing` too. Tell a subcommittee by
  its `parent`.

## Derived fields

- `type`, from the title. "Markup" or "mark up" gives `Markup`. Senate: business meetings
  and closed briefings are `Meeting`; everything else is `Hearing`. House: organizational
  and business meetings, roster approvals, and Rules Committee meetings on a measure are
  `Meeting`; titles naming a hearing, a member day or a witness day are `Hearing`; titles
  that take up measures (a bill number first, "to consider", "various measures", committee
  prints, appropriations bills, reconciliation, budget resolutions) are `Markup`; the rest
  are `Hearing`. Day 1 has %d hearings, %d markups and %d meetings.
- `meetingStatus` is `Scheduled` unless the title says otherwise ("POSTPONED: ...",
  "Rescheduled ..."); a few more day-1 meetings are `Canceled` or `Postponed`. Day 1:
  %s.
- `location` is a room the committee uses: Rayburn, Longworth or Cannon (Rules in the
  Capitol, Intelligence in the Capitol Visitor Center), or Dirksen, Russell or Hart. Field
  hearings have a street address instead.
- `updateDate` uses the API's other form, `2025-03-24 13:00:00+00:00`, in about 15%% of the
  documents, and `2025-03-24T13:00:00Z` in the rest.
- `videos` uses the API's other form, `{"item": [...]}`, in about 10%% of the documents that
  have videos.
- `hearingTranscript` is present for about 40%% of the hearings held before 2025-06-01.
  Jacket numbers are unique, between 59000 and 61999.
- Witness documents follow Congress.gov's file names,
  `HHRG-119-<committee>-<Wstate|Wbio|Wtruth|Wsupp>-<LastnameInitial>-<YYYYMMDD>.pdf`;
  meeting documents are numbered `HHRG-119-<committee>-<YYYYMMDD>-SD001.pdf` and on.

## Layout

```
committees.json                 GET /committee/119: all %d committees, one page
day-1/house/<eventId>.json      GET /committee-meeting/119/house/<eventId>    %d files
day-1/senate/<eventId>.json     GET /committee-meeting/119/senate/<eventId>   %d files
day-2/house/<eventId>.json      the same, one day later                       %d files
day-2/senate/<eventId>.json                                                   %d files
```

Each meeting file is one committee-meeting detail response, `{"committeeMeeting": {...},
"request": {...}}`. Day 1 holds %d meetings spread over the committees, House meetings with
witnesses preferred.

## Day 2

What a daily run on the following day fetches through its look-back window:

- %d meetings unchanged, byte-identical to day 1 (last updated %s to %s,
  inside the overlap of the two windows);
- %d meetings from day 1 in a later version, `updateDate` moved to 2025-10-02 or 2025-10-03;
- %d meetings not in day 1, `updateDate` moved to 2025-10-02 or 2025-10-03.

Changes in the later versions (a rescheduled meeting may also have its title edited, so the
counts add up to more than %d):

| change | meetings |
|---|---|
%s

For "witnesses added" and "witness documents added", the day-1 version is the earlier,
shorter one and day 2 has the full list.

## Regenerating

```
python3 tools/make_sample.py            # rebuild this directory, then check it
python3 tools/make_sample.py --check    # check it, and compare it with a fresh rebuild
```

`--db PATH` points at the predecessor's database (by default it is looked for in
`shared/data/` next to the repository), and `--out DIR` writes elsewhere. The output is
deterministic: the same database gives byte-identical files.
""" % (
        len(unattributed),
        len(damaged), damaged[0], damaged[-1],
        ", ".join(sorted(TITLE_SECOND_COMMITTEE)),
        typed_children,
        types["Hearing"], types["Markup"], types["Meeting"],
        status,
        len(committees),
        d1["House"], d1["Senate"], d2["House"], d2["Senate"],
        d1["House"] + d1["Senate"],
        stats["unchanged"], stats["unchanged_from"], stats["unchanged_to"],
        stats["changed"], stats["new"],
        stats["changed"],
        kinds,
    )


def generate(db, out):
    committees, hearings, damaged, unattributed = load(db)
    day1, day2, unchanged, changes = build(committees, hearings)
    return write_tree(out, committees, day1, day2, unchanged, changes, damaged, unattributed)


def print_stats(stats, out):
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print("day-1: %d house, %d senate" % (stats["day1"]["House"], stats["day1"]["Senate"]))
    print("day-2: %d house, %d senate (%d unchanged, %d changed, %d new)" % (
        stats["day2"]["House"], stats["day2"]["Senate"], stats["unchanged"], stats["changed"],
        stats["new"]))
    for k, n in stats["kinds"]:
        print("  %-26s %d" % (k, n))
    print("total size: %d bytes" % total)


# ---------------------------------------------------------------------------------------
# The fixture of every meeting


def damaged_document(h, committees):
    """The detail response of a damaged meeting: empty title, no date, nothing derived."""
    chamber = h["chamber"].lower()
    meeting = {
        "chamber": h["chamber"],
        "committees": [
            {"name": committees[c]["name"], "systemCode": c, "url": committees[c]["url"]}
            for c in h["codes"]
        ],
        "congress": CONGRESS,
        "eventId": h["event_id"],
        "hearingTranscript": [],
        "meetingDocuments": [],
        "meetingStatus": "Scheduled",
        "relatedItems": {"bills": [], "nominations": [], "treaties": []},
        "title": h["title"],
        "type": "Hearing",
        "updateDate": iso_z(h["update"]),
        "videos": [],
        "witnessDocuments": [],
        "witnesses": [],
    }
    request = {"chamber": chamber, "congress": str(CONGRESS), "contentType": "application/json",
               "eventId": h["event_id"], "format": "json"}
    return {"committeeMeeting": meeting, "request": request}


def write_fixture(db, path):
    """Writes every meeting of the database as one detail response per line (JSON lines).

    Same derivation as the sample's base version of a meeting (before any day-1 or day-2
    change): status and type from the title, location, documents, videos, transcripts for
    about 40% of the eligible hearings (unique jacket numbers). The damaged meetings come as
    they are: empty title, no date. Ordered by event id; deterministic.
    """
    committees, hearings, damaged, unattributed = load(db, everything=True)
    jackets = list(range(59000, 62000))
    rng_for("jackets").shuffle(jackets)
    lines = []
    for h in sorted(hearings, key=lambda h: h["event_id"]):
        if h["date"] is None:
            doc = damaged_document(h, committees)
        else:
            m = Meeting(h, committees)
            if m.transcript_eligible() and chance(0.4, "transcript", m.event_id):
                m.transcripts = [jackets.pop()]
            doc = m.render(committees)
        lines.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=False))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    size = os.path.getsize(path)
    print("fixture: %d meetings (%d damaged, %d with an untrusted committee), %d bytes -> %s" % (
        len(lines), len(damaged), len(unattributed), size, path))
    return len(lines), size


# ---------------------------------------------------------------------------------------
# Checking


MEETING_KEYS = [
    "chamber", "committees", "congress", "date", "eventId", "hearingTranscript", "location",
    "meetingDocuments", "meetingStatus", "relatedItems", "title", "type", "updateDate",
    "videos", "witnessDocuments", "witnesses",
]


def check(out, db=None):
    errors = []

    def fail(msg):
        errors.append(msg)

    def load_json(path):
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        data = json.loads(text)
        if dump(data) != text:
            fail("%s: not in the canonical formatting (indent 2, trailing newline)" % path)
        return raw, data

    _, cdoc = load_json(os.path.join(out, "committees.json"))
    codes = {}
    for c in cdoc["committees"]:
        for k in ("systemCode", "name", "chamber", "committeeTypeCode", "url", "updateDate"):
            if k not in c:
                fail("committee %s: missing %s" % (c.get("systemCode"), k))
        if c["systemCode"] in codes:
            fail("committee %s twice" % c["systemCode"])
        codes[c["systemCode"]] = c
        if c["url"] != committee_url(c["chamber"], c["systemCode"]):
            fail("committee %s: url %s" % (c["systemCode"], c["url"]))
        parse_api_datetime(c["updateDate"])
    for c in cdoc["committees"]:
        if "parent" in c and c["parent"]["systemCode"] not in codes:
            fail("committee %s: unknown parent" % c["systemCode"])
        if c["committeeTypeCode"] == "Subcommittee" and "parent" not in c:
            fail("committee %s: subcommittee without parent" % c["systemCode"])
    if cdoc["pagination"]["count"] != len(cdoc["committees"]) or len(codes) != 214:
        fail("committees.json: %d committees" % len(codes))

    days = {}
    jackets = {}
    for day in ("day-1", "day-2"):
        docs = {}
        for chamber in ("house", "senate"):
            folder = os.path.join(out, day, chamber)
            for name in sorted(os.listdir(folder)):
                path = os.path.join(folder, name)
                try:
                    raw, doc = load_json(path)
                except (ValueError, UnicodeDecodeError) as e:
                    fail("%s: %s" % (path, e))
                    continue
                where = "%s/%s/%s" % (day, chamber, name)
                if list(doc) != ["committeeMeeting", "request"]:
                    fail("%s: top-level keys %s" % (where, list(doc)))
                    continue
                m = doc["committeeMeeting"]
                if list(m) != MEETING_KEYS:
                    fail("%s: keys %s" % (where, list(m)))
                    continue
                eid = m["eventId"]
                if name != eid + ".json" or not re.fullmatch(r"\d{6}", eid):
                    fail("%s: eventId %s" % (where, eid))
                if eid in docs:
                    fail("%s: eventId %s twice in %s" % (where, eid, day))
                if m["chamber"].lower() != chamber or m["congress"] != CONGRESS:
                    fail("%s: chamber/congress %s/%s" % (where, m["chamber"], m["congress"]))
                req = doc["request"]
                if req != {"chamber": chamber, "congress": str(CONGRESS),
                           "contentType": "application/json", "eventId": eid, "format": "json"}:
                    fail("%s: request %s" % (where, req))
                if not m["title"].strip():
                    fail("%s: empty title" % where)
                if m["type"] not in ("Hearing", "Markup", "Meeting"):
                    fail("%s: type %s" % (where, m["type"]))
                if m["meetingStatus"] not in ("Scheduled", "Canceled", "Postponed", "Rescheduled"):
                    fail("%s: status %s" % (where, m["meetingStatus"]))
                if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["date"]):
                    fail("%s: date %s" % (where, m["date"]))
                try:
                    update = parse_api_datetime(m["updateDate"])
                except ValueError as e:
                    fail("%s: %s" % (where, e))
                    continue
                if not m["committees"]:
                    fail("%s: no committees" % where)
                seen_codes = set()
                for c in m["committees"]:
                    if c.get("systemCode") not in codes:
                        fail("%s: unknown committee %s" % (where, c.get("systemCode")))
                    elif c != {"name": codes[c["systemCode"]]["name"], "systemCode": c["systemCode"],
                               "url": codes[c["systemCode"]]["url"]}:
                        fail("%s: committee %s differs from committees.json" % (where, c["systemCode"]))
                    if c.get("systemCode") in seen_codes:
                        fail("%s: committee %s twice" % (where, c.get("systemCode")))
                    seen_codes.add(c.get("systemCode"))
                loc = m["location"]
                address_keys = {"city", "state", "street", "zipCode"}
                if not (set(loc) == {"building", "room"} or
                        (set(loc) == {"address"} and set(loc["address"]) == address_keys)):
                    fail("%s: location %s" % (where, loc))
                for w in m["witnesses"]:
                    if "name" not in w or set(w) - {"name", "position", "organization"}:
                        fail("%s: witness %s" % (where, w))
                if m["witnesses"] and chamber != "house":
                    fail("%s: Senate witnesses" % where)
                for d in m["witnessDocuments"]:
                    if (set(d) != {"documentType", "format", "url"} or not re.fullmatch(
                            r"https://www\.congress\.gov/119/meeting/house/%s/witnesses/"
                            r"HHRG-119-[A-Z0-9]{4}-W(state|bio|truth|supp)-[A-Za-z-]+\d*-\d{8}\.pdf" % eid,
                            d["url"])):
                        fail("%s: witness document %s" % (where, d))
                urls = [d["url"] for d in m["witnessDocuments"] + m["meetingDocuments"]]
                if len(urls) != len(set(urls)):
                    fail("%s: duplicate document urls" % where)
                if m["witnessDocuments"] and not m["witnesses"]:
                    fail("%s: witness documents without witnesses" % where)
                for d in m["meetingDocuments"]:
                    url_ok = re.fullmatch(
                        r"https://www\.congress\.gov/119/meeting/house/%s/documents/"
                        r"HHRG-119-[A-Z0-9]{4}-\d{8}-SD\d{3}\.pdf" % eid, d["url"])
                    if list(d) != ["description", "documentType", "format", "name", "url"] or not url_ok:
                        fail("%s: meeting document %s" % (where, d))
                videos = m["videos"]
                if isinstance(videos, dict):
                    if list(videos) != ["item"] or not videos["item"]:
                        fail("%s: videos %s" % (where, videos))
                    videos = videos.get("item", [])
                for v in videos:
                    if list(v) != ["name", "url"] or not v["url"].endswith("-event/" + eid):
                        fail("%s: video %s" % (where, v))
                for t in m["hearingTranscript"]:
                    j = t.get("jacketNumber")
                    if not isinstance(j, int) or not 59000 <= j <= 61999 or t.get("url") != \
                            "%s/hearing/119/%s/%d?format=json" % (API, chamber, j):
                        fail("%s: transcript %s" % (where, t))
                    elif jackets.setdefault(j, eid) != eid:
                        fail("%s: jacket %d also used by %s" % (where, j, jackets[j]))
                rel = m["relatedItems"]
                if list(rel) != ["bills", "nominations", "treaties"]:
                    fail("%s: relatedItems %s" % (where, rel))
                for b in rel.get("bills", []):
                    if list(b) != ["congress", "number", "type", "url"] or b["url"] != \
                            "%s/bill/119/%s/%s?format=json" % (API, b["type"].lower(), b["number"]):
                        fail("%s: bill %s" % (where, b))
                docs[eid] = (raw, update, m)
        days[day] = docs

    d1, d2 = days["day-1"], days["day-2"]
    unchanged = changed = new = 0
    for eid, (raw, update, m) in d2.items():
        if eid in d1:
            raw1, update1, m1 = d1[eid]
            if raw == raw1:
                unchanged += 1
            elif update <= update1:
                fail("day-2/%s: updateDate %s not later than day 1's" % (eid, m["updateDate"]))
            else:
                changed += 1
                if m1["chamber"] != m["chamber"]:
                    fail("day-2/%s: chamber changed" % eid)
        else:
            new += 1
            if update < DAY2_FROM:
                fail("day-2/%s: new meeting with an old updateDate" % eid)
    if not (d1 and unchanged and changed and new):
        fail("day 2: %d unchanged, %d changed, %d new" % (unchanged, changed, new))

    # Day 1 must hold every kind of child row.
    allm = [m for (_, _, m) in d1.values()]
    wdoc_types = {d["documentType"] for m in allm for d in m["witnessDocuments"]}
    wanted = {
        "witnesses": any(m["witnesses"] for m in allm),
        "witness statement": "Witness Statement" in wdoc_types,
        "witness biography": "Witness Biography" in wdoc_types,
        "truth in testimony": "Witness Truth in Testimony" in wdoc_types,
        "supporting document": "Witness Supporting Document" in wdoc_types,
        "meeting documents": any(m["meetingDocuments"] for m in allm),
        "videos (list)": any(isinstance(m["videos"], list) and m["videos"] for m in allm),
        "videos (item)": any(isinstance(m["videos"], dict) for m in allm),
        "transcripts": any(m["hearingTranscript"] for m in allm),
        "related bills": any(m["relatedItems"]["bills"] for m in allm),
        "two committees": any(len(m["committees"]) > 1 for m in allm),
        "address": any("address" in m["location"] for m in allm),
        "offset updateDate": any("+00:00" in m["updateDate"] for m in allm),
        "canceled": any(m["meetingStatus"] == "Canceled" for m in allm),
        "postponed": any(m["meetingStatus"] == "Postponed" for m in allm),
        "markup": any(m["type"] == "Markup" for m in allm),
        "meeting": any(m["type"] == "Meeting" for m in allm),
    }
    for k, ok in wanted.items():
        if not ok:
            fail("day 1 has no %s" % k)

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    if total > 4 * 1024 * 1024:
        fail("sample is %d bytes, over 4 MB" % total)
    if not os.path.isfile(os.path.join(out, "README.md")):
        fail("README.md missing")

    if db and os.path.isfile(db):
        with tempfile.TemporaryDirectory() as tmp:
            generate(db, tmp)
            mine = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
            fresh = sorted(os.path.relpath(os.path.join(d, f), tmp) for d, _, fs in os.walk(tmp) for f in fs)
            if mine != fresh:
                fail("a fresh rebuild has different files: %s" % sorted(set(mine) ^ set(fresh))[:5])
            for rel in set(mine) & set(fresh):
                with open(os.path.join(out, rel), "rb") as a, open(os.path.join(tmp, rel), "rb") as b:
                    if a.read() != b.read():
                        fail("a fresh rebuild differs in %s" % rel)
    elif db:
        print("database not found: %s; skipping the rebuild comparison" % db)

    print("check: day-1 %d meetings, day-2 %d (%d unchanged, %d changed, %d new), %d committees, %d bytes"
          % (len(d1), len(d2), unchanged, changed, new, len(codes), total))
    for e in errors[:50]:
        print("error: " + e, file=sys.stderr)
    if errors:
        print("check failed: %d errors" % len(errors), file=sys.stderr)
        return False
    print("check passed")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=DEFAULT_DB, help="predecessor database (default: %(default)s)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="sample directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="only check the sample directory")
    ap.add_argument("--fixture", metavar="PATH",
                    help="write every meeting of the database as JSON lines to PATH (sample untouched)")
    args = ap.parse_args()
    if args.fixture:
        if not os.path.isfile(args.db):
            print("database not found: %s" % args.db, file=sys.stderr)
            return 2
        write_fixture(args.db, args.fixture)
        return 0
    if args.check:
        return 0 if check(args.out, args.db) else 1
    if not os.path.isfile(args.db):
        print("database not found: %s" % args.db, file=sys.stderr)
        return 2
    stats = generate(args.db, args.out)
    print_stats(stats, args.out)
    return 0 if check(args.out) else 1


if __name__ == "__main__":
    sys.exit(main())
