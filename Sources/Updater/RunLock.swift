import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one-writer lock of a data home: an exclusive `flock` on `.hearings.lock`, which names its holder.
///
/// The kernel releases the lock when the process exits, however it exits, so a crashed run never
/// leaves a stale lock behind. Not `Sendable`: it owns a file descriptor.
public final class RunLock {
    private var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { release() }

    /// Takes the lock or throws `UpdaterError.locked` naming the process that holds it.
    public static func acquire(home: DataHome, command: String) throws -> RunLock {
        let fd = open(home.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw UpdaterError(
                .failure, "cannot open the lock file \(home.lockPath): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = readHolder(fd)
            close(fd)
            throw UpdaterError(
                .locked,
                "another hearings process is writing to \(home.path): \(holder.isEmpty ? "unknown holder" : holder); "
                    + "nothing was changed")
        }
        let holder = "pid \(getpid()) (\(command), since \(ISO8601DateFormatter().string(from: Date())))\n"
        ftruncate(fd, 0)
        _ = Array(holder.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return RunLock(descriptor: fd)
    }

    /// Releases the lock (also done on deinit and by the kernel at exit).
    public func release() {
        guard descriptor >= 0 else { return }
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    private static func readHolder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}

/// The files of a data home.
public struct DataHome: Sendable {
    /// The data home folder.
    public let path: String

    /// The data home at `path` (a trailing slash is ignored).
    public init(path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// The SQLite database.
    public var databasePath: String { path + "/hearings.sqlite" }
    /// The journal's segment folder.
    public var journalDirectory: String { path + "/journal" }
    /// The snapshot folder.
    public var snapshotsDirectory: String { path + "/snapshots" }
    /// The one-writer lock file.
    public var lockPath: String { path + "/.hearings.lock" }
}

/// An error from a job, with the exit status the command-line tool should use.
public struct UpdaterError: Error, Sendable, CustomStringConvertible {
    /// The class of the error (it decides the exit status).
    public enum Kind: Sendable, Equatable {
        /// Exit 1.
        case failure
        /// Another writer holds the lock (exit 1).
        case locked
        /// Revert refused because rows changed since (exit 5).
        case conflict
        /// The database and the journal disagree in a way only `rebuild` can resolve (exit 1).
        case inconsistent
        /// Verification found a problem (exit 4).
        case verification
    }

    public var kind: Kind
    public var message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch kind {
        case .failure, .locked, .inconsistent: return 1
        case .conflict: return 5
        case .verification: return 4
        }
    }
}
