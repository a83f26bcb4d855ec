/// The result of a full check of a journal's segments.
public struct JournalVerification: Sendable {
    /// Segment files checked.
    public var segments = 0
    /// Records checked.
    public var records = 0
    /// Events checked; the last position is `events`.
    public var events: UInt64 = 0
    /// Bytes of segment files read.
    public var storedBytes: UInt64 = 0
    /// Bytes of decoded JSON lines.
    public var decodedBytes: UInt64 = 0
    /// Corruption found: the journal cannot be trusted past it. Empty when the journal is sound.
    public var problems: [String] = []
    /// A torn tail (cut on the next open for writing), if the last segment ends in one.
    public var tornTail: String?
    /// Whether the derived index file describes exactly the first records of the journal.
    public var indexFresh = false

    /// Whether no corruption was found (a torn tail or a stale index is not corruption).
    public var isSound: Bool { problems.isEmpty }
}

extension Journal {
    /// Checks every segment from the first: metadata, header checks, the hash chain across records and
    /// segments, contiguous positions, every LZ4 frame and content checksum, every line's position; and
    /// whether the derived index matches. Changes nothing on disk.
    public static func verify(_ configuration: JournalConfiguration) throws(JournalError)
        -> JournalVerification
    {
        let journal = Journal(
            configuration: configuration, mode: .readOnly,
            index: JournalIndex.load(directory: configuration.directory, fileSystem: configuration.fileSystem)
        )
        var report = JournalVerification()
        let fileSystem = configuration.fileSystem
        guard fileSystem.fileExists(configuration.directory) else { return report }
        journal.segments = try fileSystem.contentsOfDirectory(configuration.directory)
            .compactMap(RecordFormat.firstPosition(ofSegmentNamed:)).sorted()
        guard let first = journal.segments.first else { return report }
        // Bytes the index covers were durable when it was written (after an fdatasync): damage there
        // is corruption, never a torn tail.
        if journal.index.coverage != nil,
            journal.index.segments == Array(journal.segments.prefix(journal.index.segments.count))
        {
            journal.syncedThrough = journal.index.coverage.map { ($0.segment, $0.endOffset) }
        }
        if first != 1 {
            report.problems.append(
                "the journal does not start at position 1: the segments before \(first) are missing")
        }
        var state = ScanState(nextPosition: 1, lastHash: .zero)
        var locations: [RecordLocation] = []
        var keys: [KeyEntry] = []
        for (position, segment) in journal.segments.enumerated() where report.problems.isEmpty {
            do throws(JournalError) {
                let damage = try journal.scanSegment(
                    segment, from: 0, state: &state, isLast: position == journal.segments.count - 1
                ) { header, offset, payload throws(JournalError) in
                    try checkLines(
                        payload, from: header.firstPosition, segment: segment, offset: offset)
                    locations.append(
                        RecordLocation(
                            firstPosition: header.firstPosition, segment: segment, offset: offset,
                            length: UInt32(header.recordLength), count: header.eventCount))
                    for (eventIndex, key) in header.keys {
                        keys.append(
                            KeyEntry(
                                hash: JournalIndex.hash(key),
                                position: header.firstPosition + UInt64(eventIndex)))
                    }
                    report.records += 1
                    report.decodedBytes += UInt64(header.payloadLength)
                }
                report.segments += 1
                report.storedBytes += try fileSystem.openFile(
                    journal.path(ofSegment: segment), writable: false
                ).size()
                if let damage {
                    report.tornTail =
                        "\(damage.length) bytes at the end of \(RecordFormat.segmentName(firstPosition: segment)) "
                        + "from byte offset \(damage.offset): \(damage.reason) (cut on the next open for writing)"
                }
            } catch {
                report.segments += 1
                report.problems.append(error.description)
            }
        }
        report.events = state.nextPosition - 1
        report.indexFresh = (try? journal.index.matches(locations: locations, keys: keys)) ?? false
        return report
    }
}

extension Journal {
    /// Checks the records from the one holding `position` to the journal's end as `verify` checks every
    /// record: the chain link from the record before (or the segment's metadata), header checks,
    /// contiguous positions, LZ4 frames and content checksums, and each line's position; and that the
    /// chain ends with the record this instance holds as the last (`lastHash`: for the instance that
    /// appended them, the hash of the bytes it wrote, so the records read back are exactly those).
    /// Costs what those records cost to read (the end of a run: the run's own records), not the
    /// journal's length.
    ///
    /// - Returns: the problems found, empty when the records are sound; a range past the end is sound.
    public func verifyRecords(from position: UInt64) -> [String] {
        (try? verifyRecords(from: position, visit: { _ in })) ?? []
    }

    /// `verifyRecords(from:)`, also calling `visit` with each event from `position` on as its record
    /// is checked (in order; a damaged record's events are not visited, and the events visited before
    /// a problem was found may be followed by none), so that a caller that needs both the check and
    /// the events reads the records once.
    ///
    /// - Throws: only what `visit` throws.
    public func verifyRecords(from position: UInt64, visit: (JournalEntry) throws -> Void) throws -> [String]
    {
        var visitError: (any Error)?
        let problems = checkRecords(from: position) { header, payload in
            guard visitError == nil else { return }
            var eventPosition = header.firstPosition
            for line in lineRanges(payload) {
                defer { eventPosition += 1 }
                guard eventPosition >= position else { continue }
                do {
                    try visit(JournalEntry(position: eventPosition, line: Array(payload[line])))
                } catch {
                    visitError = error
                    return
                }
            }
        }
        if let visitError { throw visitError }
        return problems
    }

    private func checkRecords(
        from position: UInt64, onRecord: (RecordFormat.RecordHeader, [UInt8]) -> Void
    ) -> [String] {
        do {
            guard position >= 1, position < nextPosition else { return [] }
            guard let first = try index.locate(position: position) else {
                return ["the index has no record for position \(position)"]
            }
            guard var segmentIndex = segments.firstIndex(of: first.segment) else {
                return ["segment \(RecordFormat.segmentName(firstPosition: first.segment)) is missing"]
            }
            // The hash the first record (or its segment's metadata) must link to.
            var state: ScanState
            var offset = first.offset
            if first.offset <= UInt64(RecordFormat.segmentMetadataLength) {
                offset = 0
                state = ScanState(nextPosition: first.segment, lastHash: .zero)
                if first.segment > 1 {
                    guard let previous = try index.locate(position: first.segment - 1) else {
                        return ["the index has no record for position \(first.segment - 1)"]
                    }
                    state.lastHash = try recordHash(previous)
                }
            } else {
                guard let previous = try index.locate(position: first.firstPosition - 1) else {
                    return ["the index has no record for position \(first.firstPosition - 1)"]
                }
                state = ScanState(nextPosition: first.firstPosition, lastHash: try recordHash(previous))
            }
            while segmentIndex < segments.count {
                let segment = segments[segmentIndex]
                _ = try scanSegment(segment, from: offset, state: &state, isLast: false) {
                    header, offset, payload throws(JournalError) in
                    try checkLines(payload, from: header.firstPosition, segment: segment, offset: offset)
                    onRecord(header, payload)
                }
                segmentIndex += 1
                offset = 0
            }
            if state.nextPosition != nextPosition {
                return [
                    "the records end at position \(state.nextPosition - 1), the journal at \(nextPosition - 1)"
                ]
            }
            if state.lastHash != lastHash {
                return [
                    "the last record on disk is not the one the journal wrote last (its hash is \(state.lastHash), "
                        + "the journal's \(lastHash))"
                ]
            }
            return []
        } catch {
            return [String(describing: error)]
        }
    }

    /// The SHA-256 of the record at `location` (the link the next record names).
    private func recordHash(_ location: RecordLocation) throws(JournalError) -> SHA256Digest {
        let file = try configuration.fileSystem.openFile(path(ofSegment: location.segment), writable: false)
        defer { try? file.close() }
        let bytes = try file.read(at: location.offset, count: Int(location.length))
        guard bytes.count == Int(location.length) else {
            throw JournalError(
                .corrupt, "the record is incomplete",
                segment: RecordFormat.segmentName(firstPosition: location.segment), offset: location.offset)
        }
        return SHA256Digest.of(bytes)
    }
}

/// Checks that each line of a decoded record starts with its own position.
private func checkLines(_ payload: [UInt8], from first: UInt64, segment: UInt64, offset: UInt64)
    throws(JournalError)
{
    var position = first
    for line in lineRanges(payload) {
        let expected = Array("{\"position\":\(position),".utf8)
        guard line.count > expected.count, payload[line].starts(with: expected) else {
            throw JournalError(
                .corrupt, "event line does not start with its position \(position)",
                segment: RecordFormat.segmentName(firstPosition: segment), offset: offset)
        }
        position += 1
    }
}
