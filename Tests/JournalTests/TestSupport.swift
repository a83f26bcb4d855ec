import FaultInjection
import Foundation
import Journal

/// A small deterministic generator (SplitMix64) so that property tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct SampleFields: Codable, Equatable {
    var batch: Int
    var text: String
    var values: [Int]
}

/// A random event shaped like the updater's (a batch id, text, numbers), with a key per batch.
func randomEvent(_ generator: inout SplitMix64, batch: Int) throws -> JournalEvent {
    let length = Int.random(in: 0...300, using: &generator)
    let text = String((0..<length).map { _ in "abcdefghij \"\\/é\t".randomElement(using: &generator) ?? "a" })
    let values = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
        Int.random(in: -1000...1000, using: &generator)
    }
    return try JournalEvent(
        type: ["intent", "outcome", "rejected"].randomElement(using: &generator) ?? "intent",
        fields: SampleFields(batch: batch, text: text, values: values), keys: ["batch:\(batch)"])
}

/// A clock that advances one millisecond per call, from a fixed instant.
final class StepClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_760_335_200)
    func tick() -> Date {
        lock.withLock {
            now = now.addingTimeInterval(0.001)
            return now
        }
    }
}

func simulatedConfiguration(_ fileSystem: SimulatedFileSystem, segmentSizeLimit: UInt64 = 64 << 20)
    -> JournalConfiguration
{
    let clock = StepClock()
    return JournalConfiguration(
        directory: "/data/journal", segmentSizeLimit: segmentSizeLimit, fileSystem: fileSystem,
        clock: { clock.tick() })
}

func allLines(_ journal: Journal) throws -> [String] {
    var lines: [String] = []
    try journal.read { entry in
        lines.append(String(decoding: entry.line, as: UTF8.self))
        return true
    }
    return lines
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "journal-tests-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs a command, returning its exit status and standard output.
func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (Int32, Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try process.run()
    if let input {
        // Written from another thread: a large input would otherwise fill the pipe and block both sides.
        let writer = inputPipe.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(input)
            try? writer.close()
        }
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}

/// Where things are in an index file's bytes (journal-format.md §11.1), for tests that damage or
/// rewrite it.
struct IndexFileLayout {
    let records: Int
    let keys: Int
    let segments: Int

    init(_ index: [UInt8]) {
        func count(at offset: Int) -> Int { (0..<8).reduce(0) { $0 | Int(index[offset + $1]) << (8 * $1) } }
        (records, keys, segments) = (count(at: 8), count(at: 16), count(at: 24))
    }

    var recordsBase: Int { 96 + 8 * segments }
    var keysBase: Int { recordsBase + 32 * records }
    var checksBase: Int { keysBase + 16 * keys }
    /// Chunks of both tables: as many checks, and (version 3) fence entries.
    var chunks: Int { (32 * records + 4095) / 4096 + (16 * keys + 4095) / 4096 }
    var fenceBase: Int { checksBase + 8 * chunks }
}
