#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file operations the journal performs, so that tests can substitute a layer that injects faults
/// (crashes with unsynced writes kept, dropped or garbled; `EIO`; `ENOSPC`).
///
/// Paths are plain strings; directories are given explicitly to `syncDirectory(_:)`, because a new or
/// renamed file is durable only once its directory is synced.
public protocol FileSystem: Sendable {
    /// The names (not paths) of the entries in `directory`.
    func contentsOfDirectory(_ directory: String) throws(JournalError) -> [String]
    /// Creates `directory` and missing parents; succeeds if it exists.
    func createDirectory(_ directory: String) throws(JournalError)
    /// Whether `path` exists.
    func fileExists(_ path: String) -> Bool
    /// Opens an existing file for reading, or for reading and writing.
    func openFile(_ path: String, writable: Bool) throws(JournalError) -> any File
    /// Creates a new file, failing if it exists. Created with mode 0600.
    func createFile(_ path: String) throws(JournalError) -> any File
    /// Atomically renames `source` to `destination`, replacing it.
    func rename(_ source: String, to destination: String) throws(JournalError)
    /// Removes a file.
    func removeFile(_ path: String) throws(JournalError)
    /// Makes the directory's entries (creations, renames, removals) durable.
    func syncDirectory(_ directory: String) throws(JournalError)
}

/// An open file.
public protocol File: AnyObject {
    /// The file's size in bytes.
    func size() throws(JournalError) -> UInt64
    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: UInt64, count: Int) throws(JournalError) -> [UInt8]
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws(JournalError)
    /// Cuts or extends the file to `size` bytes.
    func truncate(to size: UInt64) throws(JournalError)
    /// Makes the file's data durable (`fdatasync`).
    func sync() throws(JournalError)
    /// Closes the file.
    func close() throws(JournalError)
    /// Tells the system that `count` bytes at `offset` will be read soon, so that it can start
    /// reading them, many ranges at once, before the reads that wait for them. Only advice: nothing
    /// fails, and a file system that cannot act on it ignores it.
    func willRead(at offset: UInt64, count: Int)
}

extension File {
    public func willRead(at offset: UInt64, count: Int) {}
}

/// The real file system, through POSIX calls. `EINTR` is retried; every other failure becomes a
/// `JournalError` of kind `.io` naming the call, the path and the errno.
public struct PosixFileSystem: FileSystem {
    /// The real file system.
    public init() {}

    public func contentsOfDirectory(_ directory: String) throws(JournalError) -> [String] {
        guard let stream = opendir(directory) else { throw ioError("opendir", directory) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func createDirectory(_ directory: String) throws(JournalError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw ioError("mkdir", prefix) }
            prefix += "/"
        }
    }

    public func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func openFile(_ path: String, writable: Bool) throws(JournalError) -> any File {
        let fd = retryingOnInterrupt { open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC) }
        guard fd >= 0 else { throw ioError("open", path) }
        return PosixFile(descriptor: fd, path: path)
    }

    public func createFile(_ path: String) throws(JournalError) -> any File {
        let fd = retryingOnInterrupt { open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw ioError("create", path) }
        return PosixFile(descriptor: fd, path: path)
    }

    public func rename(_ source: String, to destination: String) throws(JournalError) {
        if Glibc.rename(source, destination) != 0 { throw ioError("rename", source) }
    }

    public func removeFile(_ path: String) throws(JournalError) {
        if unlink(path) != 0 { throw ioError("unlink", path) }
    }

    public func syncDirectory(_ directory: String) throws(JournalError) {
        let fd = retryingOnInterrupt { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw ioError("open", directory) }
        defer { _ = Glibc.close(fd) }
        if retryingOnInterrupt({ fsync(fd) }) != 0 { throw ioError("fsync", directory) }
    }
}

/// A file descriptor owned by the journal. Not `Sendable`: one owner at a time.
final class PosixFile: File {
    private var descriptor: Int32
    private let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    func size() throws(JournalError) -> UInt64 {
        var status = stat()
        if fstat(descriptor, &status) != 0 { throw ioError("fstat", path) }
        return UInt64(status.st_size)
    }

    func willRead(at offset: UInt64, count: Int) {
        // Why: a lookup of many keys reads a thousand 4 KiB chunks at random places of the index;
        // pages the kernel no longer holds cost a device read each, one after the other (35 µs each
        // on the reference machine), while advised together they are read at once (4 to 6 µs each).
        // The result is ignored: the read that follows reports any real failure.
        _ = posix_fadvise(descriptor, off_t(offset), off_t(count), POSIX_FADV_WILLNEED)
    }

    func read(at offset: UInt64, count: Int) throws(JournalError) -> [UInt8] {
        // The buffer is not zeroed first: pread fills it, and only the bytes it filled are kept.
        var failure: JournalError?
        let buffer = [UInt8](unsafeUninitializedCapacity: max(count, 0)) { raw, initialized in
            var filled = 0
            while filled < count {
                let result = retryingOnInterrupt {
                    pread(
                        descriptor, raw.baseAddress.map { $0 + filled }, count - filled,
                        off_t(offset) + off_t(filled))
                }
                if result < 0 {
                    failure = ioError("pread", path)
                    break
                }
                if result == 0 { break }
                filled += result
            }
            initialized = filled
        }
        if let failure { throw failure }
        return buffer
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(JournalError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                retryingOnInterrupt {
                    pwrite(
                        descriptor, raw.baseAddress.map { $0 + written }, bytes.count - written,
                        off_t(offset) + off_t(written))
                }
            }
            if result < 0 { throw ioError("pwrite", path) }
            written += result
        }
    }

    func truncate(to size: UInt64) throws(JournalError) {
        if retryingOnInterrupt({ ftruncate(descriptor, off_t(size)) }) != 0 {
            throw ioError("ftruncate", path)
        }
    }

    func sync() throws(JournalError) {
        if retryingOnInterrupt({ fdatasync(descriptor) }) != 0 { throw ioError("fdatasync", path) }
    }

    func close() throws(JournalError) {
        let fd = descriptor
        descriptor = -1
        if Glibc.close(fd) != 0 { throw ioError("close", path) }
    }
}

private func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

private func ioError(_ call: String, _ path: String) -> JournalError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
    return JournalError(.io, "\(call) failed for \(path): \(reason)", errno: code)
}
