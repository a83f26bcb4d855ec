import CLibCrypto

/// SHA-256 digests (OpenSSL's libcrypto), used for the journal's hash chain and file checksums.
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Thirty-two zero bytes: the chain's starting point before the first segment.
    public static let zero = SHA256Digest(unchecked: [UInt8](repeating: 0, count: 32))

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The digest of `data`.
    public static func of(_ data: UnsafeRawBufferPointer) -> SHA256Digest {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_Digest(data.baseAddress, data.count, &digest, &length, EVP_sha256(), nil)
        return SHA256Digest(unchecked: digest)
    }

    /// The digest of `bytes`.
    public static func of(_ bytes: [UInt8]) -> SHA256Digest {
        bytes.withUnsafeBytes { of($0) }
    }

    /// Lower-case hexadecimal.
    public var description: String { hexString(bytes) }

    /// The first eight bytes as a little-endian integer: a short key for index tables.
    var prefix64: UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        return value
    }
}

/// An incremental SHA-256 computation.
///
/// Not `Sendable`: it owns an OpenSSL digest context.
public final class SHA256Hasher {
    private let context: OpaquePointer?

    /// A hasher with no input yet.
    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `data` to the input.
    public func update(_ data: UnsafeRawBufferPointer) {
        if data.count > 0 { EVP_DigestUpdate(context, data.baseAddress, data.count) }
    }

    /// Adds `bytes` to the input.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything added so far; the hasher starts again empty.
    public func finalize() -> SHA256Digest {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        return SHA256Digest(unchecked: digest)
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var text = ""
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return text
}
