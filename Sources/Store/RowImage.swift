/// A whole row, by column name: what the journal records before and after each mutation.
///
/// Encoded as a JSON object with keys in sorted order, so equal rows have equal bytes.
public struct RowImage: Hashable, Sendable, Codable {
    /// Every column of the row.
    public var columns: [String: Value]

    /// A row with these columns.
    public init(_ columns: [String: Value]) { self.columns = columns }

    /// The value of `column`; `.null` when absent.
    public subscript(column: String) -> Value {
        get { columns[column] ?? .null }
        set { columns[column] = newValue }
    }

    /// The values of `names`, in that order.
    public func values(of names: [String]) -> [Value] { names.map { self[$0] } }

    public init(from decoder: any Decoder) throws {
        columns = try decoder.singleValueContainer().decode([String: Value].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(columns)
    }

    /// The columns whose values differ between `self` and `other`, sorted by name.
    public func differingColumns(from other: RowImage) -> [String] {
        Set(columns.keys).union(other.columns.keys).filter { self[$0] != other[$0] }.sorted()
    }
}

/// A change to one row, with whole-row images before and after.
public struct Mutation: Hashable, Sendable, Codable {
    /// What the change does.
    public enum Kind: String, Hashable, Sendable, Codable {
        case insert
        case update
        case delete
    }

    /// What the change does.
    public var kind: Kind
    /// The table changed.
    public var table: String
    /// The primary-key columns and their values.
    public var key: RowImage
    /// The row before the change (nil for an insert).
    public var before: RowImage?
    /// The row after the change (nil for a delete).
    public var after: RowImage?

    /// A mutation; `key` is taken from whichever image exists, using the table's primary key.
    public init(kind: Kind, table: TableSchema, before: RowImage?, after: RowImage?) {
        self.kind = kind
        self.table = table.name
        let image = after ?? before ?? RowImage([:])
        self.key = RowImage(Dictionary(uniqueKeysWithValues: table.primaryKey.map { ($0, image[$0]) }))
        self.before = before
        self.after = after
    }

    /// The change that undoes this one: insert ↔ delete, update with the images swapped.
    public var inverse: Mutation {
        var result = self
        switch kind {
        case .insert: result.kind = .delete
        case .delete: result.kind = .insert
        case .update: result.kind = .update
        }
        result.before = after
        result.after = before
        return result
    }
}

extension Array where Element == Mutation {
    /// The mutations that undo these, in reverse order.
    public var inverse: [Mutation] { reversed().map(\.inverse) }
}
