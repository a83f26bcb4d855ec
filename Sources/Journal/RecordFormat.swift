/// The byte layout of segments: a metadata frame, then records of a header frame and an LZ4 frame.
///
/// docs/journal-format.md is the specification; this type is its implementation. All integers are
/// little-endian. Both the metadata frame and record header frames are LZ4 *skippable frames*, which
/// `lz4 -d` skips, so a segment decodes with standard tools to the events alone.
enum RecordFormat {
    /// Skippable-frame magic of the segment metadata frame (LZ4 spec: 0x184D2A50 ... 0x184D2A5F).
    static let segmentMagic: UInt32 = 0x184D_2A50
    /// Skippable-frame magic of a record header frame.
    static let recordMagic: UInt32 = 0x184D_2A51
    static let segmentTag: [UInt8] = Array("HJSG".utf8)
    static let recordTag: [UInt8] = Array("HJRC".utf8)
    /// The format version written in every segment's metadata frame.
    static let formatVersion: UInt32 = 1
    /// Size of the whole segment metadata frame: 8 bytes of frame header and 56 of content.
    static let segmentMetadataLength = 64
    /// Size of a record header frame without keys: 8 bytes of frame header, 64 fixed, 8 check.
    static let recordHeaderFixedLength = 80
    static let maximumKeyLength = 1024
    static let maximumKeysLength = 1 << 20
    /// Flag bit: the record was made durable (fdatasync) before its append returned.
    static let durableFlag: UInt32 = 1

    static let segmentNameDigits = 20
    static let segmentSuffix = ".lz4"

    static func segmentName(firstPosition: UInt64) -> String {
        let digits = String(firstPosition)
        return String(repeating: "0", count: max(0, segmentNameDigits - digits.count)) + digits
            + segmentSuffix
    }

    static func firstPosition(ofSegmentNamed name: String) -> UInt64? {
        guard name.hasSuffix(segmentSuffix) else { return nil }
        let digits = name.dropLast(segmentSuffix.count)
        guard digits.count == segmentNameDigits, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return UInt64(digits)
    }

    // MARK: Segment metadata frame

    struct SegmentMetadata: Equatable {
        var version: UInt32
        var firstPosition: UInt64
        var previousHash: SHA256Digest
    }

    static func encodeSegmentMetadata(firstPosition: UInt64, previousHash: SHA256Digest) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segmentMetadataLength)
        bytes.appendLittleEndian(segmentMagic)
        bytes.appendLittleEndian(UInt32(segmentMetadataLength - 8))
        bytes += segmentTag
        bytes.appendLittleEndian(formatVersion)
        bytes.appendLittleEndian(firstPosition)
        bytes += previousHash.bytes
        bytes += SHA256Digest.of(Array(bytes[8...])).bytes.prefix(8)
        return bytes
    }

    static func decodeSegmentMetadata(_ bytes: ArraySlice<UInt8>) -> Result<SegmentMetadata, FrameProblem> {
        guard bytes.count >= segmentMetadataLength else {
            return .failure(FrameProblem("segment metadata frame is incomplete (\(bytes.count) bytes)"))
        }
        let base = bytes.startIndex
        guard bytes.readUInt32(at: base) == segmentMagic, Array(bytes[(base + 8)..<(base + 12)]) == segmentTag
        else {
            return .failure(FrameProblem("segment metadata frame has a bad magic number or tag"))
        }
        let version = bytes.readUInt32(at: base + 12)
        guard version == formatVersion else {
            return .failure(
                FrameProblem(
                    "segment format version \(version) is not supported by this build (it reads version 1)"))
        }
        guard bytes.readUInt32(at: base + 4) == UInt32(segmentMetadataLength - 8) else {
            return .failure(FrameProblem("segment metadata frame has a bad size"))
        }
        let content = Array(bytes[(base + 8)..<(base + 56)])
        guard Array(SHA256Digest.of(content).bytes.prefix(8)) == Array(bytes[(base + 56)..<(base + 64)])
        else {
            return .failure(FrameProblem("segment metadata frame fails its check"))
        }
        return .success(
            SegmentMetadata(
                version: version, firstPosition: bytes.readUInt64(at: base + 16),
                previousHash: SHA256Digest(unchecked: Array(bytes[(base + 24)..<(base + 56)]))))
    }

    // MARK: Record header frame

    struct RecordHeader {
        var flags: UInt32
        var firstPosition: UInt64
        var eventCount: UInt32
        var payloadLength: UInt32
        var frameLength: UInt32
        var previousHash: SHA256Digest
        /// The key table's bytes, checked when the header was parsed.
        var keyTable: ArraySlice<UInt8>
        /// Bytes of the header frame, including its 8-byte skippable-frame header.
        var headerLength: Int

        var isDurable: Bool { flags & RecordFormat.durableFlag != 0 }
        var recordLength: Int { headerLength + Int(frameLength) }

        /// (index of the event within the record, key), decoded from the key table when asked for:
        /// reading events needs no key, and an intent's header holds one per row of its batch.
        var keys: [(UInt32, String)] {
            var result: [(UInt32, String)] = []
            var cursor = keyTable.startIndex
            while cursor + 6 <= keyTable.endIndex {
                let eventIndex = keyTable.readUInt32(at: cursor)
                let length = Int(keyTable.readUInt16(at: cursor + 4))
                cursor += 6
                let end = min(cursor + length, keyTable.endIndex)
                result.append((eventIndex, String(decoding: keyTable[cursor..<end], as: UTF8.self)))
                cursor = end
            }
            return result
        }
    }

    static func encodeRecordHeader(
        durable: Bool, firstPosition: UInt64, eventCount: Int, payloadLength: Int, frameLength: Int,
        previousHash: SHA256Digest, keys: [(UInt32, String)]
    ) -> [UInt8] {
        var keyBytes: [UInt8] = []
        for (eventIndex, key) in keys {
            keyBytes.appendLittleEndian(eventIndex)
            let utf8 = Array(key.utf8)
            keyBytes.appendLittleEndian(UInt16(utf8.count))
            keyBytes += utf8
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recordHeaderFixedLength + keyBytes.count)
        bytes.appendLittleEndian(recordMagic)
        bytes.appendLittleEndian(UInt32(recordHeaderFixedLength - 8 + keyBytes.count))
        bytes += recordTag
        bytes.appendLittleEndian(durable ? durableFlag : 0)
        bytes.appendLittleEndian(firstPosition)
        bytes.appendLittleEndian(UInt32(eventCount))
        bytes.appendLittleEndian(UInt32(payloadLength))
        bytes.appendLittleEndian(UInt32(frameLength))
        bytes.appendLittleEndian(UInt32(keyBytes.count))
        bytes += previousHash.bytes
        bytes += keyBytes
        bytes += SHA256Digest.of(Array(bytes[8...])).bytes.prefix(8)
        return bytes
    }

    enum HeaderParse {
        case valid(RecordHeader)
        /// Fewer bytes than the header claims: a torn write at the end of the file.
        case incomplete
        case invalid(FrameProblem)
    }

    /// Parses a record header frame at the start of `bytes`.
    static func parseRecordHeader(_ bytes: ArraySlice<UInt8>) -> HeaderParse {
        let base = bytes.startIndex
        guard bytes.count >= 8 else { return .incomplete }
        guard bytes.readUInt32(at: base) == recordMagic else {
            return .invalid(FrameProblem("no record header frame here (bad magic number)"))
        }
        let contentLength = Int(bytes.readUInt32(at: base + 4))
        guard contentLength >= recordHeaderFixedLength - 8,
            contentLength <= recordHeaderFixedLength - 8 + maximumKeysLength
        else { return .invalid(FrameProblem("record header frame has an impossible size \(contentLength)")) }
        guard bytes.count >= 8 + contentLength else { return .incomplete }
        let checkStart = base + contentLength
        let check = bytes.withUnsafeBytes { raw in
            SHA256Digest.of(UnsafeRawBufferPointer(rebasing: raw[8..<contentLength]))
        }
        guard check.bytes.prefix(8).elementsEqual(bytes[checkStart..<(checkStart + 8)]),
            bytes[(base + 8)..<(base + 12)].elementsEqual(recordTag)
        else { return .invalid(FrameProblem("record header frame fails its check")) }
        let keysLength = Int(bytes.readUInt32(at: base + 36))
        guard keysLength == contentLength - (recordHeaderFixedLength - 8) else {
            return .invalid(FrameProblem("record header frame's key length disagrees with its size"))
        }
        var cursor = base + 72
        let keysEnd = cursor + keysLength
        while cursor < keysEnd {
            guard cursor + 6 <= keysEnd else {
                return .invalid(FrameProblem("record key table is truncated"))
            }
            let eventIndex = bytes.readUInt32(at: cursor)
            let length = Int(bytes.readUInt16(at: cursor + 4))
            cursor += 6
            guard cursor + length <= keysEnd else { return .invalid(FrameProblem("record key is truncated")) }
            guard eventIndex < bytes.readUInt32(at: base + 24) else {
                return .invalid(
                    FrameProblem("record key names event \(eventIndex), beyond the record's events"))
            }
            cursor += length
        }
        return .valid(
            RecordHeader(
                flags: bytes.readUInt32(at: base + 12),
                firstPosition: bytes.readUInt64(at: base + 16),
                eventCount: bytes.readUInt32(at: base + 24),
                payloadLength: bytes.readUInt32(at: base + 28),
                frameLength: bytes.readUInt32(at: base + 32),
                previousHash: SHA256Digest(unchecked: Array(bytes[(base + 40)..<(base + 72)])),
                keyTable: bytes[(base + 72)..<keysEnd],
                headerLength: 8 + contentLength))
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension Collection where Element == UInt8, Index == Int {
    func readUInt16(at index: Int) -> UInt16 {
        UInt16(self[index]) | UInt16(self[index + 1]) << 8
    }

    func readUInt32(at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(self[index + offset]) << (8 * UInt32(offset)) }
        return value
    }

    func readUInt64(at index: Int) -> UInt64 {
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(self[index + offset]) << (8 * UInt64(offset)) }
        return value
    }
}
