#!/usr/bin/env python3
"""Read and check a journal folder, independently of the Swift code.

Written from docs/journal-format.md alone: it is the proof that the specification is complete. It
reads the segment files of a journal folder in position order, checks each one (metadata frame,
record header checks, the SHA-256 hash chain, gap-free positions, every LZ4 frame and its content
checksum, the line count and every line's position) and applies the torn-tail rule to damage at the
end of the last segment. The derived index file, when its header and segment list are consistent
with the segments, is evidence that the bytes it covers were durable: damage there is never a torn
tail.

Usage:
  python3 tools/journal_reader.py DIR            print every event line, in position order
  python3 tools/journal_reader.py --verify DIR   check everything; print a summary; also say
                                                 whether the derived index file is fresh

Exit status: 0 the journal is sound (a torn tail, which the next open for writing cuts, and a
stale, damaged or missing index are not damage); 1 the folder cannot be read; 2 usage error; 4
damage (or a format version this reader does not know), reported on standard error with the
segment and the byte offset of the damaged frame.

Standard library only; LZ4 frames are decoded by the system's liblz4.so.1 through ctypes.
"""

import argparse
import ctypes
import hashlib
import json
import os
import re
import struct
import sys

SEGMENT_MAGIC = 0x184D2A50
RECORD_MAGIC = 0x184D2A51
SEGMENT_TAG = b"HJSG"
RECORD_TAG = b"HJRC"
FORMAT_VERSION = 1
METADATA_LENGTH = 64
HEADER_FIXED_LENGTH = 80  # 8 frame header + 64 fixed fields + 8 check, without keys
MAXIMUM_KEYS_LENGTH = 1 << 20
DURABLE_FLAG = 1
ZERO_HASH = bytes(32)
SEGMENT_NAME = re.compile(r"[0-9]{20}\.lz4")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
TYPE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

INDEX_NAME = ".index"
INDEX_MAGIC = b"HJIX"
INDEX_VERSION = 3  # version 2 (no fence) is read too
INDEX_HEADER_LENGTH = 96
INDEX_CHUNK_LENGTH = 4096

EXIT_UNREADABLE = 1
EXIT_DAMAGED = 4


def sha256(data):
    return hashlib.sha256(data).digest()


def u16(data, at):
    return struct.unpack_from("<H", data, at)[0]


def u32(data, at):
    return struct.unpack_from("<I", data, at)[0]


def u64(data, at):
    return struct.unpack_from("<Q", data, at)[0]


class Damage(Exception):
    """Damage that is not a torn tail, or a segment this reader must refuse."""

    def __init__(self, reason, segment, offset):
        super().__init__(reason)
        self.reason = reason
        self.segment = segment
        self.offset = offset

    def __str__(self):
        return "%s (segment %s, byte offset %d)" % (self.reason, self.segment, self.offset)


class FrameProblem(Exception):
    pass


class LZ4FrameDecoder:
    """liblz4's frame API (lz4frame.h) through ctypes."""

    LZ4F_VERSION = 100

    def __init__(self):
        try:
            lib = ctypes.CDLL("liblz4.so.1")
        except OSError as error:
            raise SystemExit("journal_reader: cannot load liblz4.so.1: %s" % error)
        lib.LZ4F_createDecompressionContext.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_uint]
        lib.LZ4F_createDecompressionContext.restype = ctypes.c_size_t
        lib.LZ4F_freeDecompressionContext.argtypes = [ctypes.c_void_p]
        lib.LZ4F_freeDecompressionContext.restype = ctypes.c_size_t
        lib.LZ4F_decompress.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.c_void_p,
        ]
        lib.LZ4F_decompress.restype = ctypes.c_size_t
        lib.LZ4F_isError.argtypes = [ctypes.c_size_t]
        lib.LZ4F_isError.restype = ctypes.c_uint
        lib.LZ4F_getErrorName.argtypes = [ctypes.c_size_t]
        lib.LZ4F_getErrorName.restype = ctypes.c_char_p
        self.lib = lib

    def error_name(self, code):
        name = self.lib.LZ4F_getErrorName(code)
        return name.decode("ascii", "replace") if name else "unknown LZ4 error"

    def decode(self, frame, expected_length):
        """Decodes exactly one complete LZ4 frame into exactly `expected_length` bytes.

        liblz4 checks the content checksum (and the content size field) when the frame ends.
        """
        lib = self.lib
        context = ctypes.c_void_p()
        status = lib.LZ4F_createDecompressionContext(ctypes.byref(context), self.LZ4F_VERSION)
        if lib.LZ4F_isError(status) or not context.value:
            raise SystemExit("journal_reader: cannot create an LZ4 decompression context")
        try:
            source = ctypes.create_string_buffer(bytes(frame), max(1, len(frame)))
            output = ctypes.create_string_buffer(max(1, expected_length))
            source_base = ctypes.addressof(source)
            output_base = ctypes.addressof(output)
            consumed_total = 0
            produced_total = 0
            hint = 1
            while hint != 0:
                if consumed_total == len(frame):
                    raise FrameProblem("frame ends before its end mark")
                consumed = ctypes.c_size_t(len(frame) - consumed_total)
                produced = ctypes.c_size_t(expected_length - produced_total)
                hint = lib.LZ4F_decompress(
                    context,
                    output_base + produced_total,
                    ctypes.byref(produced),
                    source_base + consumed_total,
                    ctypes.byref(consumed),
                    None,
                )
                if lib.LZ4F_isError(hint):
                    raise FrameProblem("LZ4 frame is invalid: %s" % self.error_name(hint))
                consumed_total += consumed.value
                produced_total += produced.value
                if consumed.value == 0 and produced.value == 0 and hint != 0:
                    raise FrameProblem("frame decodes to more than %d bytes" % expected_length)
            if consumed_total != len(frame):
                raise FrameProblem("%d bytes follow the frame's end mark" % (len(frame) - consumed_total))
            if produced_total != expected_length:
                raise FrameProblem(
                    "frame decodes to %d bytes, header says %d" % (produced_total, expected_length)
                )
            return output.raw[:expected_length]
        finally:
            lib.LZ4F_freeDecompressionContext(context)


class Header:
    __slots__ = (
        "flags",
        "first_position",
        "event_count",
        "payload_length",
        "frame_length",
        "previous_hash",
        "keys",
        "header_length",
    )

    @property
    def durable(self):
        return self.flags & DURABLE_FLAG != 0

    @property
    def record_length(self):
        return self.header_length + self.frame_length


INCOMPLETE = "incomplete"
INVALID = "invalid"
VALID = "valid"


def parse_record_header(data, at):
    """Parses a record header frame at `at`: (VALID, Header), (INCOMPLETE, reason), (INVALID, reason)."""
    available = len(data) - at
    if available < 8:
        return INCOMPLETE, "the last record is incomplete"
    if u32(data, at) != RECORD_MAGIC:
        return INVALID, "no record header frame here (bad magic number)"
    content_length = u32(data, at + 4)
    fixed = HEADER_FIXED_LENGTH - 8
    if not fixed <= content_length <= fixed + MAXIMUM_KEYS_LENGTH:
        return INVALID, "record header frame has an impossible size %d" % content_length
    if available < 8 + content_length:
        return INCOMPLETE, "the last record is incomplete"
    check_at = at + content_length  # the last 8 bytes of the frame's content
    if (
        sha256(data[at + 8 : check_at])[:8] != data[check_at : check_at + 8]
        or data[at + 8 : at + 12] != RECORD_TAG
    ):
        return INVALID, "record header frame fails its check"
    keys_length = u32(data, at + 36)
    if keys_length != content_length - fixed:
        return INVALID, "record header frame's key length disagrees with its size"
    keys = []
    cursor = at + 72
    end = cursor + keys_length
    while cursor < end:
        if cursor + 6 > end:
            return INVALID, "record key table is truncated"
        event_index = u32(data, cursor)
        length = u16(data, cursor + 4)
        cursor += 6
        if cursor + length > end:
            return INVALID, "record key is truncated"
        if event_index >= u32(data, at + 24):
            return INVALID, "record key names event %d, beyond the record's events" % event_index
        keys.append((event_index, data[cursor : cursor + length].decode("utf-8", "replace")))
        cursor += length
    header = Header()
    header.flags = u32(data, at + 12)
    header.first_position = u64(data, at + 16)
    header.event_count = u32(data, at + 24)
    header.payload_length = u32(data, at + 28)
    header.frame_length = u32(data, at + 32)
    header.previous_hash = bytes(data[at + 40 : at + 72])
    header.keys = keys
    header.header_length = 8 + content_length
    return VALID, header


def decode_record(decoder, data, at, header):
    """Decodes the record's LZ4 frame; checks it holds `event_count` newline-terminated lines."""
    frame = data[at + header.header_length : at + header.record_length]
    payload = decoder.decode(frame, header.payload_length)
    lines = payload.count(b"\n")
    if lines != header.event_count or not payload.endswith(b"\n"):
        raise FrameProblem("record holds %d lines, its header says %d" % (lines, header.event_count))
    return payload


def damage_is_torn_tail(decoder, data, at):
    """The torn-tail rule: whether damage at `at` in the last segment can be the work of a crash."""
    following = []
    magic = struct.pack("<I", RECORD_MAGIC)
    cursor = data.find(magic, at + 1)
    while cursor != -1 and cursor + 8 <= len(data):
        kind, header = parse_record_header(data, cursor)
        if kind == VALID and cursor + header.record_length <= len(data):
            try:
                decode_record(decoder, data, cursor, header)
            except FrameProblem:
                pass
            else:
                following.append(header.durable)
                cursor = data.find(magic, cursor + header.record_length)
                continue
        cursor = data.find(magic, cursor + 1)
    kind, damaged = parse_record_header(data, at)
    if kind == VALID and damaged.durable and following:
        return False
    return True not in following[:-1]


def check_lines(payload, first_position, segment, offset, strict_json):
    """Every line starts with its own position; with `strict_json`, it is also the documented object."""
    lines = payload.split(b"\n")[:-1]
    for number, line in enumerate(lines):
        position = first_position + number
        prefix = b'{"position":%d,' % position
        if len(line) <= len(prefix) or not line.startswith(prefix):
            raise Damage("event line does not start with its position %d" % position, segment, offset)
        if not strict_json:
            continue
        try:
            names = []
            event = json.loads(line, object_pairs_hook=lambda pairs: names.append(pairs) or dict(pairs))
        except ValueError as error:
            raise Damage("event %d is not valid JSON: %s" % (position, error), segment, offset)
        top = [name for name, _ in names[-1]] if names else []
        if len(set(top)) != len(top):
            raise Damage("event %d repeats a field name" % position, segment, offset)
        if (
            not isinstance(event, dict)
            or top[:3] != ["position", "time", "type"]
            or event["position"] != position
            or not isinstance(event["time"], str)
            or not TIME.fullmatch(event["time"])
            or not isinstance(event["type"], str)
            or not TYPE.fullmatch(event["type"])
        ):
            raise Damage("event %d does not have the documented envelope" % position, segment, offset)


class Walk:
    """The chain walk over every segment from position 1, in order."""

    def __init__(self, directory, strict_json, index):
        self.directory = directory
        self.strict_json = strict_json
        self.index = index  # the loaded index file (section 11.4), or None
        self.synced_through = None  # (segment, offset): bytes before it were durable (section 9)
        self.decoder = LZ4FrameDecoder()
        self.segments = []  # (first position, file name)
        self.records = []  # (first position, segment, offset, length, count, keys)
        self.chain_points = []  # (segment, end offset, next position, hash) after metadata and records
        self.torn_tail = None
        self.stored_bytes = 0

    def list_segments(self):
        names = os.listdir(self.directory)
        for name in names:
            if SEGMENT_NAME.fullmatch(name) and int(name[:20]) < 1 << 64:
                self.segments.append((int(name[:20]), name))
        self.segments.sort()

    def run(self, on_line):
        self.list_segments()
        if not self.segments:
            return
        if self.index is not None:
            listed = self.index.segments
            if listed == [first for first, _ in self.segments][: len(listed)]:
                self.synced_through = (self.index.coverage_segment, self.index.coverage_end)
        if self.segments[0][0] != 1:
            raise Damage(
                "the journal does not start at position 1: its first segment starts at %d"
                % self.segments[0][0],
                self.segments[0][1],
                0,
            )
        state = [1, ZERO_HASH]  # next position, hash the next link must name
        for number, (first, name) in enumerate(self.segments):
            self.walk_segment(first, name, state, number == len(self.segments) - 1, on_line)

    def known_durable(self, segment, offset):
        """Whether `offset` of `segment` lies before the index's coverage point: synced bytes."""
        if self.synced_through is None:
            return False
        synced_segment, synced_offset = self.synced_through
        return segment < synced_segment or (segment == synced_segment and offset < synced_offset)

    def walk_segment(self, first, name, state, is_last, on_line):
        with open(os.path.join(self.directory, name), "rb") as handle:
            data = handle.read()
        self.stored_bytes += len(data)
        if len(data) < METADATA_LENGTH:
            raise Damage(
                "segment metadata is damaged: segment metadata frame is incomplete (%d bytes)" % len(data),
                name,
                0,
            )
        if u32(data, 0) != SEGMENT_MAGIC or data[8:12] != SEGMENT_TAG:
            raise Damage("segment metadata is damaged: bad magic number or tag", name, 0)
        # The version comes before the size and the check, which a later version may change (section 12).
        version = u32(data, 12)
        if version != FORMAT_VERSION:
            raise Damage(
                "segment format version %d is not supported (this reader knows %d)"
                % (version, FORMAT_VERSION),
                name,
                0,
            )
        if u32(data, 4) != METADATA_LENGTH - 8:
            raise Damage("segment metadata is damaged: bad frame size %d" % u32(data, 4), name, 0)
        if sha256(data[8:56])[:8] != data[56:64]:
            raise Damage("segment metadata is damaged: segment metadata frame fails its check", name, 0)
        if u64(data, 16) != first:
            raise Damage("segment metadata says it starts at position %d" % u64(data, 16), name, 0)
        if first != state[0]:
            raise Damage(
                "position gap: expected a segment starting at %d, found %d (a segment is missing)"
                % (state[0], first),
                name,
                0,
            )
        if data[24:56] != state[1]:
            raise Damage("hash chain broken: the previous segment's last record does not match", name, 0)
        state[1] = sha256(data[0:METADATA_LENGTH])
        self.chain_points.append((first, METADATA_LENGTH, state[0], state[1]))
        cursor = METADATA_LENGTH
        while cursor < len(data):
            kind, header = parse_record_header(data, cursor)
            problem = None
            if kind != VALID:
                problem = header
            elif cursor + header.record_length > len(data):
                problem = "the last record is incomplete"
            elif header.previous_hash != state[1]:
                problem = "hash chain broken: the record does not follow the one before it"
            elif header.first_position != state[0] or header.event_count == 0:
                problem = "position gap: expected %d, found %d" % (state[0], header.first_position)
            else:
                try:
                    payload = decode_record(self.decoder, data, cursor, header)
                except FrameProblem as reason:
                    problem = str(reason)
            if problem is not None:
                if is_last and self.known_durable(first, cursor):
                    problem += " (before the index's coverage point: durable bytes, not a crash's work)"
                elif is_last and damage_is_torn_tail(self.decoder, data, cursor):
                    self.torn_tail = (name, cursor, len(data) - cursor, problem)
                    return
                raise Damage(problem, name, cursor)
            check_lines(payload, header.first_position, name, cursor, self.strict_json)
            for line in payload.split(b"\n")[:-1]:
                on_line(line)
            end = cursor + header.record_length
            self.records.append(
                (header.first_position, first, cursor, header.record_length, header.event_count, header.keys)
            )
            state[1] = sha256(data[cursor:end])
            state[0] += header.event_count
            cursor = end
            self.chain_points.append((first, cursor, state[0], state[1]))


def key_hash(key):
    return u64(sha256(key.encode("utf-8")), 0)


def chunk_count(length):
    return (length + INDEX_CHUNK_LENGTH - 1) // INDEX_CHUNK_LENGTH


class Index:
    """A loaded index file: its header fields, its segment list and all of its bytes."""

    def __init__(self, data):
        self.data = data
        self.record_count = u64(data, 8)
        self.key_count = u64(data, 16)
        segment_count = u64(data, 24)
        self.next_position = u64(data, 32)
        self.coverage_segment = u64(data, 40)
        self.coverage_end = u64(data, 48)
        self.last_hash = bytes(data[56:88])
        self.segments = [u64(data, INDEX_HEADER_LENGTH + 8 * n) for n in range(segment_count)]
        self.records_base = INDEX_HEADER_LENGTH + 8 * segment_count
        self.keys_base = self.records_base + 32 * self.record_count
        self.checks_base = self.keys_base + 16 * self.key_count
        self.version = u32(data, 4)
        chunks = chunk_count(32 * self.record_count) + chunk_count(16 * self.key_count)
        # Version 3: the fence, the first 8 bytes of every chunk, after the checks (section 11.1).
        self.fence_base = self.checks_base + 8 * chunks if self.version >= 3 else None

    def damaged_chunk(self):
        """The first table chunk whose check fails, as words, or None (section 11.1)."""
        check = self.checks_base
        for table, base, length in (
            ("record table", self.records_base, 32 * self.record_count),
            ("key table", self.keys_base, 16 * self.key_count),
        ):
            for number in range(chunk_count(length)):
                start = base + number * INDEX_CHUNK_LENGTH
                chunk = self.data[start : min(base + length, start + INDEX_CHUNK_LENGTH)]
                if sha256(chunk)[:8] != self.data[check : check + 8]:
                    return "%s chunk %d (byte offset %d)" % (table, number, start)
                check += 8
        return None


def load_index(directory):
    """Loads the index file as opening does (section 11.4): (Index, None), or (None, why not)."""
    path = os.path.join(directory, INDEX_NAME)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None, "absent (rebuilt on the next open)"
    except OSError as error:
        return None, "unreadable: %s (rebuilt on the next open)" % error.strerror
    if len(data) < INDEX_HEADER_LENGTH or data[0:4] != INDEX_MAGIC:
        return None, "unusable: bad header (rebuilt on the next open)"
    if u32(data, 4) not in (2, INDEX_VERSION):
        return None, "unusable: index version %d, this reader knows 2 and %d (rebuilt on the next open)" % (
            u32(data, 4),
            INDEX_VERSION,
        )
    record_count, key_count, segment_count = u64(data, 8), u64(data, 16), u64(data, 24)
    if not (0 < record_count < 1 << 40 and key_count < 1 << 40 and 0 < segment_count < 1 << 32):
        return None, "unusable: impossible counts in its header (rebuilt on the next open)"
    segments_end = INDEX_HEADER_LENGTH + 8 * segment_count
    # The header check covers the 88 header bytes before it and the segment list after it.
    checked = data[0:88] + data[INDEX_HEADER_LENGTH:segments_end]
    if len(data) < segments_end or sha256(checked)[:8] != data[88:96]:
        return None, "unusable: its header check fails (rebuilt on the next open)"
    record_bytes, key_bytes = 32 * record_count, 16 * key_count
    checks = 8 * (chunk_count(record_bytes) + chunk_count(key_bytes))
    fence = checks if u32(data, 4) >= 3 else 0
    if len(data) != segments_end + record_bytes + key_bytes + checks + fence:
        return None, "unusable: its size disagrees with its header (rebuilt on the next open)"
    return Index(data), None


def index_state(index, unused, walk):
    """Whether the index file describes exactly the first records of the journal (section 11.6)."""
    if index is None:
        return unused
    actual = [first for first, _ in walk.segments]
    if not actual:
        return (
            "stale: it describes segments that no longer exist (the next open discards it, and deletes it "
            "when opening for writing)"
        )
    missing = [first for first in index.segments if first not in actual]
    if missing:
        return (
            "stale: it lists segment %020d.lz4, which is missing (a deleted segment: opening refuses the "
            "journal)" % missing[0]
        )
    if index.segments != actual[: len(index.segments)]:
        return "stale: its segment list is not a prefix of the segments"
    coverage = (index.coverage_segment, index.coverage_end, index.next_position, index.last_hash)
    if coverage not in walk.chain_points:
        return "stale: its coverage point is not on the hash chain"
    damaged = index.damaged_chunk()
    if damaged is not None:
        return "damaged: its %s fails its check (a lookup that reads it rebuilds the index)" % damaged
    covered = [record for record in walk.records if record[0] < index.next_position]
    if len(covered) != index.record_count:
        return "stale: it lists %d records, the journal has %d before its coverage point" % (
            index.record_count,
            len(covered),
        )
    data = index.data
    for number, (first, segment, offset, length, count, _) in enumerate(covered):
        if struct.unpack_from("<QQQII", data, index.records_base + 32 * number) != (
            first,
            segment,
            offset,
            length,
            count,
        ):
            return "stale: record entry %d differs" % number
    keys = sorted(
        (key_hash(key), first + event_index)
        for first, _, _, _, _, pairs in covered
        for event_index, key in pairs
    )
    if len(keys) != index.key_count:
        return "stale: it lists %d keys, the covered records carry %d" % (index.key_count, len(keys))
    for number, entry in enumerate(keys):
        if struct.unpack_from("<QQ", data, index.keys_base + 16 * number) != entry:
            return "stale: key entry %d differs" % number
    if index.fence_base is not None:
        # The fence holds the first 8 bytes of each chunk of the record table, then of the key table.
        starts = [index.records_base + start for start in range(0, 32 * index.record_count, INDEX_CHUNK_LENGTH)]
        starts += [index.keys_base + start for start in range(0, 16 * index.key_count, INDEX_CHUNK_LENGTH)]
        for number, start in enumerate(starts):
            if data[index.fence_base + 8 * number : index.fence_base + 8 * number + 8] != data[start : start + 8]:
                return "stale: fence entry %d differs from the first 8 bytes of its chunk" % number
    return "fresh (%d records, %d keys, up to position %d)" % (
        index.record_count,
        index.key_count,
        index.next_position - 1,
    )


def main():
    parser = argparse.ArgumentParser(description="Read and check a journal folder.")
    parser.add_argument("directory", help="the journal folder (segment files and the hidden .index)")
    parser.add_argument(
        "--verify", action="store_true", help="check everything and print a summary instead of the events"
    )
    arguments = parser.parse_args()
    directory = arguments.directory
    if not os.path.isdir(directory):
        print("journal_reader: %s is not a folder" % directory, file=sys.stderr)
        return EXIT_UNREADABLE
    index, unused = load_index(directory)
    walk = Walk(directory, strict_json=arguments.verify, index=index)
    output = sys.stdout.buffer
    if arguments.verify:
        on_line = lambda line: None
    else:
        on_line = lambda line: output.write(line + b"\n")
    try:
        walk.run(on_line)
    except Damage as damage:
        output.flush()
        print("journal_reader: damaged: %s" % damage, file=sys.stderr)
        return EXIT_DAMAGED
    except OSError as error:
        output.flush()
        print("journal_reader: %s" % error, file=sys.stderr)
        return EXIT_UNREADABLE
    output.flush()
    if walk.torn_tail is not None:
        name, offset, length, reason = walk.torn_tail
        print(
            "journal_reader: torn tail: %d bytes at the end of %s from byte offset %d: %s "
            "(cut on the next open for writing)" % (length, name, offset, reason),
            file=sys.stderr,
        )
    if arguments.verify:
        events = walk.records[-1][0] + walk.records[-1][4] - 1 if walk.records else 0
        print(
            "sound: %d segments, %d records, %d events, %d bytes"
            % (len(walk.segments), len(walk.records), events, walk.stored_bytes)
        )
        if walk.torn_tail is not None:
            name, offset, length, _ = walk.torn_tail
            print("torn tail: %d bytes in %s from byte offset %d" % (length, name, offset))
        print("index: %s" % index_state(index, unused, walk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
