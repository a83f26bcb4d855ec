import CLZ4

/// Standard LZ4 frames through liblz4's frame API.
///
/// Every frame is written with independent blocks, the content size in the header and the XXH32 content
/// checksum, so `lz4 -t` and `lz4 -d` check and decode it on their own.
enum LZ4Frame {
    /// Compresses `input` into one complete LZ4 frame.
    static func compress(_ bytes: [UInt8]) throws(JournalError) -> [UInt8] {
        var result: Result<[UInt8], JournalError> = .success([])
        bytes.withUnsafeBytes { result = compress($0) }
        return try result.get()
    }

    private static func compress(_ input: UnsafeRawBufferPointer) -> Result<[UInt8], JournalError> {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.blockSizeID = LZ4F_max4MB
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.contentSize = UInt64(input.count)
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            LZ4F_compressFrame(out.baseAddress, out.count, input.baseAddress, input.count, &preferences)
        }
        if LZ4F_isError(written) != 0 {
            return .failure(JournalError(.invalidArgument, "LZ4 compression failed: \(errorName(written))"))
        }
        output.removeSubrange(written...)
        return .success(output)
    }

    static func errorName(_ code: Int) -> String {
        guard let name = LZ4F_getErrorName(code) else { return "unknown LZ4 error" }
        return String(cString: name)
    }
}

/// A reusable LZ4 frame decoder.
///
/// Not `Sendable`: it owns a liblz4 decompression context, which is single-threaded state.
final class LZ4FrameDecoder {
    private var context: OpaquePointer?

    init() throws(JournalError) {
        var dctx: OpaquePointer?
        let status = LZ4F_createDecompressionContext(&dctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(status) == 0, let dctx else {
            throw JournalError(.invalidArgument, "cannot create an LZ4 decompression context")
        }
        context = dctx
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
    }

    /// Decodes exactly one complete frame of `expectedLength` decoded bytes.
    ///
    /// - Returns: the decoded bytes, or a reason when the frame is incomplete, has trailing bytes, decodes
    ///   to another length, or fails its content checksum (liblz4 checks it when the frame ends).
    func decode(_ frame: UnsafeRawBufferPointer, expectedLength: Int) -> Result<[UInt8], FrameProblem> {
        LZ4F_resetDecompressionContext(context)
        var consumedTotal = 0
        var producedTotal = 0
        var problem: FrameProblem?
        // Not zeroed first: liblz4 writes the bytes, and only those it wrote are kept.
        let output = [UInt8](unsafeUninitializedCapacity: expectedLength) { out, initialized in
            var hint = 1
            while hint != 0 {
                var consumed = frame.count - consumedTotal
                var produced = expectedLength - producedTotal
                if consumed == 0 {
                    problem = FrameProblem("frame ends before its end mark")
                    break
                }
                hint = LZ4F_decompress(
                    context, out.baseAddress.map { $0 + producedTotal }, &produced,
                    frame.baseAddress.map { $0 + consumedTotal }, &consumed, nil)
                if LZ4F_isError(hint) != 0 {
                    problem = FrameProblem("LZ4 frame is invalid: \(LZ4Frame.errorName(hint))")
                    break
                }
                consumedTotal += consumed
                producedTotal += produced
                if consumed == 0 && produced == 0 && hint != 0 {
                    // No progress: the output is full but the frame has more content.
                    problem = FrameProblem("frame decodes to more than \(expectedLength) bytes")
                    break
                }
            }
            initialized = producedTotal
        }
        if let problem { return .failure(problem) }
        if consumedTotal != frame.count {
            return .failure(FrameProblem("\(frame.count - consumedTotal) bytes follow the frame's end mark"))
        }
        if producedTotal != expectedLength {
            return .failure(
                FrameProblem("frame decodes to \(producedTotal) bytes, header says \(expectedLength)"))
        }
        return .success(output)
    }
}

/// Why a stored frame was not accepted.
struct FrameProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
