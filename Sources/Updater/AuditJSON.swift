import Foundation
import Store

/// A reader of the updater's own event lines, for audit and log.
///
/// `JSONDecoder` spends most of its time on `Value`'s tagged-or-scalar decoding (a thrown type
/// mismatch per scalar): a 400 KB batch intent takes tens of milliseconds. Audit must answer in a few
/// milliseconds whatever the batch, and log reads every event, so these events are read by hand here:
/// an intent decoded in one pass straight into `Mutation`s, and an event's head (envelope, ids, kind,
/// counts) without building anything for the rest. The grammar is JSON's; the shapes are those of
/// `Events.swift` (an unknown member is skipped, so new fields do not break old readers).
struct EventLineReader {
    /// Why a line could not be read.
    struct Failure: Error, CustomStringConvertible {
        var problem: String
        var offset: Int
        var description: String { "malformed event line at byte \(offset): \(problem)" }
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Set when the whole line is known to be valid UTF-8: then so is every string in it (its quotes and
    /// backslashes are ASCII, so they cut the line at character boundaries), and `plainString` and
    /// `appendString` need not validate.
    var lineIsValidUTF8 = false

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Runs `body` with a reader over `line`.
    static func with<T>(_ line: [UInt8], _ body: (inout EventLineReader) throws -> T) throws -> T {
        try line.withUnsafeBufferPointer { buffer in
            var reader = EventLineReader(buffer)
            return try body(&reader)
        }
    }

    // MARK: Events

    /// The fields of an event that log and audit need without its payload: the envelope, the ids and,
    /// for an intent, its kind and how many items and mutations it carries (counted, not decoded).
    struct Head: Sendable, Equatable {
        var position: UInt64 = 0
        var time = ""
        var type = ""
        var batchID: Int64?
        var runID: Int64?
        var kind: String?
        var compensates: Int64?
        var reason: String?
        var itemCount = 0
        var mutationCount = 0
        /// An intent's `checksum_after` and `checksum_before`.
        var checksumAfter: String?
        var checksumBefore: String?
    }

    /// The head of an event line; with `typeOnly`, stops after the envelope's `type` (the journal writes
    /// `position`, `time` and `type` first); with `beforeMutations`, stops at an intent's `mutations`
    /// (names are sorted, so the ids, `kind` and `compensates` come before it; `reason` and `run_id`
    /// after it are then not read, nor is anything counted).
    static func head(_ line: [UInt8], typeOnly: Bool = false, beforeMutations: Bool = false) throws -> Head {
        try with(line) { reader in
            var head = Head()
            try reader.members { name, reader in
                if beforeMutations && name == "mutations" { return false }
                switch name {
                case "position": head.position = UInt64(clamping: try reader.integer())
                case "time": head.time = try reader.string()
                case "type":
                    head.type = try reader.string()
                    if typeOnly { return false }
                case "batch_id": head.batchID = try reader.optionalInteger()
                case "run_id": head.runID = try reader.optionalInteger()
                case "kind": head.kind = try reader.optionalString()
                case "compensates": head.compensates = try reader.optionalInteger()
                case "reason": head.reason = try reader.optionalString()
                case "checksum_after": head.checksumAfter = try reader.optionalString()
                case "checksum_before": head.checksumBefore = try reader.optionalString()
                case "items": head.itemCount = try reader.countElements()
                case "mutations": head.mutationCount = try reader.countElements()
                default: try reader.skipValue()
                }
                return true
            }
            return head
        }
    }

    /// A `run_started` line (the same result as `JSONDecoder` gives).
    static func runStarted(_ line: [UInt8]) throws -> RunStarted {
        try with(line) { reader in
            var run = RunStarted(
                runID: 0, command: "", source: nil, congress: nil, lookbackDays: nil, batchSize: nil,
                atomic: false)
            var seen = (run: false, command: false)
            try reader.members { name, reader in
                switch name {
                case "run_id":
                    run.runID = try reader.integer()
                    seen.run = true
                case "command":
                    run.command = try reader.string()
                    seen.command = true
                case "source": run.source = try reader.optionalString()
                case "congress": run.congress = try reader.optionalInteger().map { Int(clamping: $0) }
                case "lookback_days":
                    run.lookbackDays = try reader.optionalInteger().map { Int(clamping: $0) }
                case "batch_size": run.batchSize = try reader.optionalInteger().map { Int(clamping: $0) }
                case "atomic": run.atomic = try reader.boolean()
                default: try reader.skipValue()
                }
                return true
            }
            guard seen.run, seen.command else {
                throw reader.failure("a run_started event misses run_id or command")
            }
            return run
        }
    }

    /// A `run_finished` line: the run, its status and the counts `log` shows from its metrics.
    static func runFinished(_ line: [UInt8]) throws -> (
        runID: Int64, status: String, counts: JournalLog.Counts?, alerts: [RunAlert]
    ) {
        try with(line) { reader in
            var runID: Int64?
            var status = ""
            var counts: JournalLog.Counts?
            var alerts: [RunAlert] = []
            try reader.members { name, reader in
                switch name {
                case "run_id": runID = try reader.integer()
                case "status": status = try reader.string()
                case "metrics":
                    if try reader.skipNull() { break }
                    var found = JournalLog.Counts()
                    try reader.members { name, reader in
                        switch name {
                        case "hearings_checked": found.hearingsChecked = try reader.count()
                        case "hearings_added": found.hearingsAdded = try reader.count()
                        case "hearings_updated": found.hearingsUpdated = try reader.count()
                        case "hearings_unchanged": found.hearingsUnchanged = try reader.count()
                        case "mutations": found.mutations = try reader.count()
                        case "error_count": found.errorCount = try reader.count()
                        case "alerts": alerts = try reader.alerts()
                        default: try reader.skipValue()
                        }
                        return true
                    }
                    counts = found
                default: try reader.skipValue()
                }
                return true
            }
            guard let runID else { throw reader.failure("a run_finished event misses run_id") }
            return (runID, status, counts, alerts)
        }
    }

    /// A metrics document's `alerts`: `[{name, value, threshold, message, critical}]` (null: none).
    private mutating func alerts() throws -> [RunAlert] {
        if try skipNull() { return [] }
        var alerts: [RunAlert] = []
        try elements { reader in
            var alert = RunAlert(name: "", value: 0, threshold: 0, message: "")
            try reader.members { name, reader in
                switch name {
                case "name": alert.name = try reader.string()
                case "value": alert.value = try reader.double()
                case "threshold": alert.threshold = try reader.double()
                case "message": alert.message = try reader.string()
                case "critical": alert.critical = try reader.boolean()
                default: try reader.skipValue()
                }
                return true
            }
            alerts.append(alert)
        }
        return alerts
    }

    /// A `batch_outcome` line (the same result as `JSONDecoder` gives, without its cost per call).
    static func outcome(_ line: [UInt8]) throws -> BatchOutcome {
        try with(line) { reader in
            var outcome = BatchOutcome(
                batchID: 0, runID: 0, result: .failed, reason: nil, recovered: false, stateChecksum: nil,
                durationMilliseconds: nil)
            var seen = (batch: false, run: false, result: false)
            try reader.members { name, reader in
                switch name {
                case "batch_id":
                    outcome.batchID = try reader.integer()
                    seen.batch = true
                case "run_id":
                    outcome.runID = try reader.integer()
                    seen.run = true
                case "result":
                    let text = try reader.string()
                    guard let result = BatchResult(rawValue: text) else {
                        throw reader.failure("unknown result \(text)")
                    }
                    outcome.result = result
                    seen.result = true
                case "reason": outcome.reason = try reader.optionalString()
                case "recovered": outcome.recovered = try reader.boolean()
                case "state_checksum": outcome.stateChecksum = try reader.optionalString()
                case "duration_ms":
                    outcome.durationMilliseconds = try reader.skipNull() ? nil : try reader.double()
                default: try reader.skipValue()
                }
                return true
            }
            guard seen.batch, seen.run, seen.result else {
                throw reader.failure("a batch outcome misses batch_id, run_id or result")
            }
            return outcome
        }
    }

    /// A `batch_intent` line decoded in one pass (the same result as `JSONDecoder` gives).
    ///
    /// - Parameter wanted: when given, only the mutations of these rows are kept; the others are
    ///   skipped, not decoded. Audit reads other batches' intents this way: for a few rows of many.
    static func intent(_ line: [UInt8], keeping wanted: RowSet? = nil) throws -> BatchIntent {
        try with(line) { reader in
            var mutations: [Mutation] = []
            let fields = try reader.intentFields { reader in
                if let mutation = try reader.mutation(keeping: wanted) { mutations.append(mutation) }
            }
            return BatchIntent(
                batchID: fields.batchID, runID: fields.runID, kind: fields.kind,
                compensates: fields.compensates,
                reason: fields.reason, items: fields.items, mutations: mutations,
                checksumBefore: fields.checksumBefore, checksumAfter: fields.checksumAfter)
        }
    }

    /// The members of a `batch_intent` line other than its mutations.
    struct IntentFields {
        var batchID: Int64
        var runID: Int64
        var kind: BatchKind
        var compensates: Int64?
        var reason: String?
        var items: [String]
        var checksumBefore: String
        var checksumAfter: String
    }

    /// Reads the `batch_intent` object the reader is at, checking its type and required members; each
    /// mutation is handed to `mutation`, which must consume it (decode it, skip it, or apply it), and
    /// `batchID` sees the batch id as soon as it is read (replay stops there at another batch's line).
    /// The one reading of an intent's members, for audit's decoder and for replay.
    mutating func intentFields(
        batchID check: (Int64) throws -> Void = { _ in }, mutation: (inout EventLineReader) throws -> Void
    ) throws -> IntentFields {
        var batchID: Int64?
        var runID: Int64?
        var kind: BatchKind?
        var compensates: Int64?
        var reason: String?
        var items: [String] = []
        var checksumBefore: String?
        var checksumAfter: String?
        var type: String?
        try members { name, reader in
            switch name {
            case "type": type = try reader.string()
            case "batch_id":
                let found = try reader.integer()
                try check(found)
                batchID = found
            case "run_id": runID = try reader.integer()
            case "kind":
                let text = try reader.string()
                guard let known = BatchKind(rawValue: text) else {
                    throw reader.failure("unknown kind \(text)")
                }
                kind = known
            case "compensates": compensates = try reader.optionalInteger()
            case "reason": reason = try reader.optionalString()
            case "items": try reader.elements { reader in items.append(try reader.string()) }
            case "mutations": try reader.elements { reader in try mutation(&reader) }
            case "checksum_before": checksumBefore = try reader.string()
            case "checksum_after": checksumAfter = try reader.string()
            default: try reader.skipValue()
            }
            return true
        }
        guard type == nil || type == EventType.batchIntent else {
            throw failure("a \(type ?? "") event is not a batch intent")
        }
        guard let batchID, let runID, let kind, let checksumBefore, let checksumAfter else {
            throw failure("a batch intent misses batch_id, run_id, kind or a checksum")
        }
        return IntentFields(
            batchID: batchID, runID: runID, kind: kind, compensates: compensates, reason: reason,
            items: items,
            checksumBefore: checksumBefore, checksumAfter: checksumAfter)
    }

    mutating func mutation(keeping wanted: RowSet?) throws -> Mutation? {
        var kind: Mutation.Kind?
        var table: String?
        var key: RowImage?
        var before: RowImage?
        var after: RowImage?
        guard let wanted else {
            try members { name, reader in
                switch name {
                case "kind": kind = try reader.mutationKind()
                case "table": table = try reader.string()
                case "key": key = try reader.image()
                case "before": before = try reader.skipNull() ? nil : try reader.image()
                case "after": after = try reader.skipNull() ? nil : try reader.image()
                default: try reader.skipValue()
                }
                return true
            }
            guard let kind, let table, let key else { throw failure("a mutation misses kind, table or key") }
            return Self.mutation(kind, table, key, before, after)
        }
        // The encoder sorts names, so the images and the key come before the table: their offsets are
        // noted and they are decoded only once the table, then the key, are known to be wanted. Most
        // mutations of another batch are not, and cost a scan of their bytes only.
        var offsets: (before: Int?, after: Int?, key: Int?) = (nil, nil, nil)
        var tableWanted = false
        try members { name, reader in
            switch name {
            case "kind": kind = try reader.mutationKind()
            case "table":
                table = try reader.table(in: wanted)
                tableWanted = table != nil
            case "key", "before", "after":
                reader.skipSpace()
                let offset = reader.index
                if try reader.skipNull() { break }
                switch name {
                case "key": offsets.key = offset
                case "before": offsets.before = offset
                default: offsets.after = offset
                }
                try reader.skipValue()
            default: try reader.skipValue()
            }
            return true
        }
        guard tableWanted, let table, let kind, let keyOffset = offsets.key else { return nil }
        let resume = index
        defer { index = resume }
        index = keyOffset
        key = try image()
        guard let key, wanted.contains(table: table, key: key) else { return nil }
        if let offset = offsets.before {
            index = offset
            before = try image()
        }
        if let offset = offsets.after {
            index = offset
            after = try image()
        }
        return Self.mutation(kind, table, key, before, after)
    }

    private static func mutation(
        _ kind: Mutation.Kind, _ table: String, _ key: RowImage, _ before: RowImage?, _ after: RowImage?
    ) -> Mutation {
        // `Mutation`'s initializer derives the key from a schema; here the journaled table and key are
        // the truth, so they are set afterwards.
        var result = Mutation(kind: kind, table: Self.anyTable, before: before, after: after)
        result.table = table
        result.key = key
        return result
    }

    private static let anyTable = TableSchema(name: "", columns: [], primaryKey: [], naturalKey: [])

    private mutating func mutationKind() throws -> Mutation.Kind {
        let text = try string()
        guard let known = Mutation.Kind(rawValue: text) else {
            throw failure("unknown mutation kind \(text)")
        }
        return known
    }

    /// The table name that comes next if `wanted` holds rows of it (compared as bytes, so the names of
    /// other tables are not even made into strings), else nil; the value is consumed either way.
    private mutating func table(in wanted: RowSet) throws -> String? {
        skipSpace()
        let start = index + 1
        try skipString()
        let end = index - 1
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if !raw.contains(UInt8(ascii: "\\")) {
            return wanted.tables.first { $0.utf8.elementsEqual(raw) }
        }
        index = start - 1
        let name = try string()
        return wanted.tables.contains(name) ? name : nil
    }

    private mutating func image() throws -> RowImage {
        var columns: [String: Value] = [:]
        try members { name, reader in
            columns[name] = try reader.value()
            return true
        }
        return RowImage(columns)
    }

    /// A row value in the journal's form: `null`, an integer, a string, `{"real": x}` or `{"blob": hex}`.
    private mutating func value() throws -> Value {
        skipSpace()
        guard index < bytes.count else { throw failure("a value is missing") }
        switch bytes[index] {
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "\""): return .text(try string())
        case UInt8(ascii: "{"):
            var result: Value?
            try members { name, reader in
                switch name {
                case "real": result = .real(try reader.double())
                case "blob":
                    let hex = try reader.string()
                    guard let bytes = Self.bytes(fromHex: hex) else { throw reader.failure("bad blob hex") }
                    result = .blob(bytes)
                default: throw reader.failure("unknown tagged value \(name)")
                }
                return true
            }
            guard let result else { throw failure("an empty tagged value") }
            return result
        default:
            let start = index
            if let integer = try? integer() { return .integer(integer) }
            index = start
            return .real(try double())
        }
    }

    // MARK: JSON grammar

    func failure(_ problem: String) -> Failure { Failure(problem: problem, offset: index) }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0a, 0x0d: index += 1
            default: return
            }
        }
    }

    // The journal's JSON is compact: the expected byte is nearly always the next one, checked inline;
    // space and the error message are left to a call (this runs several times per row value).
    @inline(__always)
    mutating func expect(_ byte: UInt8) throws {
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return
        }
        try expectAfterSpace(byte)
    }

    @inline(never)
    private mutating func expectAfterSpace(_ byte: UInt8) throws {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else {
            throw failure("expected \"\(Character(Unicode.Scalar(byte)))\"")
        }
        index += 1
    }

    /// Whether the next byte (after space) is `byte`; consumes it if so.
    @inline(__always)
    mutating func take(_ byte: UInt8) -> Bool {
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func literal(_ word: String) throws {
        let expected = word.utf8
        guard index + expected.count <= bytes.count,
            zip(bytes[index..<(index + expected.count)], expected).allSatisfy({ $0 == $1 })
        else { throw failure("expected \(word)") }
        index += expected.count
    }

    /// Consumes `null` if it comes next.
    mutating func skipNull() throws -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Calls `body` with each member's name, the reader positioned at its value; `body` must consume
    /// the value, and returns false to stop reading (the rest of the object is then left unread).
    mutating func members(_ body: (String, inout EventLineReader) throws -> Bool) throws {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            skipSpace()
            let name = try string()
            try expect(UInt8(ascii: ":"))
            if try !body(name, &self) { return }
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Calls `body` with the reader positioned at each element of an array; `body` consumes it.
    mutating func elements(_ body: (inout EventLineReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if take(UInt8(ascii: "]")) { return }
        repeat { try body(&self) } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    private mutating func countElements() throws -> Int {
        if try skipNull() { return 0 }
        var count = 0
        try elements { reader in
            try reader.skipValue()
            count += 1
        }
        return count
    }

    mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(
                    decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        // Escapes: rare (quotes and control characters in titles); decoded byte by byte.
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[index]
                index += 1
                if let byte = jsonEscapedByte(escape) {
                    decoded.append(byte)
                    continue
                }
                guard escape == UInt8(ascii: "u") else { throw failure("unknown escape") }
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try hex4()
                    scalar =
                        (0xDC00..<0xE000).contains(low)
                        ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                }
                decoded += Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: decoded.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("short \\u escape") }
        var result: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexDigit(bytes[index]) else { throw failure("bad \\u escape") }
            result = result << 4 | UInt32(digit)
            index += 1
        }
        return result
    }

    private mutating func boolean() throws -> Bool {
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    mutating func optionalString() throws -> String? {
        try skipNull() ? nil : try string()
    }

    /// An integer literal (no fraction or exponent) that fits 64 bits.
    mutating func integer() throws -> Int64 {
        skipSpace()
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude: UInt64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
            guard !overflowTimes, !overflowSum else { throw failure("integer out of range") }
            magnitude = sum
            index += 1
        }
        guard index > start else { throw failure("expected a number") }
        if index < bytes.count,
            [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index])
        {
            throw failure("expected an integer")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw failure("integer out of range") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw failure("integer out of range") }
        return Int64(magnitude)
    }

    /// A count: an integer that fits `Int`, or nil for `null`.
    private mutating func count() throws -> Int? {
        try optionalInteger().map { Int(clamping: $0) }
    }

    mutating func optionalInteger() throws -> Int64? {
        try skipNull() ? nil : try integer()
    }

    private mutating func double() throws -> Double {
        skipSpace()
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"),
                UInt8(ascii: "E"):
                index += 1
            default:
                guard
                    let value = Double(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                else { throw failure("expected a number") }
                return value
            }
        }
        guard
            let value = Double(
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
        else { throw failure("expected a number") }
        return value
    }

    /// Skips one value of any kind without building it (strings scanned for their closing quote,
    /// containers by bracket depth).
    mutating func skipValue() throws {
        skipSpace()
        guard index < bytes.count else { throw failure("a value is missing") }
        switch bytes[index] {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    try skipString()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                default: break
                }
                index += 1
            }
            throw failure("unterminated container")
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try double()
        }
    }

    mutating func skipString() throws {
        // memchr finds the next quote; a quote preceded by an odd run of backslashes is escaped.
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        var from = index + 1
        while from < bytes.count {
            guard let found = memchr(base + from, Int32(UInt8(ascii: "\"")), bytes.count - from) else {
                break
            }
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while quote - backslashes - 1 > index, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes % 2 == 0 {
                index = quote + 1
                return
            }
            from = quote + 1
        }
        throw failure("unterminated string")
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }

    private static func bytes(fromHex hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(digits.count / 2)
        var cursor = 0
        while cursor < digits.count {
            guard let high = hexDigit(digits[cursor]), let low = hexDigit(digits[cursor + 1]) else {
                return nil
            }
            result.append(high << 4 | low)
            cursor += 2
        }
        return result
    }
}

/// The byte a one-character JSON escape stands for (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, given the character after the backslash); nil for `\u` and anything else.
func jsonEscapedByte(_ escape: UInt8) -> UInt8? {
    switch escape {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return escape
    case UInt8(ascii: "b"): return 0x08
    case UInt8(ascii: "f"): return 0x0c
    case UInt8(ascii: "n"): return 0x0a
    case UInt8(ascii: "r"): return 0x0d
    case UInt8(ascii: "t"): return 0x09
    default: return nil
    }
}
