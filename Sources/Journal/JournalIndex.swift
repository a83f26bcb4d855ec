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
/// with unindexed records, rebuilt from the segments when missing or inconsistent, and every answer is
/// checked against the segment it points into before it is used.
final class JournalIndex {
    static let fileName = ".index"
    static let magic: [UInt8] = Array("HJIX".utf8)
    static let version: UInt32 = 1
    static let headerLength = 96

    private var file: (any File)?
    private(set) var segments: [UInt64] = []
    private(set) var diskRecordCount = 0
    private(set) var diskKeyCount = 0
    private(set) var coverage: IndexCoverage?
    private(set) var tailRecords: [RecordLocation] = []
    private(set) var tailKeys: [KeyEntry] = []

    private var recordsBase: UInt64 { UInt64(Self.headerLength + 8 * segments.count) }
    private var keysBase: UInt64 { recordsBase + UInt64(diskRecordCount * RecordLocation.encodedLength) }

    init() {}

    /// Loads the index file if it exists and is internally consistent; otherwise an empty index.
    static func load(directory: String, fileSystem: any FileSystem) -> JournalIndex {
        let index = JournalIndex()
        let path = directory + "/" + fileName
        guard fileSystem.fileExists(path), let file = try? fileSystem.openFile(path, writable: false),
            let header = try? file.read(at: 0, count: headerLength), header.count == headerLength,
            Array(header[0..<4]) == magic, header.readUInt32(at: 4) == version,
            Array(SHA256Digest.of(Array(header[0..<88])).bytes.prefix(8)) == Array(header[88..<96])
        else { return index }
        let records = Int(header.readUInt64(at: 8))
        let keys = Int(header.readUInt64(at: 16))
        let segmentCount = Int(header.readUInt64(at: 24))
        let expectedSize =
            headerLength + 8 * segmentCount + records * RecordLocation.encodedLength + keys
            * KeyEntry.encodedLength
        guard records > 0, segmentCount > 0, (try? file.size()) == UInt64(expectedSize),
            let segmentBytes = try? file.read(at: UInt64(headerLength), count: 8 * segmentCount),
            segmentBytes.count == 8 * segmentCount
        else { return index }
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

    /// Forgets the file part (after it was found stale): only the in-memory tail remains.
    func discardFile() {
        try? file?.close()
        file = nil
        segments = []
        diskRecordCount = 0
        diskKeyCount = 0
        coverage = nil
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
        guard diskRecordCount > 0 else { return nil }
        var low = 0
        var high = diskRecordCount - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if try diskRecord(at: middle).firstPosition <= position {
                low = middle
            } else {
                high = middle - 1
            }
        }
        let candidate = try diskRecord(at: low)
        guard candidate.firstPosition <= position,
            position < candidate.firstPosition + UInt64(candidate.count)
        else { return nil }
        return candidate
    }

    /// Positions of events that may carry `key` (a 64-bit hash match; callers confirm against the event).
    func positions(forKey key: String) throws(JournalError) -> [UInt64] {
        let hash = Self.hash(key)
        var result: [UInt64] = []
        var low = 0
        var high = diskKeyCount
        while low < high {
            let middle = (low + high) / 2
            if try diskKey(at: middle).hash < hash { low = middle + 1 } else { high = middle }
        }
        var cursor = low
        while cursor < diskKeyCount {
            let entry = try diskKey(at: cursor)
            guard entry.hash == hash else { break }
            result.append(entry.position)
            cursor += 1
        }
        for entry in tailKeys where entry.hash == hash { result.append(entry.position) }
        return result
    }

    private func diskRecord(at index: Int) throws(JournalError) -> RecordLocation {
        guard let file else { throw JournalError(.corrupt, "journal index is not open") }
        let bytes = try file.read(
            at: recordsBase + UInt64(index * RecordLocation.encodedLength),
            count: RecordLocation.encodedLength)
        guard bytes.count == RecordLocation.encodedLength else {
            throw JournalError(.corrupt, "journal index is shorter than its header says")
        }
        return RecordLocation(
            firstPosition: bytes.readUInt64(at: 0), segment: bytes.readUInt64(at: 8),
            offset: bytes.readUInt64(at: 16), length: bytes.readUInt32(at: 24),
            count: bytes.readUInt32(at: 28))
    }

    private func diskKey(at index: Int) throws(JournalError) -> KeyEntry {
        guard let file else { throw JournalError(.corrupt, "journal index is not open") }
        let bytes = try file.read(
            at: keysBase + UInt64(index * KeyEntry.encodedLength), count: KeyEntry.encodedLength)
        guard bytes.count == KeyEntry.encodedLength else {
            throw JournalError(.corrupt, "journal index is shorter than its header says")
        }
        return KeyEntry(hash: bytes.readUInt64(at: 0), position: bytes.readUInt64(at: 8))
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
    /// coverage hash) and rebuilt from the segments.
    func write(
        directory: String, fileSystem: any FileSystem, segments allSegments: [UInt64],
        coverage newCoverage: IndexCoverage
    ) throws(JournalError) {
        var records: [UInt8] = []
        records.reserveCapacity(totalRecordCount * RecordLocation.encodedLength)
        if let file, diskRecordCount > 0 {
            records += try file.read(at: recordsBase, count: diskRecordCount * RecordLocation.encodedLength)
        }
        for location in tailRecords {
            records.appendLittleEndian(location.firstPosition)
            records.appendLittleEndian(location.segment)
            records.appendLittleEndian(location.offset)
            records.appendLittleEndian(location.length)
            records.appendLittleEndian(location.count)
        }
        var keys: [KeyEntry] = []
        keys.reserveCapacity(diskKeyCount + tailKeys.count)
        for index in 0..<diskKeyCount { keys.append(try diskKey(at: index)) }
        keys += tailKeys
        keys.sort()
        var bytes: [UInt8] = Self.magic
        bytes.appendLittleEndian(Self.version)
        bytes.appendLittleEndian(UInt64(records.count / RecordLocation.encodedLength))
        bytes.appendLittleEndian(UInt64(keys.count))
        bytes.appendLittleEndian(UInt64(allSegments.count))
        bytes.appendLittleEndian(newCoverage.nextPosition)
        bytes.appendLittleEndian(newCoverage.segment)
        bytes.appendLittleEndian(newCoverage.endOffset)
        bytes += newCoverage.lastHash.bytes
        bytes += SHA256Digest.of(bytes).bytes.prefix(8)
        for segment in allSegments { bytes.appendLittleEndian(segment) }
        bytes += records
        for key in keys {
            bytes.appendLittleEndian(key.hash)
            bytes.appendLittleEndian(key.position)
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
        tailRecords = []
        tailKeys = []
    }
}
