/// Where one record lies: what `locate(position:)` answers.
struct RecordLocation: Equatable {
    /// The first event position in the record.
    var firstPosition: UInt64
    /// The first position of the segment holding the record (its file name).
    var segment: UInt64
    /// Byte offset of the record's header frame in the segment.
    var offset: UInt64
    /// Bytes of header frame plus LZ4 frame.
    var length: UInt32
    /// Number of events in the record.
    var count: UInt32

    static let encodedLength = 32
}

/// An index key hashed to 64 bits, with the position of the event that carries it.
struct KeyEntry: Comparable {
    var hash: UInt64
    var position: UInt64

    static func < (lhs: KeyEntry, rhs: KeyEntry) -> Bool {
        (lhs.hash, lhs.position) < (rhs.hash, rhs.position)
    }

    static let encodedLength = 16
}

/// The point up to which an index file describes the journal.
struct IndexCoverage: Equatable {
    /// The position after the last indexed event.
    var nextPosition: UInt64
    /// The segment of the last indexed record, and the byte after it.
    var segment: UInt64
    var endOffset: UInt64
    /// The SHA-256 of the last indexed record (or of the segment metadata frame if it has no record).
    var lastHash: SHA256Digest
}

/// The journal's derived lookup index: a sorted table of record locations and a sorted table of hashed
/// keys, in the hidden file `.index` beside the segments, plus an in-memory tail for records appended
/// or scanned since the file was written.
///
/// The file is a cache. It is rewritten whole (temporary file, then rename) when the journal closes
/// with unindexed records, rebuilt from the segments when missing or inconsistent, and never trusted
/// over the segments: its tables are checked in 4 KiB chunks (each with its own SHA-256 check) as
/// lookups read them, and every location it gives is checked against the record it points to. Damage
/// throws an error naming the index file; the journal then rebuilds the index from the segments.
final class JournalIndex {
    static let fileName = ".index"
    static let magic: [UInt8] = Array("HJIX".utf8)
    static let version: UInt32 = 2
    static let headerLength = 96
    static let chunkLength = 4096

    private var file: (any File)?
    private(set) var segments: [UInt64] = []
    private(set) var diskRecordCount = 0
    private(set) var diskKeyCount = 0
    private(set) var coverage: IndexCoverage?
    private(set) var tailRecords: [RecordLocation] = []
    private(set) var tailKeys: [KeyEntry] = []
    private var verifiedChunks: [UInt64: [UInt8]] = [:]

    private var recordsBase: UInt64 { UInt64(Self.headerLength + 8 * segments.count) }
    private var keysBase: UInt64 { recordsBase + UInt64(diskRecordCount * RecordLocation.encodedLength) }
    private var checksBase: UInt64 { keysBase + UInt64(diskKeyCount * KeyEntry.encodedLength) }
    private static func chunks(_ bytes: Int) -> Int { (bytes + chunkLength - 1) / chunkLength }
    private var recordChunks: Int { Self.chunks(diskRecordCount * RecordLocation.encodedLength) }

    init() {}

    /// Loads the index file if its header, segment list and size are consistent; otherwise an empty
    /// index. The tables are checked chunk by chunk when read.
    static func load(directory: String, fileSystem: any FileSystem) -> JournalIndex {
        let index = JournalIndex()
        let path = directory + "/" + fileName
        guard fileSystem.fileExists(path), let file = try? fileSystem.openFile(path, writable: false),
            let header = try? file.read(at: 0, count: headerLength), header.count == headerLength,
            Array(header[0..<4]) == magic, header.readUInt32(at: 4) == version
        else { return index }
        let records = Int(header.readUInt64(at: 8))
        let keys = Int(header.readUInt64(at: 16))
        let segmentCount = Int(header.readUInt64(at: 24))
        // Bound the counts by the file's size before reading anything they size.
        guard let fileSize = try? file.size(), records > 0, UInt64(records) < fileSize,
            UInt64(keys) < fileSize,
            segmentCount > 0, UInt64(segmentCount) < fileSize,
            let segmentBytes = try? file.read(at: UInt64(headerLength), count: 8 * segmentCount),
            segmentBytes.count == 8 * segmentCount,
            Array(SHA256Digest.of(Array(header[0..<88]) + segmentBytes).bytes.prefix(8))
                == Array(header[88..<96])
        else { return index }
        let recordBytes = records * RecordLocation.encodedLength
        let keyBytes = keys * KeyEntry.encodedLength
        let expectedSize =
            headerLength + segmentBytes.count + recordBytes + keyBytes + 8
            * (chunks(recordBytes) + chunks(keyBytes))
        guard fileSize == UInt64(expectedSize) else { return index }
        index.segments = (0..<segmentCount).map { segmentBytes.readUInt64(at: 8 * $0) }
        index.diskRecordCount = records
        index.diskKeyCount = keys
        index.coverage = IndexCoverage(
            nextPosition: header.readUInt64(at: 32), segment: header.readUInt64(at: 40),
            endOffset: header.readUInt64(at: 48),
            lastHash: SHA256Digest(unchecked: Array(header[56..<88])))
        index.file = file
        return index
    }

    /// Forgets the file part (after it was found stale or damaged): only the in-memory tail remains.
    func discardFile() {
        try? file?.close()
        file = nil
        segments = []
        diskRecordCount = 0
        diskKeyCount = 0
        coverage = nil
        verifiedChunks = [:]
    }

    /// Forgets everything, file part and tail.
    func reset() {
        discardFile()
        tailRecords = []
        tailKeys = []
    }

    /// The last record described by the file part.
    func lastDiskRecord() throws(JournalError) -> RecordLocation? {
        diskRecordCount > 0 ? try diskRecord(at: diskRecordCount - 1) : nil
    }

    func appendTail(_ location: RecordLocation, keys: [(UInt32, String)]) {
        tailRecords.append(location)
        for (eventIndex, key) in keys {
            tailKeys.append(
                KeyEntry(hash: Self.hash(key), position: location.firstPosition + UInt64(eventIndex)))
        }
    }

    var totalRecordCount: Int { diskRecordCount + tailRecords.count }

    static func hash(_ key: String) -> UInt64 {
        SHA256Digest.of(Array(key.utf8)).prefix64
    }

    /// The record containing `position`, or nil if no record does.
    func locate(position: UInt64) throws(JournalError) -> RecordLocation? {
        if let first = tailRecords.first, position >= first.firstPosition {
            var low = 0
            var high = tailRecords.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if tailRecords[middle].firstPosition <= position { low = middle } else { high = middle - 1 }
            }
            let candidate = tailRecords[low]
            return position < candidate.firstPosition + UInt64(candidate.count) ? candidate : nil
        }
        guard diskRecordCount > 0, position < UInt64.max else { return nil }
        // The last record starting at or before `position`: the one before the first starting after it.
        let after = try lowerBound(
            count: diskRecordCount, target: position + 1,
            entriesPerChunk: Self.chunkLength / RecordLocation.encodedLength
        ) { index throws(JournalError) in try diskRecord(at: index).firstPosition }
        guard after > 0 else { return nil }
        let candidate = try diskRecord(at: after - 1)
        guard candidate.firstPosition <= position,
            position < candidate.firstPosition + UInt64(candidate.count)
        else { return nil }
        return candidate
    }

    /// Positions of events that may carry `key` (a 64-bit hash match; callers confirm against the event).
    func positions(forKey key: String) throws(JournalError) -> [UInt64] {
        let hash = Self.hash(key)
        var result: [UInt64] = []
        var cursor = try lowerBound(
            count: diskKeyCount, target: hash, entriesPerChunk: Self.chunkLength / KeyEntry.encodedLength
        ) { index throws(JournalError) in try diskKey(at: index).hash }
        while cursor < diskKeyCount {
            let entry = try diskKey(at: cursor)
            guard entry.hash == hash else { break }
            result.append(entry.position)
            cursor += 1
        }
        for entry in tailKeys where entry.hash == hash { result.append(entry.position) }
        return result
    }

    /// The first index in `0..<count` whose value is not below `target` (`count` when none), in a
    /// table sorted by values spread about evenly over their range: key hashes (SHA-256 prefixes) and
    /// records' first positions.
    ///
    /// Why not bisection: each probe reads, and the first time checks, a 4 KiB chunk of the index file;
    /// bisecting ten million keys touches a dozen chunks, and audit looks up hundreds of keys. Here
    /// each round interpolates where the target lies, reads that chunk, and narrows the range to the
    /// chunk's first and last entries, which cost nothing more: the answer is in the chunk, or the
    /// next guess starts from its edge, close to the target. A lookup reads two or three chunks. After
    /// a few rounds (values far from evenly spread) it bisects, never worse than about twice a bisection.
    private func lowerBound(
        count: Int, target: UInt64, entriesPerChunk: Int, valueAt: (Int) throws(JournalError) -> UInt64
    ) throws(JournalError) -> Int {
        // Invariant: the values before `low` are below the target; those from `high` on are not.
        var low = 0
        var high = count
        var lowValue: UInt64 = 0
        var highValue = UInt64.max
        var rounds = 0
        func probe(_ index: Int) throws(JournalError) {
            guard index >= low, index < high else { return }
            let value = try valueAt(index)
            if value < target {
                low = index + 1
                lowValue = value
            } else {
                high = index
                highValue = value
            }
        }
        while low < high {
            rounds += 1
            let guess: Int
            if rounds <= 4, highValue > lowValue {
                let fraction = Double(target - lowValue) / Double(highValue - lowValue)
                guess = low + min(high - low - 1, Int(fraction * Double(high - low)))
            } else {
                guess = low + (high - low) / 2
            }
            let chunkStart = guess - guess % entriesPerChunk
            try probe(guess)
            try probe(chunkStart + entriesPerChunk - 1)
            try probe(chunkStart)
        }
        return low
    }

    private func diskRecord(at index: Int) throws(JournalError) -> RecordLocation {
        let bytes = try entry(
            at: index, size: RecordLocation.encodedLength, tableBase: recordsBase, chunkOffset: 0)
        return RecordLocation(
            firstPosition: bytes.readUInt64(at: 0), segment: bytes.readUInt64(at: 8),
            offset: bytes.readUInt64(at: 16), length: bytes.readUInt32(at: 24),
            count: bytes.readUInt32(at: 28))
    }

    private func diskKey(at index: Int) throws(JournalError) -> KeyEntry {
        let bytes = try entry(
            at: index, size: KeyEntry.encodedLength, tableBase: keysBase, chunkOffset: recordChunks)
        return KeyEntry(hash: bytes.readUInt64(at: 0), position: bytes.readUInt64(at: 8))
    }

    /// Entry `index` of a table, read through its chunk, whose check is verified the first time.
    private func entry(at index: Int, size: Int, tableBase: UInt64, chunkOffset: Int) throws(JournalError)
        -> [UInt8]
    {
        guard let file else { throw Self.damaged("is not open") }
        let byteOffset = index * size
        let chunk = byteOffset / Self.chunkLength
        let chunkStart = tableBase + UInt64(chunk * Self.chunkLength)
        let bytes: [UInt8]
        if let cached = verifiedChunks[chunkStart] {
            bytes = cached
        } else {
            let tableEnd = chunkOffset == 0 ? keysBase : checksBase
            let length = Int(min(UInt64(Self.chunkLength), tableEnd - chunkStart))
            let read = try file.read(at: chunkStart, count: length)
            let check = try file.read(at: checksBase + UInt64(8 * (chunkOffset + chunk)), count: 8)
            guard read.count == length, check.count == 8,
                SHA256Digest.of(read).bytes.prefix(8).elementsEqual(check)
            else { throw Self.damaged("fails the check of its chunk at byte offset \(chunkStart)") }
            verifiedChunks[chunkStart] = read
            bytes = read
        }
        let start = byteOffset - chunk * Self.chunkLength
        return Array(bytes[start..<(start + size)])
    }

    /// A whole table of the file part, every chunk checked.
    private func verifiedTable(base: UInt64, length: Int, chunkOffset: Int) throws(JournalError) -> [UInt8] {
        guard length > 0 else { return [] }
        guard let file else { throw Self.damaged("is not open") }
        let table = try file.read(at: base, count: length)
        let checks = try file.read(at: checksBase + UInt64(8 * chunkOffset), count: 8 * Self.chunks(length))
        guard table.count == length, checks.count == 8 * Self.chunks(length) else {
            throw Self.damaged("is truncated")
        }
        for (number, start) in stride(from: 0, to: length, by: Self.chunkLength).enumerated() {
            let chunk = Array(table[start..<min(length, start + Self.chunkLength)])
            guard
                SHA256Digest.of(chunk).bytes.prefix(8).elementsEqual(checks[(8 * number)..<(8 * number + 8)])
            else {
                throw Self.damaged("fails the check of its chunk at byte offset \(base + UInt64(start))")
            }
        }
        return table
    }

    /// An error about the index file itself (the journal answers it by rebuilding the index).
    static func damaged(_ problem: String) -> JournalError {
        JournalError(.corrupt, "the journal index \(problem)", segment: fileName)
    }

    /// Whether the file part describes exactly the first records of `locations` and their keys.
    func matches(locations: [RecordLocation], keys: [KeyEntry]) throws(JournalError) -> Bool {
        guard file != nil, diskRecordCount <= locations.count else { return false }
        for index in 0..<diskRecordCount where try diskRecord(at: index) != locations[index] { return false }
        guard let coverage, diskRecordCount > 0 else { return false }
        let last = locations[diskRecordCount - 1]
        guard coverage.segment == last.segment, coverage.endOffset == last.offset + UInt64(last.length),
            coverage.nextPosition == last.firstPosition + UInt64(last.count)
        else { return false }
        let coveredKeys = keys.filter { $0.position < coverage.nextPosition }.sorted()
        guard coveredKeys.count == diskKeyCount else { return false }
        for (index, key) in coveredKeys.enumerated() where try diskKey(at: index) != key { return false }
        return true
    }

    /// Writes the whole index (file part and tail) to a new file and makes it the file part.
    ///
    /// Not fsynced: the index is derived, and a damaged or lost index is detected (header check, size,
    /// chunk checks, coverage hash) and rebuilt from the segments.
    func write(
        directory: String, fileSystem: any FileSystem, segments allSegments: [UInt64],
        coverage newCoverage: IndexCoverage
    ) throws(JournalError) {
        var records: [UInt8] = []
        records.reserveCapacity(totalRecordCount * RecordLocation.encodedLength)
        records += try verifiedTable(
            base: recordsBase, length: diskRecordCount * RecordLocation.encodedLength, chunkOffset: 0)
        for location in tailRecords {
            records.appendLittleEndian(location.firstPosition)
            records.appendLittleEndian(location.segment)
            records.appendLittleEndian(location.offset)
            records.appendLittleEndian(location.length)
            records.appendLittleEndian(location.count)
        }
        var keys: [KeyEntry] = []
        keys.reserveCapacity(diskKeyCount + tailKeys.count)
        let oldKeys = try verifiedTable(
            base: keysBase, length: diskKeyCount * KeyEntry.encodedLength, chunkOffset: recordChunks)
        for start in stride(from: 0, to: oldKeys.count, by: KeyEntry.encodedLength) {
            keys.append(
                KeyEntry(hash: oldKeys.readUInt64(at: start), position: oldKeys.readUInt64(at: start + 8)))
        }
        keys += tailKeys
        keys.sort()
        var keyBytes: [UInt8] = []
        keyBytes.reserveCapacity(keys.count * KeyEntry.encodedLength)
        for key in keys {
            keyBytes.appendLittleEndian(key.hash)
            keyBytes.appendLittleEndian(key.position)
        }
        var segmentBytes: [UInt8] = []
        for segment in allSegments { segmentBytes.appendLittleEndian(segment) }
        var bytes: [UInt8] = Self.magic
        bytes.appendLittleEndian(Self.version)
        bytes.appendLittleEndian(UInt64(records.count / RecordLocation.encodedLength))
        bytes.appendLittleEndian(UInt64(keys.count))
        bytes.appendLittleEndian(UInt64(allSegments.count))
        bytes.appendLittleEndian(newCoverage.nextPosition)
        bytes.appendLittleEndian(newCoverage.segment)
        bytes.appendLittleEndian(newCoverage.endOffset)
        bytes += newCoverage.lastHash.bytes
        bytes += SHA256Digest.of(bytes + segmentBytes).bytes.prefix(8)
        bytes += segmentBytes
        bytes += records
        bytes += keyBytes
        for table in [records, keyBytes] {
            for start in stride(from: 0, to: table.count, by: Self.chunkLength) {
                bytes += SHA256Digest.of(Array(table[start..<min(table.count, start + Self.chunkLength)]))
                    .bytes.prefix(8)
            }
        }
        let temporary = directory + "/.tmp-index"
        if fileSystem.fileExists(temporary) { try fileSystem.removeFile(temporary) }
        let output = try fileSystem.createFile(temporary)
        do throws(JournalError) {
            try output.write(bytes, at: 0)
            try output.close()
        } catch {
            try? fileSystem.removeFile(temporary)
            throw error
        }
        try fileSystem.rename(temporary, to: directory + "/" + Self.fileName)
        try? file?.close()
        file = try fileSystem.openFile(directory + "/" + Self.fileName, writable: false)
        segments = allSegments
        diskRecordCount = records.count / RecordLocation.encodedLength
        diskKeyCount = keys.count
        coverage = newCoverage
        verifiedChunks = [:]
        tailRecords = []
        tailKeys = []
    }
}
