import Foundation
import Journal

#if canImport(Glibc)
    import Glibc
#endif

/// What happens to one unsynced write (or truncate) at a simulated crash, as in SQLite's crash-test
/// VFS: the disk may have stored it, lost it, or stored garbage in its place.
public enum UnsyncedWriteFate: Sendable, CaseIterable {
    case kept
    case dropped
    case garbled
}

/// A fault to inject at one I/O step.
public enum InjectedFault: Sendable, Equatable {
    /// The machine stops: this step and every later one fail, and `crashImage` gives the disk's state.
    case crash
    /// The step fails with this errno (`EIO`, `ENOSPC` …). A failing write with `ENOSPC` stores the first
    /// half of its bytes first, as a short write on a full disk does.
    case error(Int32)
}

/// An in-memory file system that models what survives a crash, for fault-injection tests.
///
/// Each file has a durable image (as of its last `sync`) and the list of writes and truncates since;
/// each directory's entries are durable as of its last `syncDirectory`. Every I/O step (create, write,
/// truncate, sync, rename, remove, directory sync) is counted, so a test can run a workload once to count
/// its steps and then inject a fault at each one in turn.
///
/// `@unchecked Sendable`: all state is guarded by `lock`.
public final class SimulatedFileSystem: FileSystem, @unchecked Sendable {
    enum PendingOperation {
        case write(offset: Int, bytes: [UInt8])
        case truncate(Int)
    }

    struct Inode {
        var durable: [UInt8] = []
        var volatile: [UInt8] = []
        var pending: [PendingOperation] = []
    }

    private let lock = NSLock()
    private var inodes: [Int: Inode] = [:]
    private var names: [String: Int] = [:]
    private var durableNames: [String: Int] = [:]
    private var directories: Set<String> = ["/"]
    private var nextInode = 1
    private var faults: [Int: InjectedFault] = [:]
    private var operationCount = 0
    private var readCount = 0
    private var readFaults: [Int: Int32] = [:]
    private var accessLog: [Access]?
    private var isCrashed = false

    /// An empty file system.
    public init() {}

    private func locked<T>(_ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Injects `fault` at I/O step `step` (0-based, counted over the file system's life).
    public func inject(_ fault: InjectedFault, atStep step: Int) {
        lock.withLock { faults[step] = fault }
    }

    /// I/O steps performed so far.
    public var steps: Int { lock.withLock { operationCount } }

    /// Makes read number `read` (0-based, counted as `reads` counts them) fail with errno `code`.
    /// Reads are not steps: a crash image never depends on them.
    public func injectReadError(_ code: Int32, atRead read: Int) {
        lock.withLock { readFaults[read] = code }
    }

    /// Reads performed so far (not steps: faults are injected into writes and syncs). Tests count
    /// what a lookup costs with it.
    public var reads: Int { lock.withLock { readCount } }

    /// A read, or advice that a range will be read (`File.willRead`).
    public struct Access: Equatable, Sendable {
        public var path: String
        public var offset: UInt64
        public var count: Int
        public var advice: Bool
    }

    /// Starts recording reads and advice, in order (off by default: large tests read a lot).
    public func recordAccesses() { lock.withLock { accessLog = [] } }

    /// The reads and advice recorded since `recordAccesses()`.
    public var accesses: [Access] { lock.withLock { accessLog ?? [] } }

    func advise(_ inode: Int, path: String, at offset: UInt64, count: Int) {
        lock.withLock { accessLog?.append(Access(path: path, offset: offset, count: count, advice: true)) }
    }

    /// Whether a crash was injected and happened.
    public var crashed: Bool { lock.withLock { isCrashed } }

    /// The disk as a restarted machine would find it: durable data, plus each unsynced write or truncate
    /// treated as `fate(n)` says (n counts them in order), plus unsynced directory changes kept or not.
    public func crashImage(
        directoryChangesKept: Bool, fate: (Int) -> UnsyncedWriteFate
    ) -> SimulatedFileSystem {
        lock.withLock {
            let image = SimulatedFileSystem()
            var counter = 0
            var survivingInodes: [Int: Inode] = [:]
            for (number, inode) in inodes.sorted(by: { $0.key < $1.key }) {
                var content = inode.durable
                for operation in inode.pending {
                    let choice = fate(counter)
                    counter += 1
                    switch (operation, choice) {
                    case (_, .dropped): continue
                    case (.truncate(let size), _): content = resized(content, to: size)
                    case (.write(let offset, let bytes), .kept): content = written(content, bytes, at: offset)
                    case (.write(let offset, let bytes), .garbled):
                        content = written(content, garbage(count: bytes.count, seed: counter), at: offset)
                    }
                }
                survivingInodes[number] = Inode(durable: content, volatile: content, pending: [])
            }
            image.inodes = survivingInodes
            image.names = directoryChangesKept ? names : durableNames
            image.durableNames = image.names
            image.directories = directories
            image.nextInode = nextInode
            return image
        }
    }

    /// The volatile content of `path` (what a reader sees now), for tests that tamper with files.
    public func contents(of path: String) -> [UInt8]? {
        lock.withLock { names[path].flatMap { inodes[$0]?.volatile } }
    }

    /// Replaces the content of `path` durably (tampering, as bit rot or an editor would).
    public func replaceContents(of path: String, with bytes: [UInt8]) {
        lock.withLock {
            guard let number = names[path] else { return }
            inodes[number] = Inode(durable: bytes, volatile: bytes, pending: [])
        }
    }

    // MARK: FileSystem

    public func contentsOfDirectory(_ directory: String) throws(JournalError) -> [String] {
        try locked { () throws(JournalError) -> [String] in
            guard directories.contains(directory) else { throw failure("opendir", directory, ENOENT) }
            return names.keys.filter { parentPath($0) == directory }.map {
                String($0.dropFirst(directory.count + 1))
            }
        }
    }

    public func createDirectory(_ directory: String) throws(JournalError) {
        lock.withLock {
            var prefix = ""
            for component in directory.split(separator: "/") {
                prefix += "/" + component
                directories.insert(prefix)
            }
        }
    }

    public func fileExists(_ path: String) -> Bool {
        lock.withLock { names[path] != nil || directories.contains(path) }
    }

    public func openFile(_ path: String, writable: Bool) throws(JournalError) -> any File {
        try locked { () throws(JournalError) -> any File in
            guard let number = names[path] else { throw failure("open", path, ENOENT) }
            return SimulatedFile(fileSystem: self, inode: number, path: path)
        }
    }

    public func createFile(_ path: String) throws(JournalError) -> any File {
        try step("create", path)
        return try locked { () throws(JournalError) -> any File in
            guard names[path] == nil else { throw failure("create", path, EEXIST) }
            guard directories.contains(parentPath(path)) else { throw failure("create", path, ENOENT) }
            let number = nextInode
            nextInode += 1
            inodes[number] = Inode()
            names[path] = number
            return SimulatedFile(fileSystem: self, inode: number, path: path)
        }
    }

    public func rename(_ source: String, to destination: String) throws(JournalError) {
        try step("rename", source)
        try locked { () throws(JournalError) in
            guard let number = names.removeValue(forKey: source) else {
                throw failure("rename", source, ENOENT)
            }
            names[destination] = number
        }
    }

    public func removeFile(_ path: String) throws(JournalError) {
        try step("unlink", path)
        try locked { () throws(JournalError) in
            guard names.removeValue(forKey: path) != nil else { throw failure("unlink", path, ENOENT) }
        }
    }

    public func syncDirectory(_ directory: String) throws(JournalError) {
        try step("fsync", directory)
        lock.withLock {
            durableNames = durableNames.filter { parentPath($0.key) != directory }
            for (path, number) in names where parentPath(path) == directory { durableNames[path] = number }
        }
    }

    // MARK: Files

    func read(_ inode: Int, path: String, at offset: UInt64, count: Int) throws(JournalError) -> [UInt8] {
        let result: Result<[UInt8], JournalError> = lock.withLock {
            defer { readCount += 1 }
            if let code = readFaults[readCount] { return .failure(failure("pread", path, code)) }
            accessLog?.append(Access(path: path, offset: offset, count: count, advice: false))
            let content = inodes[inode]?.volatile ?? []
            let start = min(Int(offset), content.count)
            return .success(Array(content[start..<min(content.count, start + count)]))
        }
        return try result.get()
    }

    func size(_ inode: Int) -> UInt64 {
        lock.withLock { UInt64(inodes[inode]?.volatile.count ?? 0) }
    }

    func write(_ inode: Int, path: String, _ bytes: [UInt8], at offset: UInt64) throws(JournalError) {
        do throws(JournalError) {
            try step("pwrite", path)
        } catch {
            if error.errno == ENOSPC {
                apply(inode, .write(offset: Int(offset), bytes: Array(bytes.prefix(bytes.count / 2))))
            }
            throw error
        }
        apply(inode, .write(offset: Int(offset), bytes: bytes))
    }

    func truncate(_ inode: Int, path: String, to size: UInt64) throws(JournalError) {
        try step("ftruncate", path)
        apply(inode, .truncate(Int(size)))
    }

    func sync(_ inode: Int, path: String) throws(JournalError) {
        try step("fdatasync", path)
        lock.withLock {
            guard var node = inodes[inode] else { return }
            node.durable = node.volatile
            node.pending = []
            inodes[inode] = node
        }
    }

    private func apply(_ inode: Int, _ operation: PendingOperation) {
        lock.withLock {
            guard var node = inodes[inode] else { return }
            switch operation {
            case .write(let offset, let bytes): node.volatile = written(node.volatile, bytes, at: offset)
            case .truncate(let size): node.volatile = resized(node.volatile, to: size)
            }
            node.pending.append(operation)
            inodes[inode] = node
        }
    }

    /// Counts one I/O step and fails it if a fault is planned there (or the machine has crashed).
    private func step(_ call: String, _ path: String) throws(JournalError) {
        let fault: InjectedFault? = lock.withLock {
            if isCrashed { return .crash }
            let planned = faults[operationCount]
            operationCount += 1
            if planned == .crash { isCrashed = true }
            return planned
        }
        switch fault {
        case nil: return
        case .crash: throw failure(call, path, EIO, crash: true)
        case .error(let code): throw failure(call, path, code)
        }
    }

    private func failure(_ call: String, _ path: String, _ code: Int32, crash: Bool = false) -> JournalError {
        let reason =
            crash ? "simulated crash" : (strerror(code).map { String(cString: $0) } ?? "errno \(code)")
        return JournalError(.io, "\(call) failed for \(path): \(reason)", errno: code)
    }
}

/// An open file of a `SimulatedFileSystem`.
final class SimulatedFile: File {
    let fileSystem: SimulatedFileSystem
    let inode: Int
    let path: String

    init(fileSystem: SimulatedFileSystem, inode: Int, path: String) {
        self.fileSystem = fileSystem
        self.inode = inode
        self.path = path
    }

    func size() throws(JournalError) -> UInt64 { fileSystem.size(inode) }
    func read(at offset: UInt64, count: Int) throws(JournalError) -> [UInt8] {
        try fileSystem.read(inode, path: path, at: offset, count: count)
    }
    func write(_ bytes: [UInt8], at offset: UInt64) throws(JournalError) {
        try fileSystem.write(inode, path: path, bytes, at: offset)
    }
    func truncate(to size: UInt64) throws(JournalError) {
        try fileSystem.truncate(inode, path: path, to: size)
    }
    func sync() throws(JournalError) { try fileSystem.sync(inode, path: path) }
    func willRead(at offset: UInt64, count: Int) {
        fileSystem.advise(inode, path: path, at: offset, count: count)
    }
    func close() throws(JournalError) {}
}

private func parentPath(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

private func written(_ content: [UInt8], _ bytes: [UInt8], at offset: Int) -> [UInt8] {
    var result = content
    if result.count < offset + bytes.count {
        result += [UInt8](repeating: 0, count: offset + bytes.count - result.count)
    }
    result.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    return result
}

private func resized(_ content: [UInt8], to size: Int) -> [UInt8] {
    size <= content.count
        ? Array(content[..<size]) : content + [UInt8](repeating: 0, count: size - content.count)
}

private func garbage(count: Int, seed: Int) -> [UInt8] {
    var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}
