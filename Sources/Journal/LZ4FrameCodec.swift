/// Whole-buffer LZ4 frames for other modules (snapshots): the same frame options as the journal
/// (independent blocks, content size, content checksum), so `lz4 -d` and `lz4 -t` handle the files.
public enum LZ4FrameCodec {
    /// Compresses `bytes` into one LZ4 frame.
    public static func compress(_ bytes: [UInt8]) throws(JournalError) -> [UInt8] {
        try LZ4Frame.compress(bytes)
    }

    /// Decodes one complete frame that must decode to exactly `expectedLength` bytes, checking its
    /// content checksum. Throws `.corrupt` when the frame is damaged.
    public static func decompress(_ frame: [UInt8], expectedLength: Int) throws(JournalError) -> [UInt8] {
        let decoder = try LZ4FrameDecoder()
        let result = frame.withUnsafeBytes { decoder.decode($0, expectedLength: expectedLength) }
        switch result {
        case .success(let bytes): return bytes
        case .failure(let problem): throw JournalError(.corrupt, problem.description)
        }
    }
}

extension FileSystem {
    /// Creates `path` atomically and durably: writes `bytes` to a temporary file beside it, fdatasyncs
    /// it, renames it into place and fsyncs the folder. On error the temporary file is removed and
    /// nothing is left at `path`.
    public func writeAtomically(_ bytes: [UInt8], to path: String) throws(JournalError) {
        let directory = parentDirectory(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let temporary = directory + "/.tmp-" + name
        if fileExists(temporary) { try removeFile(temporary) }
        let file = try createFile(temporary)
        do throws(JournalError) {
            try file.write(bytes, at: 0)
            try file.sync()
            try file.close()
            try rename(temporary, to: path)
        } catch {
            try? removeFile(temporary)
            throw error
        }
        try syncDirectory(directory)
    }
}
