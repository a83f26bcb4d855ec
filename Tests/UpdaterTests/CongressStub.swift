import Foundation
import Testing

/// The repository root: this file is Tests/UpdaterTests/CongressStub.swift.
let stubRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// The first executable `python3` on the search path.
let python3Path: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
        let candidate = directory + "/python3"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}()

/// `tools/congress_stub.py` running on 127.0.0.1 (a port the OS chose), stopped by ``stop()``.
final class CongressStub {
    let process = Process()
    let port: Int
    /// The stub's request log (one JSON object per request).
    let logPath: String
    let scratch: String

    /// Starts the stub with `arguments` (see the script's help) and waits for its port.
    init(_ arguments: [String]) throws {
        let python = try #require(python3Path, "python3 is required (tools/setup installs it)")
        scratch =
            FileManager.default.temporaryDirectory.appendingPathComponent("stub-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        logPath = scratch + "/requests.jsonl"
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [stubRepositoryRoot + "/tools/congress_stub.py", "--log", logPath] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
            process.terminate()
            throw StubError(message: "the stub did not start: \(text)")
        }
        self.port = port
    }

    struct StubError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The API root the client should use.
    var baseURL: String { "http://127.0.0.1:\(port)/v3" }

    /// The requests served so far.
    func requests() throws -> [[String: Any]] {
        guard FileManager.default.fileExists(atPath: logPath) else { return [] }
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Stops the stub (SIGTERM to its own pid) and removes its scratch folder.
    func stop() {
        if process.isRunning {
            process.terminate()
            // SIGTERM, then SIGKILL after 5 s: a stuck stub must not hang the tests.
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    deinit { stop() }
}
