import Foundation
import GRDB
import GRDBSQLite
import Store

/// Applies batch intents straight from their journal lines: the replay path of rebuild.
///
/// Why not `EventLineReader.intent` and `Store.apply`: they build a `Mutation` per journaled change,
/// each image a dictionary of `String` names to `Value`s, only for `Store.apply` to look every column
/// up again and bind it. Measured on a journal of real hearing updates, allocating, hashing and freeing
/// those strings and dictionaries cost more than SQLite's own work. Here each image is read
/// positionally: the journal writes an image's members sorted by name (UTF-8 byte order), which for a
/// complete image is the table's `columnsInChecksumOrder`, so each name is compared with the expected
/// one as bytes, and values are bound from the line's bytes through SQLite's C API: integers parsed in
/// place, text bound from a pointer into the line when it has no escape, else decoded into a reused
/// buffer. An update sets only the columns it changes (see `RowStatements.guardedUpdate(setting:)`).
///
/// Anything else goes through the general path, so the result is the same by construction: a mutation
/// whose images are not exactly the table's columns, or hold a tagged real or blob, or whose member
/// names are escaped or repeated, or an update that changes its key, is decoded by `EventLineReader`
/// and applied by `Store.apply`. So is a mutation whose statement fails or changes no row: it changed
/// nothing, and `Store.apply` runs it again and throws the detailed `ConflictError` (or SQLite's
/// refusal).
///
/// The one difference with decoding the whole intent first: a malformed line is found where it is
/// malformed, after the mutations before that point are applied. Rebuild replays in one transaction
/// into a file it discards on any error, so the outcome is the same.
final class IntentReplayer {
    /// Thrown when a line holds another batch's intent than the one expected.
    struct OtherBatch: Error {
        var found: Int64
    }

    /// What a replayed intent says of itself.
    struct Replayed {
        var batchID: Int64
        var checksumAfter: String
        var mutations: Int
        /// How many of them took the general path (an unusual shape, or a conflict being described).
        var general: Int
    }

    /// A managed table with its statements prepared, and where each bound column lies in an image.
    final class Table {
        let schema: TableSchema
        let name: [UInt8]
        /// The names of a complete image's members, in the order the journal writes them.
        let names: [[UInt8]]
        /// The names of a key image's members, in the order the journal writes them.
        let keyNames: [[UInt8]]
        /// For each column in declaration order, its member's place in a complete image.
        let columnMembers: [Int]
        /// For each primary-key column in order, its member's place in a key image and in a complete one.
        let keyMembers: [(key: Int, image: Int)]
        /// For each column outside the key in declaration order, its member's place in a complete image.
        let nonKeyMembers: [Int]
        let insert: Statement
        let delete: Statement
        /// Updates by the set of non-key columns they set (bit `i`: `nonKeyMembers[i]`).
        private var updates: [UInt64: Statement] = [:]

        init(_ schema: TableSchema, _ db: Database) throws {
            self.schema = schema
            name = Array(schema.name.utf8)
            names = schema.columnsInChecksumOrder.map { Array($0.utf8) }
            let sortedKey = schema.columnsInChecksumOrder.filter { schema.primaryKey.contains($0) }
            keyNames = sortedKey.map { Array($0.utf8) }
            let place = Dictionary(
                uniqueKeysWithValues: schema.columnsInChecksumOrder.enumerated().map { ($1, $0) })
            // Every name comes from the schema itself, so each lookup finds its place.
            columnMembers = schema.columns.compactMap { place[$0] }
            nonKeyMembers = schema.nonKeyColumns.compactMap { place[$0] }
            keyMembers = schema.primaryKey.compactMap { column in
                guard let key = sortedKey.firstIndex(of: column), let image = place[column] else {
                    return nil
                }
                return (key, image)
            }
            insert = try db.makeStatement(sql: schema.sql.insert)
            delete = try db.makeStatement(sql: schema.sql.guardedDelete)
        }

        /// The guarded update setting the non-key columns of `changed`, prepared on first use.
        func update(setting changed: UInt64, _ db: Database) throws -> Statement {
            if let statement = updates[changed] { return statement }
            let columns = schema.nonKeyColumns.indices.filter { changed & (1 << $0) != 0 }.map {
                schema.nonKeyColumns[$0]
            }
            let statement = try db.makeStatement(sql: schema.sql.guardedUpdate(setting: columns))
            updates[changed] = statement
            return statement
        }
    }

    /// One value of an image, as it lies in the line.
    enum Slot {
        case null
        case integer(Int64)
        /// Text bound from the line's bytes at `start` (valid UTF-8 without escapes).
        case text(start: Int, count: Int)
        /// Text decoded by the general reader, kept in `Scratch.decoded` at `start`.
        case decoded(start: Int, count: Int)
    }

    /// The parsed images of one mutation, reused from one mutation to the next.
    struct Scratch {
        var slots: [Slot] = []
        /// Each slot's member name: where it lies in the line.
        var names: [Range<Int>] = []
        var decoded: [UInt8] = []

        mutating func clear() {
            slots.removeAll(keepingCapacity: true)
            names.removeAll(keepingCapacity: true)
            decoded.removeAll(keepingCapacity: true)
        }
    }

    private let tables: [Table]
    // Only this class's own methods touch the scratch, one at a time: the runtime's exclusivity checks
    // on every access cost a few percent of a replay.
    @exclusivity(unchecked) private var scratch = Scratch()

    /// Prepares the statements of every managed table on `db`; the replayer must not outlive it.
    init(_ db: Database) throws {
        tables = try Schema.managedTables.map { try Table($0, db) }
    }

    /// Applies the batch intent `line` holds, which must be batch `batchID`'s.
    ///
    /// - Throws: `EventLineReader.Failure` (the byte offset and the problem) for a malformed line;
    ///   `ConflictError`, `StoreError` or `DatabaseError` as `Store.apply` does.
    ///
    /// - Parameter lineIsValidUTF8: true when `line` is known to be valid UTF-8 (strings are then bound
    ///   without validating each one).
    func replay(_ line: [UInt8], batchID expected: Int64, lineIsValidUTF8: Bool = false, _ db: Database)
        throws
        -> Replayed
    {
        try EventLineReader.with(line) { reader in
            reader.lineIsValidUTF8 = lineIsValidUTF8
            var mutations = 0
            var general = 0
            let fields = try reader.intentFields(
                batchID: { found in
                    guard found == expected else { throw OtherBatch(found: found) }
                },
                mutation: { reader in
                    if try !self.replayMutation(&reader, db) { general += 1 }
                    mutations += 1
                })
            return Replayed(
                batchID: fields.batchID, checksumAfter: fields.checksumAfter, mutations: mutations,
                general: general)
        }
    }

    /// Applies the mutation the reader is at, consuming it; returns false when it took the general path.
    private func replayMutation(_ reader: inout EventLineReader, _ db: Database) throws -> Bool {
        let start = reader.index
        let applied: Bool
        do {
            applied = try applyInPlace(&reader, db)
        } catch {
            // The general reader says what is wrong, in its own words.
            applied = false
        }
        if applied { return true }
        reader.index = start
        if let mutation = try reader.mutation(keeping: nil) { try Store.apply([mutation], db) }
        return false
    }

    /// Reads the mutation the reader is at and applies it when it has the usual shape; false, having
    /// changed nothing, when the general path must handle it.
    private func applyInPlace(_ reader: inout EventLineReader, _ db: Database) throws -> Bool {
        scratch.clear()
        var kind: Mutation.Kind?
        var table: Table?
        var after: Range<Int>?
        var before: Range<Int>?
        var key: Range<Int>?
        var tableSeen = false
        var images = (after: false, before: false, key: false)
        try reader.expect(UInt8(ascii: "{"))
        if !reader.take(UInt8(ascii: "}")) {
            repeat {
                guard let name = try reader.plainString() else { return false }
                try reader.expect(UInt8(ascii: ":"))
                if reader.bytes(name, equal: "after") {
                    guard !images.after else { return false }
                    images.after = true
                    switch try image(&reader) {
                    case .null: break
                    case .slots(let range): after = range
                    case .unusual: return false
                    }
                } else if reader.bytes(name, equal: "before") {
                    guard !images.before else { return false }
                    images.before = true
                    switch try image(&reader) {
                    case .null: break
                    case .slots(let range): before = range
                    case .unusual: return false
                    }
                } else if reader.bytes(name, equal: "key") {
                    guard !images.key, case .slots(let range) = try image(&reader) else { return false }
                    images.key = true
                    key = range
                } else if reader.bytes(name, equal: "kind") {
                    guard kind == nil, let value = try reader.plainString() else { return false }
                    if reader.bytes(value, equal: "update") {
                        kind = .update
                    } else if reader.bytes(value, equal: "insert") {
                        kind = .insert
                    } else if reader.bytes(value, equal: "delete") {
                        kind = .delete
                    } else {
                        return false
                    }
                } else if reader.bytes(name, equal: "table") {
                    guard !tableSeen, let value = try reader.plainString() else { return false }
                    tableSeen = true
                    let bytes = UnsafeBufferPointer(rebasing: reader.bytes[value])
                    guard let found = tables.first(where: { $0.name.elementsEqual(bytes) }) else {
                        return false
                    }
                    table = found
                } else {
                    try reader.skipValue()
                }
            } while reader.take(UInt8(ascii: ","))
            try reader.expect(UInt8(ascii: "}"))
        }
        guard let kind, let table, let key, matches(key, table.keyNames, reader.bytes) else { return false }
        if let after, !matches(after, table.names, reader.bytes) { return false }
        if let before, !matches(before, table.names, reader.bytes) { return false }
        let statement: Statement
        switch kind {
        case .insert:
            guard let after, before == nil else { return false }
            statement = table.insert
            return step(statement, kind, reader.bytes) { bind in
                for member in table.columnMembers { bind(after.lowerBound + member) }
            }
        case .update:
            guard let after, let before, table.nonKeyMembers.count <= 64 else { return false }
            // Only the columns the mutation changes are set (see `RowStatements.guardedUpdate(setting:)`);
            // the guard still checks every column. An unchanged column keeps the value the guard found
            // equal to the before-image, which is the after-image's; a changed key is left to the general
            // path.
            for member in table.keyMembers
            where !sameValue(after.lowerBound + member.image, key.lowerBound + member.key, reader.bytes) {
                return false
            }
            var changed: UInt64 = 0
            for (bit, member) in table.nonKeyMembers.enumerated()
            where !sameValue(after.lowerBound + member, before.lowerBound + member, reader.bytes) {
                changed |= 1 << bit
            }
            // An update that changes nothing still checks its row: it sets the first column to itself.
            if changed == 0 { changed = 1 }
            statement = try table.update(setting: changed, db)
            return step(statement, kind, reader.bytes) { bind in
                for (bit, member) in table.nonKeyMembers.enumerated() where changed & (1 << bit) != 0 {
                    bind(after.lowerBound + member)
                }
                for member in table.keyMembers { bind(key.lowerBound + member.key) }
                for member in table.nonKeyMembers { bind(before.lowerBound + member) }
            }
        case .delete:
            guard let before else { return false }
            statement = table.delete
            return step(statement, kind, reader.bytes) { bind in
                for member in table.keyMembers { bind(key.lowerBound + member.key) }
                for member in table.nonKeyMembers { bind(before.lowerBound + member) }
            }
        }
    }

    /// Whether two slots hold the same value, stored alike: false when unsure (text decoded by the
    /// general reader is compared only with text decoded so).
    private func sameValue(_ first: Int, _ second: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch (scratch.slots[first], scratch.slots[second]) {
        case (.null, .null): return true
        case (.integer(let a), .integer(let b)): return a == b
        case (.text(let a, let aCount), .text(let b, let bCount)):
            guard aCount == bCount, let base = bytes.baseAddress else { return false }
            return memcmp(base + a, base + b, aCount) == 0
        case (.decoded(let a, let aCount), .decoded(let b, let bCount)):
            guard aCount == bCount else { return false }
            return scratch.decoded.withUnsafeBufferPointer { decoded in
                guard let base = decoded.baseAddress else { return true }
                return memcmp(base + a, base + b, aCount) == 0
            }
        default: return false
        }
    }

    /// Whether the slots in `range` are named exactly `names`, in order.
    private func matches(_ range: Range<Int>, _ names: [[UInt8]], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool
    {
        guard range.count == names.count, let base = bytes.baseAddress else { return false }
        for (offset, expected) in names.enumerated() {
            let name = scratch.names[range.lowerBound + offset]
            guard name.count == expected.count,
                expected.withUnsafeBytes({ expected in
                    guard let other = expected.baseAddress else { return name.isEmpty }
                    return memcmp(base + name.lowerBound, other, name.count) == 0
                })
            else { return false }
        }
        return true
    }

    /// What an image read into the scratch slots holds.
    enum ImageRead {
        case null
        /// The range of its slots.
        case slots(Range<Int>)
        /// Something the general path must read: an escaped name, a tagged real or blob.
        case unusual
    }

    /// Reads an image into the scratch slots.
    private func image(_ reader: inout EventLineReader) throws -> ImageRead {
        if try reader.skipNull() { return .null }
        let first = scratch.slots.count
        try reader.expect(UInt8(ascii: "{"))
        if reader.take(UInt8(ascii: "}")) { return .slots(first..<first) }
        repeat {
            guard let name = try reader.plainString() else { return .unusual }
            try reader.expect(UInt8(ascii: ":"))
            guard let slot = try slot(&reader) else { return .unusual }
            scratch.names.append(name)
            scratch.slots.append(slot)
        } while reader.take(UInt8(ascii: ","))
        try reader.expect(UInt8(ascii: "}"))
        return .slots(first..<scratch.slots.count)
    }

    /// Reads a value: nil when it is not a null, an integer or text (a tagged real or blob).
    private func slot(_ reader: inout EventLineReader) throws -> Slot? {
        reader.skipSpace()
        guard reader.index < reader.bytes.count else { throw reader.failure("a value is missing") }
        switch reader.bytes[reader.index] {
        case UInt8(ascii: "n"):
            try reader.literal("null")
            return .null
        case UInt8(ascii: "\""):
            if let text = try reader.plainString() { return .text(start: text.lowerBound, count: text.count) }
            // Escaped or not valid UTF-8: decoded as the general reader decodes it.
            let start = scratch.decoded.count
            if try !reader.appendString(to: &scratch.decoded) {
                scratch.decoded.append(contentsOf: try reader.string().utf8)
            }
            return .decoded(start: start, count: scratch.decoded.count - start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try reader.integer())
        default:
            return nil
        }
    }

    /// Binds the slots `bind` names in order and runs `statement`: true when it applied the mutation
    /// (an update or delete must change exactly one row), false (nothing changed) otherwise.
    private func step(
        _ statement: Statement, _ kind: Mutation.Kind, _ bytes: UnsafeBufferPointer<UInt8>,
        _ binding: ((Int) -> Void) -> Void
    ) -> Bool {
        let handle = statement.sqliteStatement
        var parameter: Int32 = 0
        let code = scratch.decoded.withUnsafeBufferPointer { decoded in
            binding { index in
                parameter += 1
                switch scratch.slots[index] {
                case .null: sqlite3_bind_null(handle, parameter)
                case .integer(let value): sqlite3_bind_int64(handle, parameter, value)
                case .text(let start, let count):
                    bindText(handle, parameter, bytes, start, count)
                case .decoded(let start, let count):
                    bindText(handle, parameter, decoded, start, count)
                }
            }
            // Text is bound in place (SQLITE_STATIC): the bytes must stay put until the step is done and
            // the bindings cleared, so that no statement keeps a pointer into a line once it is gone.
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            return code
        }
        guard code == SQLITE_DONE else { return false }
        return kind == .insert || sqlite3_changes(sqlite3_db_handle(handle)) == 1
    }

    private func bindText(
        _ handle: OpaquePointer, _ parameter: Int32, _ buffer: UnsafeBufferPointer<UInt8>, _ start: Int,
        _ count: Int
    ) {
        // SQLite binds a null pointer as NULL: empty text needs an address, which an empty buffer may lack.
        // The literal's pointer lasts for the call only: SQLite copies it (SQLITE_TRANSIENT).
        guard let base = buffer.baseAddress else {
            _ = sqlite3_bind_text(handle, parameter, "", 0, transient)
            return
        }
        UnsafeRawPointer(base + start).withMemoryRebound(to: CChar.self, capacity: max(count, 1)) { text in
            // SQLITE_STATIC (nil): bound in place, without the copy (a malloc and free) per value.
            _ = sqlite3_bind_text(handle, parameter, text, Int32(count), nil)
        }
    }

    /// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
    private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}

extension EventLineReader {
    /// Whether the bytes at `range` are `literal`'s.
    func bytes(_ range: Range<Int>, equal literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount, let base = bytes.baseAddress else { return false }
        return memcmp(base + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    /// Reads a string that needs no decoding (no escape, valid UTF-8) and returns where its bytes lie
    /// in the line; returns nil with the reader where it was when the string needs decoding.
    mutating func plainString() throws -> Range<Int>? {
        try expect(UInt8(ascii: "\""))
        let start = index
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var cursor = start
        var firstHigh: Int?
        // Once a non-ASCII byte is found, the rest is validated in one go: only quotes and backslashes
        // stop the scan then.
        var flagged = Self.highBits
        // One pass finds the closing quote and any backslash or non-ASCII byte before it, eight bytes at
        // a time: most strings are short names and values, where calls to memchr and a separate
        // validation cost a tenth of a replay.
        while true {
            while cursor <= count - 8 {
                let word = raw.loadUnaligned(fromByteOffset: cursor, as: UInt64.self)
                let special =
                    Self.bytes(of: word, equal: 0x22) | Self.bytes(of: word, equal: 0x5C)
                    | (word & flagged)
                if special != 0 {
                    // The lowest flagged byte is a true match (false ones only follow a true one).
                    cursor += special.trailingZeroBitCount / 8
                    break
                }
                cursor += 8
            }
            guard cursor < count else { throw failure("unterminated string") }
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                index = start - 1
                return nil
            }
            if byte >= 0x80, firstHigh == nil {
                firstHigh = cursor
                flagged = 0
            }
            cursor += 1
        }
        // An ASCII prefix is valid whatever follows: only the rest needs checking.
        if let firstHigh,
            !lineIsValidUTF8,
            !isValidUTF8(UnsafeBufferPointer(start: base + firstHigh, count: cursor - firstHigh))
        {
            index = start - 1
            return nil
        }
        index = cursor + 1
        return start..<cursor
    }

    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` equal to `byte` (and maybe of bytes after the first equal one).
    @inline(__always)
    private static func bytes(of word: UInt64, equal byte: UInt8) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let difference = word ^ (ones &* UInt64(byte))
        return (difference &- ones) & ~difference & highBits
    }

    /// Appends the string that comes next to `output`, decoded, when its escapes are the one-character
    /// ones (`\"`, `\n`, …) and the result is valid UTF-8: then it is what `string()` decodes. Otherwise
    /// (a `\u` escape, bytes `String` would repair) returns false with the reader and `output` as they
    /// were: `string()` decodes those.
    mutating func appendString(to output: inout [UInt8]) throws -> Bool {
        let begin = index
        let first = output.count
        try expect(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        decoding: while true {
            // The run up to the next backslash or the closing quote is copied as it is.
            guard let quote = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else {
                throw failure("unterminated string")
            }
            let end = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
            let stop =
                memchr(base + index, Int32(UInt8(ascii: "\\")), end - index).map {
                    base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
                } ?? end
            output.append(contentsOf: UnsafeBufferPointer(start: base + index, count: stop - index))
            index = stop + 1
            if stop == end {
                if lineIsValidUTF8
                    || output.withUnsafeBufferPointer({ isValidUTF8(.init(rebasing: $0[first...])) })
                {
                    return true
                }
                break decoding
            }
            guard index < bytes.count else { throw failure("unterminated escape") }
            let escape = bytes[index]
            index += 1
            if let byte = jsonEscapedByte(escape) {
                output.append(byte)
            } else if escape == UInt8(ascii: "u") {
                break decoding
            } else {
                throw failure("unknown escape")
            }
        }
        // Left to `string()`.
        index = begin
        output.removeSubrange(first...)
        return false
    }
}

/// Whether `bytes` are well-formed UTF-8 (Unicode's definition: no overlong forms, surrogates or
/// scalars beyond U+10FFFF), so that `String(decoding:as:)` would keep them unchanged.
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            // Most text is ASCII: after an ASCII byte, eight at a time while no high bit is set.
            while index <= count - 8,
                raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                index += 8
            }
            continue
        }
        // Two-byte sequences (Latin letters, punctuation such as "·") are the common case after ASCII.
        if lead & 0xE0 == 0xC0 {
            guard lead >= 0xC2, index + 1 < count, bytes[index + 1] & 0xC0 == 0x80 else { return false }
            index += 2
            continue
        }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return false
        }
        guard index + length <= count else { return false }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return false }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 { return false }
        index += length
    }
    return true
}
