import Foundation
import Store

extension BatchAudit {
    /// The audit as `hearings audit --format json` prints it: exactly the bytes `JSONEncoder` writes
    /// with sorted keys, pretty printing and unescaped slashes, written directly.
    ///
    /// Why by hand: an initial load's audit has about 14,000 field changes, and `JSONEncoder` took
    /// about 70 ms to encode them, twice the audit's own lookup. Reals, rare in rows, still have their
    /// number written by `JSONEncoder`. A test checks both encodings agree on every audit it makes,
    /// golden files included, and on values with every kind of character JSON escapes.
    public var json: String {
        var out = PrettyJSONWriter()
        out.object { out in
            out.member("batch_id") { $0.integer(batchID) }
            out.member("checksum_after") { $0.string(checksumAfter) }
            out.member("checksum_before") { $0.string(checksumBefore) }
            out.member("compensates") { $0.integer(compensates) }
            out.member("compensations") { out in
                out.array(compensations) { out, compensation in
                    out.object { out in
                        out.member("batch_id") { $0.integer(compensation.batchID) }
                        out.member("position") { $0.integer(compensation.position) }
                        out.member("reason") { $0.string(compensation.reason) }
                        out.member("result") { $0.string(compensation.result?.rawValue) }
                        out.member("time") { $0.string(compensation.time) }
                        out.member("undone_by") { $0.integer(compensation.undoneBy) }
                    }
                }
            }
            out.member("intent_position") { $0.integer(intentPosition) }
            out.member("items") { out in out.array(items) { out, item in out.string(item) } }
            out.member("kind") { $0.string(kind?.rawValue) }
            out.member("later_batches") { out in
                out.array(laterBatches) { out, later in
                    out.object { out in
                        out.member("batch_id") { $0.integer(later.batchID) }
                        out.member("compensates") { $0.integer(later.compensates) }
                        out.member("kind") { $0.string(later.kind.rawValue) }
                        out.member("position") { $0.integer(later.position) }
                        out.member("result") { $0.string(later.result?.rawValue) }
                        out.member("rows") { out in
                            out.array(later.rows) { out, row in
                                out.object { out in
                                    out.member("key") { $0.image(row.key) }
                                    out.member("label") { $0.string(row.label) }
                                    out.member("table") { $0.string(row.table) }
                                }
                            }
                        }
                        out.member("time") { $0.string(later.time) }
                    }
                }
            }
            out.member("mutations") { out in
                out.array(mutations) { out, mutation in
                    out.object { out in
                        out.member("changes") { out in
                            out.array(mutation.changes) { out, change in
                                out.object { out in
                                    // Absent, not null, when the change has no such side (`Codable`'s
                                    // synthesized `encodeIfPresent`); a SQL NULL is `null`.
                                    if let after = change.after { out.member("after") { $0.value(after) } }
                                    if let before = change.before {
                                        out.member("before") { $0.value(before) }
                                    }
                                    out.member("field") { $0.string(change.field) }
                                }
                            }
                        }
                        out.member("key") { $0.image(mutation.key) }
                        out.member("label") { $0.string(mutation.label) }
                        out.member("natural_key") { $0.image(mutation.naturalKey) }
                        out.member("number") { $0.integer(mutation.number) }
                        out.member("operation") { $0.string(mutation.operation.rawValue) }
                        out.member("table") { $0.string(mutation.table) }
                    }
                }
            }
            out.member("outcome") { out in
                guard let outcome else { return out.null() }
                out.object { out in
                    out.member("duration_ms") { $0.real(outcome.durationMilliseconds) }
                    out.member("position") { $0.integer(outcome.position) }
                    out.member("reason") { $0.string(outcome.reason) }
                    out.member("recovered") { $0.boolean(outcome.recovered) }
                    out.member("result") { $0.string(outcome.result.rawValue) }
                    out.member("state_checksum") { $0.string(outcome.stateChecksum) }
                    out.member("time") { $0.string(outcome.time) }
                }
            }
            out.member("reason") { $0.string(reason) }
            out.member("rejected") { out in
                out.array(rejected) { out, item in
                    out.object { out in
                        out.member("field") { $0.string(item.field) }
                        out.member("item") { $0.string(item.item) }
                        out.member("problem") { $0.string(item.problem) }
                    }
                }
            }
            out.member("reverted_by") { $0.integer(revertedBy) }
            out.member("run") { out in
                guard let run else { return out.null() }
                out.object { out in
                    out.member("atomic") { $0.boolean(run.atomic) }
                    out.member("batch_size") { $0.integer(run.batchSize) }
                    out.member("command") { $0.string(run.command) }
                    out.member("congress") { $0.integer(run.congress) }
                    out.member("lookback_days") { $0.integer(run.lookbackDays) }
                    out.member("run_id") { $0.integer(run.runID) }
                    out.member("source") { $0.string(run.source) }
                    out.member("time") { $0.string(run.time) }
                }
            }
            out.member("time") { $0.string(time) }
        }
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

/// Writes JSON as `JSONEncoder` does with `.prettyPrinted` (two spaces per level, `"name" : value`,
/// an empty container as its brackets on separate lines with an empty line between). Members must
/// be written in sorted order by the caller: the writer does not buffer to sort them.
struct PrettyJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var level = 0
    /// Per open container: whether nothing was written in it yet.
    private var empty: [Bool] = []

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func object(_ body: (inout PrettyJSONWriter) -> Void) {
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    mutating func array<Element>(_ elements: [Element], _ body: (inout PrettyJSONWriter, Element) -> Void) {
        open(UInt8(ascii: "["))
        for element in elements {
            startItem()
            body(&self, element)
        }
        close(UInt8(ascii: "]"))
    }

    /// A member of the object being written, named `name`; `body` writes its value.
    mutating func member(_ name: String, _ body: (inout PrettyJSONWriter) -> Void) {
        startItem()
        appendString(name)
        bytes += [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")]
        body(&self)
    }

    mutating func null() { bytes += Array("null".utf8) }

    mutating func boolean(_ value: Bool) { bytes += Array((value ? "true" : "false").utf8) }

    mutating func integer<T: BinaryInteger>(_ value: T?) {
        guard let value else { return null() }
        bytes += Array(String(value).utf8)
    }

    mutating func string(_ value: String?) {
        guard let value else { return null() }
        appendString(value)
    }

    /// A real number, as `JSONEncoder` writes it (its own formatting: `12`, `0.1`, `1e+20`).
    mutating func real(_ value: Double?) {
        guard let value else { return null() }
        bytes += (try? Self.numberEncoder.encode(value)).map { Array($0) } ?? Array("null".utf8)
    }

    /// A row value in `Value`'s encoding: `null`, an integer, a string, `{"real": x}`, `{"blob": hex}`.
    mutating func value(_ value: Value) {
        switch value {
        case .null: null()
        case .integer(let number): integer(number)
        case .text(let text): appendString(text)
        case .real(let number): object { $0.member("real") { $0.real(number) } }
        case .blob(let data):
            let hex = Array("0123456789abcdef".utf8)
            object { out in
                out.member("blob") { out in
                    out.bytes.append(UInt8(ascii: "\""))
                    for byte in data { out.bytes += [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]] }
                    out.bytes.append(UInt8(ascii: "\""))
                }
            }
        }
    }

    /// A row image: its columns in sorted order (by their UTF-8 bytes, as `JSONEncoder` sorts keys).
    mutating func image(_ image: RowImage) {
        let names = image.columns.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        object { out in
            for name in names { out.member(name) { $0.value(image[name]) } }
        }
    }

    private static let numberEncoder = JSONEncoder()

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        empty.append(true)
        level += 1
    }

    private mutating func close(_ bracket: UInt8) {
        level -= 1
        let wasEmpty = empty.removeLast()
        bytes.append(UInt8(ascii: "\n"))
        if wasEmpty { bytes.append(UInt8(ascii: "\n")) }
        indent()
        bytes.append(bracket)
    }

    /// The separator before an item of the open container (none before the first), a line break and
    /// the indentation.
    private mutating func startItem() {
        if empty.last == false { bytes.append(UInt8(ascii: ",")) }
        if !empty.isEmpty { empty[empty.count - 1] = false }
        bytes.append(UInt8(ascii: "\n"))
        indent()
    }

    private mutating func indent() {
        bytes += repeatElement(UInt8(ascii: " "), count: 2 * level)
    }

    private mutating func appendString(_ text: String) { appendJSONString(text, to: &bytes) }
}
