import Foundation

/// How to open a journal.
public struct JournalConfiguration: Sendable {
    /// The folder of segment files.
    public var directory: String
    /// A new segment starts when an append would take the active one past this size (bytes). A record
    /// larger than the limit gets a segment of its own.
    public var segmentSizeLimit: UInt64
    /// The file layer; tests substitute one that injects faults.
    public var fileSystem: any FileSystem
    /// The clock that stamps event times.
    public var clock: @Sendable () -> Date

    /// A configuration with the defaults: 64 MiB segments, the real file system, the system clock.
    public init(
        directory: String, segmentSizeLimit: UInt64 = 64 << 20,
        fileSystem: any FileSystem = PosixFileSystem(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.directory = directory
        self.segmentSizeLimit = segmentSizeLimit
        self.fileSystem = fileSystem
        self.clock = clock
    }
}

/// What opening the journal found and repaired.
public struct JournalOpenReport: Sendable, Equatable {
    /// Bytes cut from the end of the last segment (a torn tail); 0 if none.
    public var tornBytesCut: UInt64 = 0
    /// Why the tail was cut, if it was.
    public var tornTailReason: String?
    /// The segment and offset at which the tail was cut.
    public var tornTailSegment: String?
    public var tornTailOffset: UInt64?
    /// Whether the derived index was missing or stale and the segments were scanned instead.
    public var indexRebuilt = false
    /// Records read and checked while opening (bounded by what the index did not cover).
    public var recordsScanned = 0
}

/// An append-only event journal of LZ4-framed, checksummed, hash-chained segments.
///
/// One instance is the only writer of its folder (callers hold a lock). Durability contract:
/// `append(_:)` returns after `fdatasync`; `appendDeferred(_:)` returns after the write only, and its
/// records become durable with the next durable append, `sync()` or `close()`. After any failed write
/// or fsync the instance is unusable: a retry could report success for data that was lost.
///
/// Not `Sendable`: it owns the open segment and its position counter; confine it to one task.
public final class Journal {
    /// Whether the journal may be written.
    public enum Mode: Sendable {
        /// Cut a torn tail and allow appends.
        case readWrite
        /// Change nothing on disk; a torn tail is reported and ignored.
        case readOnly
    }

    public let configuration: JournalConfiguration
    /// What opening found and repaired.
    public private(set) var openReport = JournalOpenReport()
    /// The position the next appended event will get; `nextPosition - 1` is the last one stored.
    public private(set) var nextPosition: UInt64 = 1

    private let mode: Mode
    private var fileSystem: any FileSystem { configuration.fileSystem }
    private var directory: String { configuration.directory }
    var segments: [UInt64] = []
    private var segmentSizes: [UInt64: UInt64] = [:]
    private var active: (any File)?
    private var activeSize: UInt64 = 0
    private(set) var lastHash = SHA256Digest.zero
    private var hasUnsyncedWrites = false
    private var failure: JournalError?
    private var isClosed = false
    let index: JournalIndex
    private var readers: [UInt64: any File] = [:]

    init(configuration: JournalConfiguration, mode: Mode, index: JournalIndex) {
        self.configuration = configuration
        self.mode = mode
        self.index = index
    }

    deinit {
        for reader in readers.values { try? reader.close() }
    }

    // MARK: Opening

    /// Opens the journal in `configuration.directory`, creating it when writable and absent.
    ///
    /// Opening checks the tail: everything after what the index covers is read and verified. A torn
    /// last record of the last segment (incomplete, failing its checksum, or followed by zeros or
    /// garbage but by no durable record) is cut off in `.readWrite` mode, the cut fsynced, and
    /// reported in `openReport`. Any other damage throws `.corrupt` naming the segment and offset.
    public static func open(_ configuration: JournalConfiguration, mode: Mode = .readWrite)
        throws(JournalError)
        -> Journal
    {
        let fileSystem = configuration.fileSystem
        let directory = configuration.directory
        if mode == .readWrite && !fileSystem.fileExists(directory) {
            try fileSystem.createDirectory(directory)
            try fileSystem.syncDirectory(parentDirectory(of: directory))
        }
        var names = fileSystem.fileExists(directory) ? try fileSystem.contentsOfDirectory(directory) : []
        if mode == .readWrite {
            for name in names where name.hasPrefix(".tmp-") {
                try fileSystem.removeFile(directory + "/" + name)
            }
            names.removeAll { $0.hasPrefix(".tmp-") }
        }
        let journal = Journal(
            configuration: configuration, mode: mode,
            index: JournalIndex.load(directory: directory, fileSystem: fileSystem))
        journal.segments = names.compactMap(RecordFormat.firstPosition(ofSegmentNamed:)).sorted()
        if journal.segments.isEmpty {
            // An index without segments describes a journal that is gone: it must not survive into
            // the new one.
            journal.index.reset()
            guard mode == .readWrite else { return journal }
            let indexPath = directory + "/" + JournalIndex.fileName
            if fileSystem.fileExists(indexPath) { try fileSystem.removeFile(indexPath) }
            try journal.createSegment(firstPosition: 1, previousHash: .zero)
            return journal
        }
        try journal.checkTail()
        if mode == .readWrite {
            let last = journal.segments[journal.segments.count - 1]
            journal.active = try fileSystem.openFile(journal.path(ofSegment: last), writable: true)
        }
        return journal
    }

    func path(ofSegment firstPosition: UInt64) -> String {
        directory + "/" + RecordFormat.segmentName(firstPosition: firstPosition)
    }

    /// Validates the index against the segments, then reads and checks every record the index does not
    /// cover, starting from the record the index names as its last (whose hash must still match).
    ///
    /// The cost is bounded by the unindexed tail, whatever the journal's length. Records the index
    /// covers were checked when they were indexed; reading them checks them again, and `verify` walks
    /// the whole chain.
    private func checkTail() throws(JournalError) {
        guard segments[0] == 1 else {
            throw JournalError(
                .corrupt,
                "the journal does not start at position 1: the segments before \(segments[0]) are missing",
                segment: RecordFormat.segmentName(firstPosition: segments[0]), offset: 0)
        }
        for segment in index.segments where !segments.contains(segment) {
            throw JournalError(
                .corrupt,
                "segment \(RecordFormat.segmentName(firstPosition: segment)) is missing (the index lists it)",
                segment: RecordFormat.segmentName(firstPosition: segment))
        }
        let consistent =
            index.coverage != nil && index.segments == Array(segments.prefix(index.segments.count))
        // The index is written only after an fdatasync: the bytes it covers were durable, so damage
        // there is corruption, never a torn tail, even when the index itself can no longer be used.
        syncedThrough = consistent ? index.coverage.map { ($0.segment, $0.endOffset) } : nil
        if consistent, let coverage = index.coverage, try coverageHolds(coverage) {
            try scanTail(from: coverage)
        } else {
            // The index is missing or disagrees with the segments: forget it and scan everything.
            index.discardFile()
            openReport.indexRebuilt = true
            try scanTail(from: nil)
        }
    }

    /// Whether the index was rebuilt from the segments in this process: then a location it gives that
    /// does not hold its record means the segment is damaged, not the index.
    var indexRebuiltFromSegments = false

    /// Where the index says the journal was durable: damage before this point is corruption.
    var syncedThrough: (segment: UInt64, offset: UInt64)?

    /// Whether damage at `offset` of `segment` lies in bytes known to have been synced.
    func isKnownDurable(segment: UInt64, offset: UInt64) -> Bool {
        guard let syncedThrough else { return false }
        return segment < syncedThrough.segment
            || (segment == syncedThrough.segment && offset < syncedThrough.offset)
    }

    /// Rebuilds the index from every segment (after the index file was found damaged by a lookup).
    func rebuildIndex() throws(JournalError) {
        index.reset()
        openReport.indexRebuilt = true
        indexRebuiltFromSegments = true
        var state = ScanState(nextPosition: 1, lastHash: .zero)
        for (number, segment) in segments.enumerated() {
            _ = try scanSegment(segment, from: 0, state: &state, isLast: number == segments.count - 1) {
                header, offset, _ in
                self.index.appendTail(
                    RecordLocation(
                        firstPosition: header.firstPosition, segment: segment, offset: offset,
                        length: UInt32(header.recordLength), count: header.eventCount), keys: header.keys)
            }
        }
    }

    /// Runs a lookup; if the index file turns out damaged, rebuilds the index from the segments and
    /// runs it once more.
    private func withIndexRepair<T>(_ lookup: () throws -> T) throws -> T {
        do {
            return try lookup()
        } catch let error as JournalError where error.segment == JournalIndex.fileName {
            try rebuildIndex()
            return try lookup()
        }
    }

    /// Whether the record the index names as its last is still there with the hash the index recorded.
    private func coverageHolds(_ coverage: IndexCoverage) throws(JournalError) -> Bool {
        let lastIndexed: RecordLocation?
        do {
            lastIndexed = try index.lastDiskRecord()
        } catch  where error.segment == JournalIndex.fileName {
            return false
        }
        guard segments.contains(coverage.segment), let last = lastIndexed,
            last.segment == coverage.segment, last.offset + UInt64(last.length) == coverage.endOffset,
            last.firstPosition + UInt64(last.count) == coverage.nextPosition
        else { return false }
        let file = try fileSystem.openFile(path(ofSegment: last.segment), writable: false)
        defer { try? file.close() }
        let bytes = try file.read(at: last.offset, count: Int(last.length))
        return bytes.count == Int(last.length) && SHA256Digest.of(bytes) == coverage.lastHash
    }

    private func scanTail(from coverage: IndexCoverage?) throws(JournalError) {
        let startSegment = coverage.flatMap { segments.firstIndex(of: $0.segment) } ?? 0
        var state = ScanState(
            nextPosition: coverage?.nextPosition ?? 1, lastHash: coverage?.lastHash ?? .zero)
        for position in startSegment..<segments.count {
            let segment = segments[position]
            let damage = try scanSegment(
                segment, from: position == startSegment ? coverage?.endOffset ?? 0 : 0, state: &state,
                isLast: position == segments.count - 1
            ) { header, offset, _ in
                self.index.appendTail(
                    RecordLocation(
                        firstPosition: header.firstPosition, segment: segment, offset: offset,
                        length: UInt32(header.recordLength), count: header.eventCount), keys: header.keys)
                self.openReport.recordsScanned += 1
            }
            if let damage {
                openReport.tornTailReason = damage.reason
                openReport.tornTailSegment = RecordFormat.segmentName(firstPosition: segment)
                openReport.tornTailOffset = damage.offset
                openReport.tornBytesCut = damage.length
                if mode == .readWrite {
                    let file = try fileSystem.openFile(path(ofSegment: segment), writable: true)
                    try file.truncate(to: damage.offset)
                    try file.sync()
                    try file.close()
                }
                activeSize = damage.offset
            }
        }
        nextPosition = state.nextPosition
        lastHash = state.lastHash
        if openReport.tornTailOffset == nil {
            activeSize = try fileSystem.openFile(
                path(ofSegment: segments[segments.count - 1]), writable: false
            ).size()
        }
        if mode == .readWrite && index.tailRecords.count >= 4096 {
            try writeIndex()
        }
    }

    // MARK: Scanning

    struct ScanState {
        var nextPosition: UInt64
        /// The hash the next link must name.
        var lastHash: SHA256Digest
    }

    struct TailDamage {
        var offset: UInt64
        var length: UInt64
        var reason: String
    }

    /// How many bytes of a segment `scanSegment` holds at once (more when one record is larger): a
    /// segment is up to 64 MiB, and verifying a run's records or opening after a crash needs one
    /// record at a time, not the rest of the segment in memory. At least a whole record header (its
    /// fixed part and up to 1 MiB of keys), so that a window holds many records.
    static let scanWindow = 2 << 20

    /// Reads segment `segment` from `startOffset` to its end, checking every record: header check,
    /// chain link, position continuity, LZ4 frame, content checksum and line count; and the segment's
    /// metadata frame when starting at 0. The segment is read in windows of `scanWindow` bytes (or one
    /// record, when larger); damage is judged on the bytes from it to the segment's end, read then.
    ///
    /// - Returns: the torn tail, if the last segment ends in damage a crash can explain.
    /// - Throws: `.corrupt` for any other damage.
    func scanSegment(
        _ segment: UInt64, from startOffset: UInt64, state: inout ScanState, isLast: Bool,
        onRecord: (RecordFormat.RecordHeader, UInt64, [UInt8]) throws(JournalError) -> Void
    ) throws(JournalError) -> TailDamage? {
        let name = RecordFormat.segmentName(firstPosition: segment)
        let file = try fileSystem.openFile(path(ofSegment: segment), writable: false)
        defer { try? file.close() }
        let size = try file.size()
        // `bytes` holds the segment from file offset `base`; `cursor` indexes into it.
        var base = min(size, startOffset)
        var bytes = try file.read(at: base, count: Int(min(UInt64(Self.scanWindow), size - base)))
        var cursor = 0
        /// Makes `bytes` hold at least `count` bytes from `cursor` (fewer at the segment's end).
        func hold(_ count: Int) throws(JournalError) {
            let available = bytes.count - cursor
            let remaining = Int(size - base) - cursor
            guard available < min(count, remaining) else { return }
            base += UInt64(cursor)
            cursor = 0
            // The old window let go before the new one is read: never two windows at once.
            bytes = []
            bytes = try file.read(at: base, count: min(remaining, max(count, Self.scanWindow)))
        }
        if startOffset == 0 {
            switch RecordFormat.decodeSegmentMetadata(bytes[...]) {
            case .failure(let problem):
                throw JournalError(
                    .corrupt, "segment metadata is damaged: \(problem)", segment: name, offset: 0)
            case .success(let metadata):
                guard metadata.firstPosition == segment else {
                    throw JournalError(
                        .corrupt, "segment metadata says it starts at position \(metadata.firstPosition)",
                        segment: name, offset: 0)
                }
                guard segment == state.nextPosition else {
                    throw JournalError(
                        .corrupt,
                        "position gap: expected a segment starting at \(state.nextPosition), found \(segment) "
                            + "(a segment is missing)", segment: name, offset: 0)
                }
                guard metadata.previousHash == state.lastHash else {
                    throw JournalError(
                        .corrupt, "hash chain broken: the previous segment's last record does not match",
                        segment: name, offset: 0)
                }
            }
            state.lastHash = SHA256Digest.of(Array(bytes[0..<RecordFormat.segmentMetadataLength]))
            cursor = RecordFormat.segmentMetadataLength
        }
        let decoder = try LZ4FrameDecoder()
        while base + UInt64(cursor) < size {
            // A header is at most its fixed part and 1 MiB of keys: hold that much (or the rest).
            try hold(RecordFormat.recordHeaderFixedLength + RecordFormat.maximumKeysLength)
            let problem: String
            switch RecordFormat.parseRecordHeader(bytes[cursor...]) {
            case .incomplete:
                problem = "the last record is incomplete"
            case .invalid(let reason):
                problem = reason.description
            case .valid(let header):
                try hold(header.recordLength)
                if cursor + header.recordLength > bytes.count {
                    problem = "the last record is incomplete"
                } else if header.previousHash != state.lastHash {
                    problem = "hash chain broken: the record does not follow the one before it"
                } else if header.firstPosition != state.nextPosition || header.eventCount == 0 {
                    problem = "position gap: expected \(state.nextPosition), found \(header.firstPosition)"
                } else {
                    let recordRange = cursor..<(cursor + header.recordLength)
                    switch decodeRecord(header, bytes[recordRange], decoder: decoder) {
                    case .failure(let reason):
                        problem = reason.description
                    case .success(let payload):
                        try onRecord(header, base + UInt64(cursor), payload)
                        state.lastHash = bytes.withUnsafeBytes { raw in
                            SHA256Digest.of(UnsafeRawBufferPointer(rebasing: raw[recordRange]))
                        }
                        state.nextPosition += UInt64(header.eventCount)
                        cursor += header.recordLength
                        continue
                    }
                }
            }
            let offset = base + UInt64(cursor)
            if isLast, !isKnownDurable(segment: segment, offset: offset),
                damageIsTornTail(
                    try file.read(at: offset, count: Int(size - offset)), at: 0, decoder: decoder)
            {
                return TailDamage(offset: offset, length: size - offset, reason: problem)
            }
            throw JournalError(.corrupt, problem, segment: name, offset: offset)
        }
        return nil
    }

    /// Decodes a record's LZ4 frame and checks that it holds `eventCount` newline-terminated lines.
    func decodeRecord(
        _ header: RecordFormat.RecordHeader, _ record: ArraySlice<UInt8>, decoder: LZ4FrameDecoder
    ) -> Result<[UInt8], FrameProblem> {
        let frameRange = (record.startIndex + header.headerLength)..<record.endIndex
        let result = record.withUnsafeBytes { raw in
            decoder.decode(
                UnsafeRawBufferPointer(rebasing: raw[(header.headerLength)..<raw.count]),
                expectedLength: Int(header.payloadLength))
        }
        _ = frameRange
        guard case .success(let payload) = result else { return result }
        let lines = lineRanges(payload).count
        guard lines == Int(header.eventCount), payload.last == 0x0a else {
            return .failure(FrameProblem("record holds \(lines) lines, its header says \(header.eventCount)"))
        }
        return .success(payload)
    }

    /// Whether damage at `offset` of the last segment can be the work of a crash.
    ///
    /// After a crash, only the writes since the last completed fdatasync may be lost, torn or garbled.
    /// That region holds deferred records and, last, at most one durable record whose fdatasync was in
    /// flight. So the damage is a torn tail unless (a) the damaged record's header is intact and says it
    /// was durable, and valid records follow it, or (b) some valid durable record after it is followed
    /// by another valid record. Either means a record whose fdatasync completed was damaged later:
    /// corruption.
    private func damageIsTornTail(_ bytes: [UInt8], at offset: Int, decoder: LZ4FrameDecoder) -> Bool {
        var following: [Bool] = []
        let magic: [UInt8] = [0x51, 0x2a, 0x4d, 0x18]
        var cursor = offset + 1
        while cursor + 8 <= bytes.count {
            if bytes[cursor] == magic[0] && bytes[cursor + 1] == magic[1] && bytes[cursor + 2] == magic[2]
                && bytes[cursor + 3] == magic[3],
                case .valid(let header) = RecordFormat.parseRecordHeader(bytes[cursor...]),
                cursor + header.recordLength <= bytes.count,
                case .success = decodeRecord(
                    header, bytes[cursor..<(cursor + header.recordLength)], decoder: decoder)
            {
                following.append(header.isDurable)
                cursor += header.recordLength
                continue
            }
            cursor += 1
        }
        if case .valid(let damaged) = RecordFormat.parseRecordHeader(bytes[offset...]), damaged.isDurable,
            !following.isEmpty
        {
            return false
        }
        return !following.dropLast().contains(true)
    }

    // MARK: Appending

    /// Appends `events` as one record and makes it durable (`fdatasync`) before returning.
    ///
    /// - Returns: the positions given to the events, in order.
    /// - Throws: `.invalidArgument` for an event that cannot be stored (nothing is written); `.io` when a
    ///   write or fsync fails, after which the instance is unusable.
    @discardableResult
    public func append(_ events: [JournalEvent]) throws(JournalError) -> ClosedRange<UInt64> {
        try appendRecord(events, durable: true)
    }

    /// Appends `events` as one record without waiting for the disk: for records whose loss recovery can
    /// repair (outcomes). They become durable with the next `append(_:)`, `sync()` or `close()`.
    @discardableResult
    public func appendDeferred(_ events: [JournalEvent]) throws(JournalError) -> ClosedRange<UInt64> {
        try appendRecord(events, durable: false)
    }

    /// Makes every appended record durable.
    public func sync() throws(JournalError) {
        try checkWritable()
        guard hasUnsyncedWrites, let active else { return }
        do throws(JournalError) {
            try active.sync()
        } catch {
            failure = error
            throw error
        }
        hasUnsyncedWrites = false
    }

    private func checkWritable() throws(JournalError) {
        if isClosed { throw JournalError(.closed, "the journal is closed") }
        if let failure {
            throw JournalError(
                .unusable,
                "the journal is unusable after an earlier failure (\(failure.message)); reopen it to recover",
                errno: failure.errno)
        }
        guard mode == .readWrite else {
            throw JournalError(.invalidArgument, "the journal is open read-only")
        }
    }

    private func appendRecord(_ events: [JournalEvent], durable: Bool) throws(JournalError) -> ClosedRange<
        UInt64
    > {
        try checkWritable()
        guard !events.isEmpty else {
            throw JournalError(.invalidArgument, "an append needs at least one event")
        }
        var keys: [(UInt32, String)] = []
        var keysLength = 0
        for (eventIndex, event) in events.enumerated() {
            try event.validate()
            for key in event.keys {
                keys.append((UInt32(eventIndex), key))
                keysLength += 6 + key.utf8.count
            }
        }
        guard keysLength <= RecordFormat.maximumKeysLength else {
            throw JournalError(.invalidArgument, "the events carry more than 1 MiB of index keys")
        }
        let time = rfc3339Milliseconds(configuration.clock())
        var payload: [UInt8] = []
        payload.reserveCapacity(events.reduce(0) { $0 + $1.body.count + 80 })
        for (eventIndex, event) in events.enumerated() {
            event.line(position: nextPosition + UInt64(eventIndex), time: time, into: &payload)
        }
        guard payload.count <= 1 << 30 else {
            // The header stores lengths as 32-bit numbers; 1 GiB keeps even an incompressible frame
            // and its header far below that.
            throw JournalError(.invalidArgument, "a record may hold at most 1 GiB of events")
        }
        let frame = try LZ4Frame.compress(payload)
        let recordLength = UInt64(RecordFormat.recordHeaderFixedLength + keysLength + frame.count)
        try writeIndexIfTailIsLarge()
        do throws(JournalError) {
            if activeSize > UInt64(RecordFormat.segmentMetadataLength)
                && activeSize + recordLength > configuration.segmentSizeLimit
            {
                try rollSegment()
            }
            guard let active else { throw JournalError(.closed, "no active segment") }
            let record =
                RecordFormat.encodeRecordHeader(
                    durable: durable, firstPosition: nextPosition, eventCount: events.count,
                    payloadLength: payload.count, frameLength: frame.count, previousHash: lastHash, keys: keys
                )
                + frame
            try active.write(record, at: activeSize)
            hasUnsyncedWrites = true
            if durable {
                try active.sync()
                hasUnsyncedWrites = false
            }
            let first = nextPosition
            index.appendTail(
                RecordLocation(
                    firstPosition: first, segment: segments[segments.count - 1], offset: activeSize,
                    length: UInt32(record.count), count: UInt32(events.count)), keys: keys)
            lastHash = SHA256Digest.of(record)
            activeSize += UInt64(record.count)
            nextPosition += UInt64(events.count)
            return first...(nextPosition - 1)
        } catch {
            failure = error
            throw error
        }
    }

    /// The in-memory tail of the index holds 16 bytes per key of every record appended since the index
    /// was last written, and an intent carries a key per row it changes: a run of 100,000 meetings
    /// appends 750,000 keys. So the index is written when the tail reaches `indexTailLimit` keys, or a
    /// quarter of those already in the file if more: the tail stays bounded, and rewriting the whole
    /// file each time costs at most about five times what the tail adds.
    static let indexTailLimit = 1 << 16

    /// Writes the index before an append when its tail is large (see `indexTailLimit`). The index is
    /// derived: if writing it fails for a reason of its own, its tail stays in memory (it is written at
    /// close); a failed fdatasync of the segment makes the journal unusable, as anywhere else.
    private func writeIndexIfTailIsLarge() throws(JournalError) {
        let keys = index.tailKeys.count
        guard keys >= max(Self.indexTailLimit, index.diskKeyCount / 4, indexRetryAt) else { return }
        do throws(JournalError) {
            try writeIndex()
        } catch {
            if failure != nil { throw error }
            // Not before the tail has doubled: a full disk must not cost a failed rewrite per append.
            indexRetryAt = 2 * keys
        }
    }

    /// The tail size at which a failed index write is tried again.
    private var indexRetryAt = 0

    /// Seals the active segment (fdatasync) and starts a new one at `nextPosition`.
    private func rollSegment() throws(JournalError) {
        if let active {
            try active.sync()
            hasUnsyncedWrites = false
            try active.close()
            self.active = nil
        }
        try createSegment(firstPosition: nextPosition, previousHash: lastHash)
    }

    /// Creates a segment atomically: metadata written to a temporary file, fsynced, renamed into place,
    /// and the folder fsynced, so a segment exists with valid metadata or not at all.
    private func createSegment(firstPosition: UInt64, previousHash: SHA256Digest) throws(JournalError) {
        let name = RecordFormat.segmentName(firstPosition: firstPosition)
        let temporary = directory + "/.tmp-" + name
        let metadata = RecordFormat.encodeSegmentMetadata(
            firstPosition: firstPosition, previousHash: previousHash)
        let file = try fileSystem.createFile(temporary)
        try file.write(metadata, at: 0)
        try file.sync()
        try fileSystem.rename(temporary, to: path(ofSegment: firstPosition))
        try fileSystem.syncDirectory(directory)
        active = file
        activeSize = UInt64(metadata.count)
        lastHash = SHA256Digest.of(metadata)
        segments.append(firstPosition)
    }

    /// Flushes deferred records, writes the index if records are unindexed, and closes the files.
    public func close() throws(JournalError) {
        guard !isClosed else { return }
        defer {
            isClosed = true
            for reader in readers.values { try? reader.close() }
            readers = [:]
        }
        if mode == .readWrite && failure == nil {
            try sync()
            if !index.tailRecords.isEmpty { try writeIndex() }
        }
        try active?.close()
        active = nil
    }

    /// Writes the index over everything up to `activeSize`, after an fdatasync of the last segment:
    /// the index is evidence that the bytes it covers are durable, so they must be, even when this
    /// instance only scanned them (records a killed process left unsynced). Sealed segments were
    /// synced when they were sealed.
    private func writeIndex() throws(JournalError) {
        let last = segments[segments.count - 1]
        do throws(JournalError) {
            if let active {
                try active.sync()
            } else {
                let file = try fileSystem.openFile(path(ofSegment: last), writable: true)
                try file.sync()
                try file.close()
            }
        } catch {
            failure = error
            throw error
        }
        hasUnsyncedWrites = false
        let coverage = IndexCoverage(
            nextPosition: nextPosition, segment: last, endOffset: activeSize, lastHash: lastHash)
        do throws(JournalError) {
            try index.write(
                directory: directory, fileSystem: fileSystem, segments: segments, coverage: coverage)
        } catch  where error.segment == JournalIndex.fileName {
            // The old index file is damaged: rebuild from the segments and write that instead.
            try rebuildIndex()
            try index.write(
                directory: directory, fileSystem: fileSystem, segments: segments, coverage: coverage)
        }
    }

    // MARK: Reading

    /// Calls `body` with each event from position `first` through `last` (default: the newest), in order,
    /// until `body` returns false. Every record read is checked (header check, LZ4 content checksum,
    /// positions); damage throws `.corrupt`.
    public func read(
        from first: UInt64 = 1, through last: UInt64? = nil, _ body: (JournalEntry) throws -> Bool
    ) throws {
        let end = min(last ?? UInt64.max, nextPosition - 1)
        guard first <= end, first >= 1 else { return }
        let decoder = try LZ4FrameDecoder()
        var (location, header, payload) = try withIndexRepair {
            () throws -> (RecordLocation, RecordFormat.RecordHeader, [UInt8]) in
            guard let found = try index.locate(position: first) else {
                throw JournalIndex.damaged("has no record for position \(first)")
            }
            let (header, payload) = try readRecord(at: found, decoder: decoder)
            return (found, header, payload)
        }
        while true {
            var position = header.firstPosition
            for line in Self.lines(of: &payload) {
                if position >= first {
                    if position > end { return }
                    if try !body(JournalEntry(position: position, line: Array(payload[line]))) { return }
                }
                position += 1
            }
            if position > end { return }
            let nextOffset = location.offset + UInt64(header.recordLength)
            var segment = location.segment
            var offset = nextOffset
            if offset >= (try segmentSize(segment)) {
                guard let nextIndex = segments.firstIndex(of: segment).map({ $0 + 1 }),
                    nextIndex < segments.count
                else { return }
                segment = segments[nextIndex]
                offset = UInt64(RecordFormat.segmentMetadataLength)
            }
            location = RecordLocation(
                firstPosition: position, segment: segment, offset: offset, length: 0, count: 0)
            (header, payload) = try readRecord(at: location, decoder: decoder)
        }
    }

    /// The event at `position`, or nil beyond the end.
    public func entry(at position: UInt64) throws -> JournalEntry? {
        var found: JournalEntry?
        try read(from: position, through: position) { entry in
            found = entry
            return false
        }
        return found
    }

    /// The events appended with index key `key`, in position order, found through the index.
    public func entries(withKey key: String) throws -> [JournalEntry] {
        try withIndexRepair { try lookUp(key: key) }
    }

    /// The positions of the events appended with index key `key`, in order, from the index alone: no
    /// record is read, so a caller that needs a few of many events (audit: the batches after a given
    /// one that touched a row) reads only those. The index holds 64-bit hashes of keys, so a position
    /// is a candidate: `entries(withKey:)` confirms each against its record's header.
    public func positions(withKey key: String) throws -> [UInt64] {
        try withIndexRepair { Array(Set(try index.positions(forKey: key))).sorted() }
    }

    /// Where this handle's view of the journal ends: its next position and the SHA-256 of the record
    /// before it. A handle opened later, on another thread, checks with `requireHistory(_:)` that it
    /// sees the same events (and ignores any after them).
    public struct Mark: Sendable, Equatable {
        public var nextPosition: UInt64
        public var lastRecordHash: SHA256Digest?
    }

    /// This handle's `Mark`.
    public func mark() throws -> Mark {
        let hash = try hashOfRecord(endingBefore: nextPosition)
        guard nextPosition == 1 || hash != nil else {
            throw JournalIndex.damaged("has no record ending at position \(nextPosition - 1)")
        }
        return Mark(nextPosition: nextPosition, lastRecordHash: hash)
    }

    /// Throws `.invalidArgument` unless this journal holds the events of `mark`'s view: at least as many,
    /// the record before its end the same bytes (the hash chain makes the earlier ones the same too).
    ///
    /// Why: a second handle opens the folder again, which may since have been replaced, cut or
    /// emptied; without the check, what it reads would silently stand for the first handle's journal.
    public func requireHistory(_ mark: Mark) throws {
        guard nextPosition >= mark.nextPosition,
            try hashOfRecord(endingBefore: mark.nextPosition) == mark.lastRecordHash
        else {
            throw JournalError(
                .invalidArgument,
                "the journal at \(configuration.directory) no longer holds the events up to position "
                    + "\(mark.nextPosition - 1) that were read from it (the folder changed)")
        }
    }

    /// The SHA-256 of the record whose last event is at `position - 1`; nil for position 1, or when no
    /// record ends there.
    private func hashOfRecord(endingBefore position: UInt64) throws -> SHA256Digest? {
        guard position > 1 else { return nil }
        return try withIndexRepair {
            guard let location = try index.locate(position: position - 1),
                location.firstPosition + UInt64(location.count) == position, location.length > 0
            else { return nil }
            let bytes = try reader(for: location.segment).read(
                at: location.offset, count: Int(location.length))
            return SHA256Digest.of(bytes)
        }
    }

    /// `positions(withKey:)` for each of `keys`, in the same order, found in one pass over the index's
    /// key table (keys sorted by hash): a caller with hundreds of keys (audit: every row of a batch)
    /// reads each part of the table once, and about one 4 KiB chunk per key.
    public func positions(withKeys keys: [String]) throws -> [[UInt64]] {
        try withIndexRepair { try index.positions(forKeys: keys).map { Array(Set($0)).sorted() } }
    }

    /// The events at `positions` (in position order, each once; positions beyond the end are left
    /// out), each record read and checked once however many of its events are asked for.
    ///
    /// The records are found in one pass over the index's record table, and read in position order.
    /// `nearby` names events wanted only if they cost no read of their own: they are returned too when
    /// their record lies in the bytes already read for another (a read takes a little more than its
    /// record, and a small record such as a batch's outcome often follows an intent's). One that would
    /// need a read, or fails its checks, is left out, never an error.
    public func entries(at positions: [UInt64], nearby: [UInt64] = []) throws -> [JournalEntry] {
        var result: [JournalEntry] = []
        try entries(at: positions, nearby: nearby) { result.append($0) }
        return result
    }

    /// `entries(at:nearby:)`, handing each event to `body` as it is read instead of collecting them:
    /// a caller that keeps little of each (audit: the heads of hundreds of later intents) then holds
    /// one record at a time, not all of them.
    public func entries(
        at positions: [UInt64], nearby: [UInt64] = [], _ body: (JournalEntry) throws -> Void
    ) throws {
        let required = Set(positions).filter { $0 >= 1 && $0 < nextPosition }
        let optional = Set(nearby).filter { $0 >= 1 && $0 < nextPosition }.subtracting(required)
        let wanted = required.union(optional).sorted()
        guard !required.isEmpty else { return }
        // A damaged index is rebuilt and the lookup run again: events handed over before are not again.
        var delivered = Set<UInt64>()
        try withIndexRepair {
            let decoder = try LZ4FrameDecoder()
            var record: (header: RecordFormat.RecordHeader, payload: [UInt8], lines: [Range<Int>])?
            var span: ReadSpan?
            var locations = try index.locate(ascending: wanted)[...]
            // The records to read, asked for all at once before the first read waits (advice only:
            // a segment that cannot be opened is reported by its read).
            for (position, location) in zip(wanted, locations) where required.contains(position) {
                guard let location, segments.contains(location.segment) else { continue }
                try? reader(for: location.segment).willRead(
                    at: location.offset, count: Self.readLength(location))
            }
            for position in wanted {
                let location = locations.popFirst() ?? nil
                // Positions ascend: only one past the current record's events needs another record.
                let inRecord = record.map { position < $0.header.firstPosition + UInt64($0.lines.count) }
                if inRecord != true {
                    if optional.contains(position) {
                        guard let location, let span, span.covers(location) else { continue }
                        var reused: ReadSpan? = span
                        guard
                            let (header, read) = try? readRecord(
                                at: location, decoder: decoder, span: &reused)
                        else { continue }
                        var payload = read
                        let lines = Self.lines(of: &payload)
                        record = (header, payload, lines)
                    } else {
                        guard let location else {
                            throw JournalIndex.damaged("has no record for position \(position)")
                        }
                        var (header, payload) = try readRecord(at: location, decoder: decoder, span: &span)
                        let lines = Self.lines(of: &payload)
                        record = (header, payload, lines)
                    }
                }
                guard let record else { continue }
                let line = record.lines[Int(position - record.header.firstPosition)]
                guard delivered.insert(position).inserted else { continue }
                try body(JournalEntry(position: position, line: Array(record.payload[line])))
            }
        }
    }

    /// The ranges of the lines of a record's payload. A record of one event (an intent, often hundreds
    /// of kilobytes) loses its final newline, so that its line is the whole payload: `Array` of that
    /// slice shares the payload's storage instead of copying it into memory touched for the first time.
    private static func lines(of payload: inout [UInt8]) -> [Range<Int>] {
        let lines = lineRanges(payload)
        if lines.count == 1, lines[0] == 0..<(payload.count - 1) { payload.removeLast() }
        return lines
    }

    private func lookUp(key: String) throws -> [JournalEntry] {
        var result: [JournalEntry] = []
        let decoder = try LZ4FrameDecoder()
        for position in try index.positions(forKey: key).sorted() {
            guard let location = try index.locate(position: position) else {
                throw JournalIndex.damaged("lists key \(key) at position \(position), which no record holds")
            }
            let (header, payload) = try readRecord(at: location, decoder: decoder)
            let eventIndex = UInt32(position - header.firstPosition)
            guard header.keys.contains(where: { $0.0 == eventIndex && $0.1 == key }) else { continue }
            let lines = lineRanges(payload)
            if Int(eventIndex) < lines.count {
                result.append(JournalEntry(position: position, line: Array(payload[lines[Int(eventIndex)]])))
            }
        }
        return result
    }

    private func segmentSize(_ segment: UInt64) throws(JournalError) -> UInt64 {
        if segment == segments[segments.count - 1] { return activeSize }
        if let size = segmentSizes[segment] { return size }
        let size = try reader(for: segment).size()
        segmentSizes[segment] = size
        return size
    }

    private func reader(for segment: UInt64) throws(JournalError) -> any File {
        if let file = readers[segment] { return file }
        let file = try fileSystem.openFile(path(ofSegment: segment), writable: false)
        readers[segment] = file
        return file
    }

    /// Reads and checks the record at `location`. A location from the index (`length` > 0) must hold
    /// exactly the record it names; until the index has been rebuilt from the segments, a mismatch is
    /// blamed on the index (and repaired by rebuilding it), afterwards on the segment.
    private func readRecord(at location: RecordLocation, decoder: LZ4FrameDecoder) throws(JournalError) -> (
        RecordFormat.RecordHeader, [UInt8]
    ) {
        var span: ReadSpan?
        return try readRecord(at: location, decoder: decoder, span: &span)
    }

    /// Bytes read from a segment, kept so that a record lying within them needs no read of its own.
    struct ReadSpan {
        var segment: UInt64
        var offset: UInt64
        var bytes: [UInt8]

        /// Whether the record at `location` (from the index: its length is known) lies within.
        func covers(_ location: RecordLocation) -> Bool {
            location.length != 0 && location.segment == segment && location.offset >= offset
                && location.offset + UInt64(location.length) <= offset + UInt64(bytes.count)
        }
    }

    /// Bytes read beyond a record, in case the next one is small and follows it (a batch's outcome
    /// record, a few hundred bytes, follows its intent's).
    static let readAhead = 1024

    /// How many bytes a read of the record at `location` takes: the record, `readAhead`, at least a page.
    static func readLength(_ location: RecordLocation) -> Int {
        max(Int(location.length) + readAhead, 4096)
    }

    /// `readRecord(at:decoder:)`, taking the record from `span` when it lies within it (a location
    /// from the index, whose length is known), and leaving in `span` the bytes it read.
    private func readRecord(at location: RecordLocation, decoder: LZ4FrameDecoder, span: inout ReadSpan?)
        throws(JournalError) -> (RecordFormat.RecordHeader, [UInt8])
    {
        let name = RecordFormat.segmentName(firstPosition: location.segment)
        let fromIndex = location.length != 0
        func damage(_ problem: String) -> JournalError {
            if fromIndex && !indexRebuiltFromSegments {
                return JournalIndex.damaged(
                    "points to segment \(name) offset \(location.offset), where \(problem)")
            }
            return JournalError(.corrupt, problem, segment: name, offset: location.offset)
        }
        guard segments.contains(location.segment) else { throw damage("no such segment exists") }
        let file = try reader(for: location.segment)
        var bytes: [UInt8]
        if let span, span.covers(location) {
            let start = Int(location.offset - span.offset)
            bytes = Array(span.bytes[start..<(start + Int(location.length))])
        } else {
            bytes = try file.read(at: location.offset, count: Self.readLength(location))
            span = ReadSpan(segment: location.segment, offset: location.offset, bytes: bytes)
        }
        var header: RecordFormat.RecordHeader
        switch RecordFormat.parseRecordHeader(bytes[...]) {
        case .valid(let parsed): header = parsed
        case .incomplete:
            bytes = try file.read(
                at: location.offset,
                count: RecordFormat.recordHeaderFixedLength + RecordFormat.maximumKeysLength)
            guard case .valid(let parsed) = RecordFormat.parseRecordHeader(bytes[...]) else {
                throw damage("the record header is incomplete")
            }
            header = parsed
        case .invalid(let problem):
            throw damage(problem.description)
        }
        if bytes.count < header.recordLength {
            bytes = try file.read(at: location.offset, count: header.recordLength)
        }
        guard bytes.count >= header.recordLength else { throw damage("the record is incomplete") }
        guard header.firstPosition == location.firstPosition else {
            throw damage(
                "the record starts at position \(header.firstPosition), not \(location.firstPosition)")
        }
        guard
            !fromIndex || (header.recordLength == Int(location.length) && header.eventCount == location.count)
        else { throw damage("the record's length or event count differs") }
        switch decodeRecord(header, bytes[0..<header.recordLength], decoder: decoder) {
        case .success(let payload): return (header, payload)
        case .failure(let problem): throw damage(problem.description)
        }
    }
}

/// The ranges of the newline-terminated lines of `payload`, newlines excluded (found with `memchr`).
func lineRanges(_ payload: [UInt8]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    payload.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var start = 0
        while start < raw.count, let found = memchr(base + start, 0x0a, raw.count - start) {
            let end = base.distance(to: UnsafeRawPointer(found))
            ranges.append(start..<end)
            start = end + 1
        }
    }
    return ranges
}

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
