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
    /// The version written. Version 2 files (no fence) are still read: lookups then go without it.
    static let version: UInt32 = 3
    static let headerLength = 96
    static let chunkLength = 4096

    private var file: (any File)?
    private(set) var segments: [UInt64] = []
    private(set) var diskRecordCount = 0
    private(set) var diskKeyCount = 0
    private(set) var coverage: IndexCoverage?
    private(set) var tailRecords: [RecordLocation] = []
    private(set) var tailKeys: [KeyEntry] = []
    /// Chunks read and checked, by offset: at most `chunkCacheLimit`, the oldest evicted first.
    ///
    /// Why a bound: a search visits one chunk or two, each a few times, then moves on (a lookup of a
    /// thousand keys in hash order walks the table forwards). Keeping every chunk read made an audit of
    /// 2,000 chunks hold 8 MB, all of it memory the process touches for the first time: a page fault
    /// per 4 KiB page, which costs more than the read. An evicted chunk's memory goes back to the
    /// allocator, which the next read reuses.
    private var verifiedChunks: [UInt64: [UInt8]] = [:]
    /// The offsets of `verifiedChunks`, in the order they were read (a ring once full).
    private var chunkOrder: [UInt64] = []
    private var chunkOrderNext = 0
    static let chunkCacheLimit = 32
    /// Pages of the chunk checks read so far, by offset from the first check.
    private var checkPages: [Int: [UInt8]] = [:]
    /// Whether the file has a fence (version 3): the first 8 bytes of every chunk of both tables.
    private var hasFence = false
    /// The fence, read whole by the first lookup of many keys or positions that needs it.
    ///
    /// Why: those lookups visit chunks all over a table (keys are hashes), and each chunk read costs a
    /// page the kernel may have to bring back; with the fence in memory, the chunk holding a value is
    /// known before any is read, so a lookup reads one chunk, where the interpolation search reads two
    /// or three. The fence is not checked: it only picks which chunk to read first, and the search
    /// goes on from there through checked chunks, so a damaged fence costs reads, never a wrong answer.
    private var fence: [UInt64]?

    private var recordsBase: UInt64 { UInt64(Self.headerLength + 8 * segments.count) }
    private var keysBase: UInt64 { recordsBase + UInt64(diskRecordCount * RecordLocation.encodedLength) }
    private var checksBase: UInt64 { keysBase + UInt64(diskKeyCount * KeyEntry.encodedLength) }
    private var fenceBase: UInt64 { checksBase + UInt64(8 * (recordChunks + keyChunks)) }

    /// One of the file part's two tables: where it starts, its entries, and the number of its first
    /// chunk among both tables' (their checks and fence entries are numbered over both, records first).
    /// Every entry begins with the 8-byte value the table is sorted by.
    private struct Table {
        var base: UInt64
        var entrySize: Int
        var count: Int
        var firstChunk: Int
        var length: Int { count * entrySize }
        var entriesPerChunk: Int { JournalIndex.chunkLength / entrySize }
        var chunkCount: Int { JournalIndex.chunks(length) }
    }

    private var recordTable: Table {
        Table(
            base: recordsBase, entrySize: RecordLocation.encodedLength, count: diskRecordCount, firstChunk: 0)
    }
    private var keyTable: Table {
        Table(
            base: keysBase, entrySize: KeyEntry.encodedLength, count: diskKeyCount, firstChunk: recordChunks)
    }
    private static func chunks(_ bytes: Int) -> Int { (bytes + chunkLength - 1) / chunkLength }
    private var recordChunks: Int { Self.chunks(diskRecordCount * RecordLocation.encodedLength) }
    private var keyChunks: Int { Self.chunks(diskKeyCount * KeyEntry.encodedLength) }

    init() {}

    /// Loads the index file if its header, segment list and size are consistent; otherwise an empty
    /// index. The tables are checked chunk by chunk when read.
    static func load(directory: String, fileSystem: any FileSystem) -> JournalIndex {
        let index = JournalIndex()
        let path = directory + "/" + fileName
        guard fileSystem.fileExists(path), let file = try? fileSystem.openFile(path, writable: false),
            let header = try? file.read(at: 0, count: headerLength), header.count == headerLength,
            Array(header[0..<4]) == magic, [2, version].contains(header.readUInt32(at: 4))
        else { return index }
        let fenced = header.readUInt32(at: 4) >= 3
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
        // Version 3 adds the fence after the checks: as many 8-byte entries as checks.
        let expectedSize =
            headerLength + segmentBytes.count + recordBytes + keyBytes + (fenced ? 16 : 8)
            * (chunks(recordBytes) + chunks(keyBytes))
        guard fileSize == UInt64(expectedSize) else { return index }
        index.hasFence = fenced
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
        forgetReads(fileHasFence: false)
    }

    /// Forgets what was read from the file part (checked chunks, check pages, the fence), after the
    /// file part was dropped or replaced; `fileHasFence` says whether the new one has a fence.
    private func forgetReads(fileHasFence: Bool) {
        verifiedChunks = [:]
        chunkOrder = []
        chunkOrderNext = 0
        checkPages = [:]
        hasFence = fileHasFence
        fence = nil
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
        let after = try lowerBound(in: recordTable, target: position + 1)
        guard after > 0 else { return nil }
        let candidate = try diskRecord(at: after - 1)
        guard candidate.firstPosition <= position,
            position < candidate.firstPosition + UInt64(candidate.count)
        else { return nil }
        return candidate
    }

    /// The records containing each of `positions`, which must ascend (nil where no record does), found
    /// in one pass over the record table: each search starts where the one before ended.
    func locate(ascending positions: [UInt64]) throws(JournalError) -> [RecordLocation?] {
        var result: [RecordLocation?] = []
        result.reserveCapacity(positions.count)
        var cursor = 0
        var cursorValue: UInt64 = 0
        let table = recordTable
        let planned = plannedChunks(for: positions.map { $0 < UInt64.max ? $0 + 1 : nil }, in: table)
        for (number, position) in positions.enumerated() {
            if let first = tailRecords.first, position >= first.firstPosition {
                result.append(try locate(position: position))
                continue
            }
            guard diskRecordCount > 0, position < UInt64.max else {
                result.append(nil)
                continue
            }
            let after = try lowerBound(
                in: table, target: position + 1, from: cursor, fromValue: cursorValue,
                firstGuess: firstGuess(planned?[number] ?? nil, from: cursor, in: table))
            guard after > 0 else {
                result.append(nil)
                continue
            }
            let candidate = try diskRecord(at: after - 1)
            // The records before this one start before it, so before any later position.
            cursor = after - 1
            cursorValue = candidate.firstPosition
            let holds =
                candidate.firstPosition <= position
                && position < candidate.firstPosition + UInt64(candidate.count)
            result.append(holds ? candidate : nil)
        }
        return result
    }

    /// Positions of events that may carry `key` (a 64-bit hash match; callers confirm against the event).
    func positions(forKey key: String) throws(JournalError) -> [UInt64] {
        let hash = Self.hash(key)
        var result: [UInt64] = []
        var cursor = try lowerBound(in: keyTable, target: hash)
        while cursor < diskKeyCount {
            let entry = try diskKey(at: cursor)
            guard entry.hash == hash else { break }
            result.append(entry.position)
            cursor += 1
        }
        for entry in tailKeys where entry.hash == hash { result.append(entry.position) }
        return result
    }

    /// Positions of events that may carry each of `keys` (as `positions(forKey:)` gives them, key by
    /// key), found in one pass over the key table.
    ///
    /// Why: audit looks up a row key for each row of a batch, a thousand for an initial load. One by
    /// one, each lookup starts from the whole table, where interpolation misses by about √n entries
    /// (hashes are random): two or three chunks read and checked per key. In hash order each search
    /// starts where the one before ended, and the miss shrinks to the square root of the distance
    /// between neighbouring keys, well inside a chunk: about one chunk per key, and none twice.
    func positions(forKeys keys: [String]) throws(JournalError) -> [[UInt64]] {
        let hashes = keys.map(Self.hash)
        var found: [UInt64: [UInt64]] = [:]
        var cursor = 0
        var cursorValue: UInt64 = 0
        let sorted = Set(hashes).sorted()
        let table = keyTable
        let planned = plannedChunks(for: sorted, in: table)
        for (number, hash) in sorted.enumerated() {
            // Every entry before the cursor is below the previous hash, so below this one.
            cursor = try lowerBound(
                in: table, target: hash, from: cursor, fromValue: cursorValue,
                firstGuess: firstGuess(planned?[number] ?? nil, from: cursor, in: table))
            cursorValue = hash
            var positions: [UInt64] = []
            while cursor < diskKeyCount {
                let entry = try diskKey(at: cursor)
                guard entry.hash == hash else { break }
                positions.append(entry.position)
                cursor += 1
            }
            found[hash] = positions
        }
        if !tailKeys.isEmpty {
            // The tail is unsorted: one pass over it for all the keys, not one per key.
            for entry in tailKeys where found[entry.hash] != nil { found[entry.hash]?.append(entry.position) }
        }
        return hashes.map { found[$0] ?? [] }
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
    ///
    /// `from` (with `fromValue`, a value not above the one at `from`) starts the search further on,
    /// when every value before `from` is known to be below the target. `firstGuess` (from the fence)
    /// replaces the first interpolation.
    private func lowerBound(
        in table: Table, target: UInt64, from start: Int = 0, fromValue: UInt64 = 0, firstGuess: Int? = nil
    ) throws(JournalError) -> Int {
        let entriesPerChunk = table.entriesPerChunk
        let entrySize = table.entrySize
        func valueAt(_ index: Int) throws(JournalError) -> UInt64 {
            let (bytes, start) = try chunk(holding: index, in: table)
            return bytes.readUInt64(at: start)
        }
        // Invariant: the values before `low` are below the target; those from `high` on are not.
        var low = start
        var high = table.count
        // Never above the target: the interpolation below subtracts it from the target.
        var lowValue: UInt64 = min(fromValue, target)
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
            // The answer lies in one chunk: search its bytes, instead of a chunk lookup per probe.
            if low / entriesPerChunk == (high - 1) / entriesPerChunk {
                let (bytes, start) = try chunk(holding: low, in: table)
                let base = start - (low % entriesPerChunk) * entrySize
                var first = low
                var last = high
                bytes.withUnsafeBytes { raw in
                    while first < last {
                        let middle = (first + last) / 2
                        let offset = base + (middle % entriesPerChunk) * entrySize
                        let value = UInt64(
                            littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                        if value < target { first = middle + 1 } else { last = middle }
                    }
                }
                return first
            }
            rounds += 1
            let guess: Int
            if rounds == 1, let firstGuess {
                guess = min(max(firstGuess, low), high - 1)
            } else if rounds <= 4, highValue > lowValue {
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
        let (bytes, start) = try chunk(holding: index, in: recordTable)
        return RecordLocation(
            firstPosition: bytes.readUInt64(at: start), segment: bytes.readUInt64(at: start + 8),
            offset: bytes.readUInt64(at: start + 16), length: bytes.readUInt32(at: start + 24),
            count: bytes.readUInt32(at: start + 28))
    }

    private func diskKey(at index: Int) throws(JournalError) -> KeyEntry {
        let (bytes, start) = try chunk(holding: index, in: keyTable)
        return KeyEntry(hash: bytes.readUInt64(at: start), position: bytes.readUInt64(at: start + 8))
    }

    /// The chunk holding entry `index` of a table, and the entry's offset in it. The chunk is read and
    /// its check verified the first time; entries are then read from the kept chunk without copying
    /// (searches read several entries of each chunk they visit).
    private func chunk(holding index: Int, in table: Table) throws(JournalError) -> (
        bytes: [UInt8], start: Int
    ) {
        guard let file else { throw Self.damaged("is not open") }
        let byteOffset = index * table.entrySize
        let chunk = byteOffset / Self.chunkLength
        let chunkStart = table.base + UInt64(chunk * Self.chunkLength)
        let start = byteOffset - chunk * Self.chunkLength
        if let cached = verifiedChunks[chunkStart] { return (cached, start) }
        let length = min(Self.chunkLength, table.length - chunk * Self.chunkLength)
        let read = try file.read(at: chunkStart, count: length)
        let check = try chunkCheck(table.firstChunk + chunk)
        guard read.count == length, let check, SHA256Digest.of(read).bytes.prefix(8).elementsEqual(check)
        else { throw Self.damaged("fails the check of its chunk at byte offset \(chunkStart)") }
        if chunkOrder.count < Self.chunkCacheLimit {
            chunkOrder.append(chunkStart)
        } else {
            verifiedChunks[chunkOrder[chunkOrderNext]] = nil
            chunkOrder[chunkOrderNext] = chunkStart
            chunkOrderNext = (chunkOrderNext + 1) % Self.chunkCacheLimit
        }
        verifiedChunks[chunkStart] = read
        return (read, start)
    }

    /// The stored check of chunk `number` (counted over both tables), or nil if the file is too short.
    ///
    /// Checks are read a page (512 checks) at a time and kept: a lookup of a thousand keys visits
    /// chunks all over the key table, and one read per page costs less than one per chunk.
    private func chunkCheck(_ number: Int) throws(JournalError) -> ArraySlice<UInt8>? {
        guard let file else { throw Self.damaged("is not open") }
        let checksLength = 8 * (recordChunks + keyChunks)
        let offset = 8 * number
        let pageStart = offset - offset % Self.chunkLength
        let page: [UInt8]
        if let cached = checkPages[pageStart] {
            page = cached
        } else {
            page = try file.read(
                at: checksBase + UInt64(pageStart), count: min(Self.chunkLength, checksLength - pageStart))
            checkPages[pageStart] = page
        }
        let start = offset - pageStart
        return start + 8 <= page.count ? page[start..<(start + 8)] : nil
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
        // The fence, when there is one, must give the first value of every chunk.
        if hasFence {
            let recordsPerChunk = Self.chunkLength / RecordLocation.encodedLength
            let keysPerChunk = Self.chunkLength / KeyEntry.encodedLength
            let expected =
                stride(from: 0, to: diskRecordCount, by: recordsPerChunk).map { locations[$0].firstPosition }
                + stride(from: 0, to: diskKeyCount, by: keysPerChunk).map { coveredKeys[$0].hash }
            guard try readFence() == expected else { return false }
        }
        return true
    }

    /// The whole fence, read from the file.
    private func readFence() throws(JournalError) -> [UInt64] {
        guard let file else { throw Self.damaged("is not open") }
        let count = recordChunks + keyChunks
        let bytes = try file.read(at: fenceBase, count: 8 * count)
        guard bytes.count == 8 * count else { throw Self.damaged("is truncated") }
        return (0..<count).map { bytes.readUInt64(at: 8 * $0) }
    }

    /// Whether the fence is in memory, reading it if the file has one and `lookups` are enough to
    /// be worth it: about one per page of the fence, at least 16.
    private func fenceLoaded(forLookups lookups: Int) -> Bool {
        if fence != nil { return true }
        let entries = recordChunks + keyChunks
        guard hasFence, lookups >= max(16, entries / (Self.chunkLength / 8)) else { return false }
        // A fence that cannot be read is done without: it is a hint, and the chunks the lookup reads
        // next report any trouble with the file themselves.
        fence = try? readFence()
        if fence == nil { hasFence = false }
        return fence != nil
    }

    /// For each of `targets` (nil: none), the chunk of `table` that should hold it, from the fence;
    /// nil without a fence in memory (see `fenceLoaded`). Every chunk named, and the table's checks,
    /// are advised to the file (`File.willRead`) before the lookup reads any, so that pages the kernel
    /// no longer holds are fetched together rather than one read at a time. Chunks already checked
    /// and kept are left out.
    private func plannedChunks(for targets: [UInt64?], in table: Table) -> [Int?]? {
        guard fenceLoaded(forLookups: targets.count), let fence, let file,
            table.firstChunk + table.chunkCount <= fence.count
        else { return nil }
        let chunks = targets.map { target -> Int? in
            guard let target else { return nil }
            // The last chunk whose first value is below the target (chunk 0 when none is).
            var low = 0
            var high = table.chunkCount
            while low < high {
                let middle = (low + high) / 2
                if fence[table.firstChunk + middle] < target { low = middle + 1 } else { high = middle }
            }
            return max(0, low - 1)
        }
        var previous = -1
        for case let chunk? in chunks where chunk != previous {
            previous = chunk
            let start = table.base + UInt64(chunk * Self.chunkLength)
            guard verifiedChunks[start] == nil else { continue }
            file.willRead(at: start, count: min(Self.chunkLength, table.length - chunk * Self.chunkLength))
        }
        file.willRead(at: checksBase + UInt64(8 * table.firstChunk), count: 8 * table.chunkCount)
        return chunks
    }

    /// The entry where a search that may start at entry `cursor` reads first: the start of the
    /// `planned` chunk, or of the cursor's own chunk if that is further on. Nil without a plan.
    private func firstGuess(_ planned: Int?, from cursor: Int, in table: Table) -> Int? {
        guard let chunk = planned else { return nil }
        return max(chunk, cursor / table.entriesPerChunk) * table.entriesPerChunk
    }

    /// Writes the whole index (file part and tail) to a new file and makes it the file part.
    ///
    /// Not fsynced: the index is derived, and a damaged or lost index is detected (header check, size,
    /// chunk checks, coverage hash) and rebuilt from the segments.
    ///
    /// Streamed: the old file part is read a piece at a time (each piece's chunks checked) and merged
    /// with the sorted tail into the new file, so memory holds the tail and a piece, not the whole key
    /// table three times over (a run of 100,000 meetings adds 750,000 keys: 12 MB each copy).
    func write(
        directory: String, fileSystem: any FileSystem, segments allSegments: [UInt64],
        coverage newCoverage: IndexCoverage
    ) throws(JournalError) {
        let recordCount = totalRecordCount
        let keyCount = diskKeyCount + tailKeys.count
        var segmentBytes: [UInt8] = []
        for segment in allSegments { segmentBytes.appendLittleEndian(segment) }
        var header: [UInt8] = Self.magic
        header.appendLittleEndian(Self.version)
        header.appendLittleEndian(UInt64(recordCount))
        header.appendLittleEndian(UInt64(keyCount))
        header.appendLittleEndian(UInt64(allSegments.count))
        header.appendLittleEndian(newCoverage.nextPosition)
        header.appendLittleEndian(newCoverage.segment)
        header.appendLittleEndian(newCoverage.endOffset)
        header += newCoverage.lastHash.bytes
        header += SHA256Digest.of(header + segmentBytes).bytes.prefix(8)
        header += segmentBytes
        tailKeys.sort()
        let temporary = directory + "/.tmp-index"
        if fileSystem.fileExists(temporary) { try fileSystem.removeFile(temporary) }
        let output = try fileSystem.createFile(temporary)
        do throws(JournalError) {
            try output.write(header, at: 0)
            var writer = TableWriter(output: output, offset: UInt64(header.count))
            // The records: the file part's, then the tail's.
            let oldRecords = diskRecordCount * RecordLocation.encodedLength
            for start in stride(from: 0, to: oldRecords, by: Self.pieceLength) {
                try writer.append(
                    try verifiedTable(
                        base: recordsBase + UInt64(start), length: min(Self.pieceLength, oldRecords - start),
                        chunkOffset: start / Self.chunkLength))
            }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(Self.pieceLength + 64)
            for location in tailRecords {
                buffer.appendLittleEndian(location.firstPosition)
                buffer.appendLittleEndian(location.segment)
                buffer.appendLittleEndian(location.offset)
                buffer.appendLittleEndian(location.length)
                buffer.appendLittleEndian(location.count)
                if buffer.count >= Self.pieceLength {
                    try writer.append(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try writer.append(buffer)
            buffer.removeAll(keepingCapacity: true)
            try writer.endTable()
            // The keys: the file part's (sorted) merged with the sorted tail.
            var next = 0
            func emit(_ key: KeyEntry) {
                buffer.appendLittleEndian(key.hash)
                buffer.appendLittleEndian(key.position)
            }
            let oldKeys = diskKeyCount * KeyEntry.encodedLength
            for start in stride(from: 0, to: oldKeys, by: Self.pieceLength) {
                let piece = try verifiedTable(
                    base: keysBase + UInt64(start), length: min(Self.pieceLength, oldKeys - start),
                    chunkOffset: recordChunks + start / Self.chunkLength)
                for entry in stride(from: 0, to: piece.count, by: KeyEntry.encodedLength) {
                    let old = KeyEntry(
                        hash: piece.readUInt64(at: entry), position: piece.readUInt64(at: entry + 8))
                    while next < tailKeys.count, tailKeys[next] < old {
                        emit(tailKeys[next])
                        next += 1
                    }
                    emit(old)
                }
                try writer.append(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
            while next < tailKeys.count {
                emit(tailKeys[next])
                next += 1
                if buffer.count >= Self.pieceLength {
                    try writer.append(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try writer.append(buffer)
            try writer.endTable()
            try output.write(writer.checks, at: writer.offset)
            try output.write(writer.fence, at: writer.offset + UInt64(writer.checks.count))
            try output.close()
        } catch {
            try? output.close()
            try? fileSystem.removeFile(temporary)
            throw error
        }
        try fileSystem.rename(temporary, to: directory + "/" + Self.fileName)
        try? file?.close()
        file = try fileSystem.openFile(directory + "/" + Self.fileName, writable: false)
        segments = allSegments
        diskRecordCount = recordCount
        diskKeyCount = keyCount
        coverage = newCoverage
        forgetReads(fileHasFence: true)
        tailRecords = []
        tailKeys = []
    }

    /// How much of a table `write` reads or writes at once: a whole number of chunks.
    private static let pieceLength = 64 * chunkLength

    /// Writes the tables of a new index file one after the other, each in pieces, and gathers the
    /// check of each 4 KiB chunk (counted from the start of its table) for the end of the file.
    private struct TableWriter {
        let output: any File
        var offset: UInt64
        var checks: [UInt8] = []
        /// The first 8 bytes of each chunk, in the order of the checks.
        var fence: [UInt8] = []
        private var pending: [UInt8] = []

        init(output: any File, offset: UInt64) {
            self.output = output
            self.offset = offset
        }

        mutating func append(_ bytes: [UInt8]) throws(JournalError) {
            pending += bytes
            if pending.count >= JournalIndex.pieceLength {
                try flush(pending.count - pending.count % JournalIndex.chunkLength)
            }
        }

        /// Writes what is pending of the current table, its last chunk possibly short.
        mutating func endTable() throws(JournalError) { try flush(pending.count) }

        private mutating func flush(_ length: Int) throws(JournalError) {
            guard length > 0 else { return }
            for start in stride(from: 0, to: length, by: JournalIndex.chunkLength) {
                checks += SHA256Digest.of(
                    Array(pending[start..<min(length, start + JournalIndex.chunkLength)])
                )
                .bytes.prefix(8)
                fence += pending[start..<(start + 8)]
            }
            try output.write(Array(pending[0..<length]), at: offset)
            offset += UInt64(length)
            pending.removeFirst(length)
        }
    }
}
