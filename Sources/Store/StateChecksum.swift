import GRDB
import GRDBSQLite
import Journal

/// The logical state checksum: XOR over every managed row of a 64-bit row hash.
///
/// Row hash = the first 8 bytes, read as a little-endian integer, of SHA-256 over the row's canonical
/// encoding (docs/architecture.md specifies it byte by byte):
///
///     table name, then the primary-key columns, then every column sorted by name (bytewise), each as
///     name and value; a string is a u32 LE byte length and its UTF-8 bytes; a value is a type tag byte
///     (0 NULL, 1 integer, 2 real, 3 text, 4 blob) and then: integer 8 bytes LE two's complement, real
///     8 bytes LE IEEE-754 bits, text and blob a u32 LE length and the bytes.
///
/// XOR makes it order-independent and incremental: a mutation XORs out the before-image's hash and XORs
/// in the after-image's. Equal states give equal checksums on every machine.
public struct StateChecksum: Hashable, Sendable, CustomStringConvertible {
    /// The 64-bit value.
    public var value: UInt64

    /// A checksum with this value; `0` is the empty database.
    public init(_ value: UInt64 = 0) { self.value = value }

    /// Sixteen lower-case hex digits.
    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Parses sixteen hex digits.
    public init?(hex: String) {
        guard hex.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
        self.value = value
    }

    /// The checksum after `mutations`.
    public func applying(_ mutations: [Mutation]) -> StateChecksum {
        var result = value
        for mutation in mutations {
            guard let table = Schema.table(named: mutation.table) else { continue }
            if let before = mutation.before { result ^= Self.rowHash(table: table, row: before) }
            if let after = mutation.after { result ^= Self.rowHash(table: table, row: after) }
        }
        return StateChecksum(result)
    }

    /// The checksum of every managed row in the database, computed from scratch.
    public static func compute(_ db: Database) throws -> StateChecksum {
        var result: UInt64 = 0
        for table in Schema.managedTables {
            for row in try Store.allRows(in: table, db) { result ^= rowHash(table: table, row: row) }
        }
        return StateChecksum(result)
    }

    /// The 64-bit hashes of a mutation's images (0 for an image it lacks), as `applying(_:)` XORs
    /// them; nil for a table the checksum does not cover.
    public static func imageHashes(of mutation: Mutation) -> (before: UInt64, after: UInt64)? {
        guard let table = Schema.table(named: mutation.table) else { return nil }
        return (
            mutation.before.map { rowHash(table: table, row: $0) } ?? 0,
            mutation.after.map { rowHash(table: table, row: $0) } ?? 0
        )
    }

    /// Calls `body` with the key and the row hash of every row of `table` whose primary key lies from
    /// `low` through `high` (row-value order: the first key column, then the second), in key order.
    ///
    /// The rows are read with one cached statement, in the checksum's column order, and each value is
    /// encoded from SQLite's C API straight into the hashed bytes: no row dictionary, no `String` per
    /// text (the run verify hashes every row a run changed). The hash is `rowHash(table:row:)`'s: same
    /// encoding, text and blobs as the bytes SQLite holds. Every key column must hold integers (the
    /// managed tables' do); a key value of another class is passed as nil.
    public static func forEachRowHash(
        in table: TableSchema, from low: [Int64], through high: [Int64], _ db: Database,
        _ body: (_ key: [Int64?], _ hash: UInt64) throws -> Void
    ) throws {
        precondition(
            low.count == table.primaryKey.count && high.count == low.count, "one bound per key column")
        let key = "(" + table.primaryKey.joined(separator: ", ") + ")"
        let bounds = "(" + Array(repeating: "?", count: low.count).joined(separator: ", ") + ")"
        let sql =
            "SELECT \(table.columnsInChecksumOrder.joined(separator: ", ")) FROM \(table.name) "
            + "WHERE \(key) >= \(bounds) AND \(key) <= \(bounds) "
            + "ORDER BY \(table.primaryKey.joined(separator: ", "))"
        // The constant parts of the encoding: the table's name, and each column's name.
        let tableName = table.checksumNames.table
        let names = table.checksumNames.columns
        let keyIndexes = table.checksumNames.keyIndexes.map { Int32($0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        var keyValues: [Int64?] = []
        try RowStatement.query(
            sql, db,
            bind: { binder in
                for value in low + high { binder.bind(.integer(value)) }
            },
            row: { handle in
                bytes.removeAll(keepingCapacity: true)
                bytes += tableName
                for index in keyIndexes {
                    bytes += names[Int(index)]
                    appendColumn(handle, index, to: &bytes)
                }
                for (index, name) in names.enumerated() {
                    bytes += name
                    appendColumn(handle, Int32(index), to: &bytes)
                }
                keyValues.removeAll(keepingCapacity: true)
                for index in keyIndexes {
                    keyValues.append(
                        sqlite3_column_type(handle, index) == SQLITE_INTEGER
                            ? sqlite3_column_int64(handle, index) : nil)
                }
                try body(keyValues, hash(of: bytes))
            })
    }

    /// Appends the canonical encoding of column `index` of the current row of `handle` (see
    /// `appendValue`), read with SQLite's C API.
    private static func appendColumn(_ handle: OpaquePointer, _ index: Int32, to bytes: inout [UInt8]) {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER:
            bytes.append(1)
            withUnsafeBytes(of: sqlite3_column_int64(handle, index).littleEndian) { bytes += $0 }
        case SQLITE_FLOAT:
            bytes.append(2)
            withUnsafeBytes(of: sqlite3_column_double(handle, index).bitPattern.littleEndian) { bytes += $0 }
        case SQLITE_TEXT:
            bytes.append(3)
            // The pointer first, then its length (SQLite's order: the length is of that form).
            let text = sqlite3_column_text(handle, index)
            let count = Int(sqlite3_column_bytes(handle, index))
            appendLength(count, to: &bytes)
            if let text, count > 0 { bytes += UnsafeBufferPointer(start: text, count: count) }
        case SQLITE_BLOB:
            bytes.append(4)
            let blob = sqlite3_column_blob(handle, index)
            let count = Int(sqlite3_column_bytes(handle, index))
            appendLength(count, to: &bytes)
            if let blob, count > 0 { bytes += UnsafeRawBufferPointer(start: blob, count: count) }
        default:
            bytes.append(0)
        }
    }

    /// The first 8 bytes of the SHA-256 of `bytes`, little-endian.
    private static func hash(of bytes: [UInt8]) -> UInt64 {
        let digest = SHA256Digest.of(bytes).bytes
        var hash: UInt64 = 0
        for index in 0..<8 { hash |= UInt64(digest[index]) << (8 * UInt64(index)) }
        return hash
    }

    /// The 64-bit hash of one row.
    public static func rowHash(table: TableSchema, row: RowImage) -> UInt64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        let names = table.checksumNames
        // The usual image, exactly the table's columns: each value looked up once, the names' bytes
        // built once per table (every image of an ingest is hashed, before and after).
        if row.columns.count == table.columns.count {
            var values: [Value] = []
            values.reserveCapacity(table.columns.count)
            for column in table.columnsInChecksumOrder {
                guard let value = row.columns[column] else { break }
                values.append(value)
            }
            if values.count == table.columns.count {
                bytes += names.table
                for index in names.keyIndexes {
                    bytes += names.columns[index]
                    appendValue(values[index], to: &bytes)
                }
                for (index, value) in values.enumerated() {
                    bytes += names.columns[index]
                    appendValue(value, to: &bytes)
                }
                return hash(of: bytes)
            }
        }
        appendString(table.name, to: &bytes)
        for column in table.primaryKey {
            appendString(column, to: &bytes)
            appendValue(row[column], to: &bytes)
        }
        for column in sortedByUTF8(Array(row.columns.keys)) {
            appendString(column, to: &bytes)
            appendValue(row[column], to: &bytes)
        }
        return hash(of: bytes)
    }

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        appendLength(text.utf8.count, to: &bytes)
        var text = text
        text.withUTF8 { bytes += $0 }
    }

    private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { bytes += $0 }
    }

    private static func appendValue(_ value: Value, to bytes: inout [UInt8]) {
        switch value {
        case .null:
            bytes.append(0)
        case .integer(let integer):
            bytes.append(1)
            withUnsafeBytes(of: integer.littleEndian) { bytes += $0 }
        case .real(let real):
            bytes.append(2)
            withUnsafeBytes(of: real.bitPattern.littleEndian) { bytes += $0 }
        case .text(let text):
            bytes.append(3)
            appendString(text, to: &bytes)
        case .blob(let blob):
            bytes.append(4)
            appendLength(blob.count, to: &bytes)
            bytes += blob
        }
    }
}

/// Column names sorted bytewise by their UTF-8, the checksum's column order.
func sortedByUTF8(_ names: [String]) -> [String] {
    names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
}
