/// An error from the journal: what went wrong, where, and what it means for the caller.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    /// The class of a journal error.
    public enum Kind: Sendable, Equatable {
        /// Damage that is not a torn tail: a bad checksum or chain link in a sealed or durable frame, a
        /// position gap, a missing segment. The journal refuses to open for writing.
        case corrupt
        /// A write, fsync or other system call failed. The instance is unusable afterwards.
        case io
        /// The instance is unusable: an earlier write or fsync failed, and retrying could hide lost data.
        case unusable
        /// The caller passed something the journal cannot store or find.
        case invalidArgument
        /// The journal was closed.
        case closed
    }

    /// The class of the error.
    public var kind: Kind
    /// What happened, in words for an operator.
    public var message: String
    /// The segment file concerned, if any.
    public var segment: String?
    /// The byte offset in `segment`, if any.
    public var offset: UInt64?
    /// The `errno` value of a failed system call, if any.
    public var errno: Int32?

    /// An error of `kind` with `message`, optionally locating it in a segment.
    public init(
        _ kind: Kind, _ message: String, segment: String? = nil, offset: UInt64? = nil,
        errno: Int32? = nil
    ) {
        self.kind = kind
        self.message = message
        self.segment = segment
        self.offset = offset
        self.errno = errno
    }

    public var description: String {
        var text = message
        if let segment {
            text += " (segment \(segment)"
            if let offset { text += ", byte offset \(offset)" }
            text += ")"
        }
        return text
    }
}
