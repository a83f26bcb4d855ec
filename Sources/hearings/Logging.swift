import Congress
import Foundation
import Journal
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The command-line tool's logging: swift-log, bootstrapped once per process, to standard error and to
/// a daily file under the data home, `logs/daily_update_YYYYMMDD.log` (the UTC date the command
/// started; appended), where the predecessor's operators look for it.
///
/// Lines are `TIME LEVEL hearings[PID]: MESSAGE key=value …`, with constant messages and the details in
/// metadata (sorted keys), so they can be grepped. Every value is sanitised: control characters are
/// escaped (input text cannot forge a line or drive a terminal), URL query strings are cut and the
/// Congress.gov key, when set in the environment, is masked: it can never reach a log.
enum HearingsLogging {
    private static let state = BootstrapState()

    /// Bootstraps swift-log for this process (later calls only return the existing setup): standard
    /// error at `info` (at `warning` on a terminal, where the progress line shows the rest) and the
    /// daily file of `home` at `info`. A daily file that cannot be opened is reported on standard
    /// error and left out: logging never stops a command.
    @discardableResult
    static func bootstrap(home: String) -> LogSinks {
        state.once {
            let terminal = isatty(2) != 0
            let standardError = LogSink(descriptor: 2, isTerminal: terminal)
            let file = openDailyFile(home: home)
            let sinks = LogSinks(standardError: standardError, file: file)
            let standardErrorLevel: Logger.Level = terminal ? .warning : .info
            LoggingSystem.bootstrap { label in
                var handlers: [any LogHandler] = [
                    LineLogHandler(label: label, sink: standardError, logLevel: standardErrorLevel)
                ]
                if let file { handlers.append(LineLogHandler(label: label, sink: file, logLevel: .info)) }
                return MultiplexLogHandler(handlers)
            }
            return sinks
        }
    }

    /// The daily log file's path for `date` under `home`.
    static func dailyFilePath(home: String, date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let day = String(
            format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return home + "/logs/daily_update_\(day).log"
    }

    private static func openDailyFile(home: String) -> LogSink? {
        let path = dailyFilePath(home: home, date: Date())
        do {
            // Private permissions: logs name items and reasons (DESIGN §9).
            try FileManager.default.createDirectory(
                atPath: home + "/logs", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            printError(
                "warning: cannot create \(home)/logs: \(error.localizedDescription); logging to stderr only")
            return nil
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            printError(
                "warning: cannot open the log file \(path): \(String(cString: strerror(errno))); logging to stderr only"
            )
            return nil
        }
        return LogSink(descriptor: descriptor, isTerminal: false)
    }
}

/// The sinks the process logs to, for writers that bypass the bootstrap: the progress line shares
/// standard error with the log handlers, and a failure already printed for humans goes to the file only.
struct LogSinks: Sendable {
    let standardError: LogSink
    let file: LogSink?

    /// A logger that writes only to the daily file (for what standard error already shows).
    func fileLogger(label: String) -> Logger {
        guard let file else { return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }) }
        return Logger(
            label: label, factory: { label in LineLogHandler(label: label, sink: file, logLevel: .info) })
    }
}

/// Runs the bootstrap once per process (swift-log allows one bootstrap only).
private final class BootstrapState: @unchecked Sendable {
    private let lock = NSLock()
    private var sinks: LogSinks?

    func once(_ make: () -> LogSinks) -> LogSinks {
        lock.lock()
        defer { lock.unlock() }
        if let sinks { return sinks }
        let made = make()
        sinks = made
        return made
    }
}

/// A file descriptor that receives whole lines, one `write` per line (with `O_APPEND`, concurrent
/// processes appending to the same daily file do not interleave inside a line). On a terminal it also
/// keeps a progress line at the bottom: a log line first clears it, then the progress is redrawn.
final class LogSink: @unchecked Sendable {
    private let descriptor: Int32
    /// Whether the descriptor is a terminal (progress and escape sequences only then).
    let isTerminal: Bool
    private let lock = NSLock()
    private var progress = ""

    init(descriptor: Int32, isTerminal: Bool) {
        self.descriptor = descriptor
        self.isTerminal = isTerminal
    }

    /// Writes `line` and a newline, keeping the progress line (if any) below it.
    func write(line: String) {
        lock.lock()
        defer { lock.unlock() }
        if progress.isEmpty {
            emit(line + "\n")
        } else {
            emit("\r\u{1B}[2K" + line + "\n" + progress)
        }
    }

    /// Replaces the progress line (terminals only; `text` must fit the width: it is never wrapped).
    func showProgress(_ text: String) {
        guard isTerminal else { return }
        lock.lock()
        defer { lock.unlock() }
        progress = text
        emit("\r\u{1B}[2K" + text)
    }

    /// Leaves the progress line as it stands and ends it with a newline.
    func endProgress() {
        guard isTerminal else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !progress.isEmpty else { return }
        progress = ""
        emit("\n")
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            // A log that cannot be written is dropped: logging must not stop or fail a run.
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// A swift-log handler writing `TIME LEVEL hearings[PID]: MESSAGE key=value …` lines to a sink.
struct LineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    private let label: String
    private let sink: LogSink

    init(label: String, sink: LogSink, logLevel: Logger.Level) {
        self.label = label
        self.sink = sink
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = "\(rfc3339Milliseconds(Date())) \(event.level) hearings[\(getpid())]: "
        line += LogText.sanitised(event.message.description)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(LogText.sanitised(key))=\(LogText.quoted(LogText.sanitised(LogText.render(value))))"
        }
        if let error = event.error { line += " error=\(LogText.quoted(LogText.sanitised("\(error)")))" }
        sink.write(line: line)
    }
}

/// Rendering and sanitising of log text.
enum LogText {
    /// A metadata value as text.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let value): return value.description
        case .array(let values): return "[" + values.map(render).joined(separator: ",") + "]"
        case .dictionary(let values):
            return "{"
                + values.sorted { $0.key < $1.key }.map { "\($0.key):\(render($0.value))" }.joined(
                    separator: ",") + "}"
        }
    }

    /// `text` in double quotes when it holds a space, a quote or an equals sign (logfmt).
    static func quoted(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else {
            return text
        }
        return "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }

    /// `text` with control characters escaped, URL query strings cut (`?…`) and the API key masked.
    static func sanitised(_ text: String) -> String {
        var result = withoutQueryStrings(text)
        for name in ["CONGRESS_API_KEY", "API_KEY"] {
            guard let raw = environment(name) else { continue }
            // The value as set and as used (quotes stripped): either could be echoed.
            for key in [raw, CongressAPIKey(raw)?.value].compactMap({ $0 }) where key.count >= 4 {
                result = result.replacingOccurrences(of: key, with: "[key]")
            }
        }
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(result.unicodeScalars.count)
        for scalar in result.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                    || scalar.value == 0x2029
                {
                    escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// Cuts the query string of every `http://` or `https://` URL in `text` (Congress.gov takes the key
    /// as `api_key=` there), and masks any other `api_key=` value.
    static func withoutQueryStrings(_ text: String) -> String {
        guard text.contains("?") || text.localizedCaseInsensitiveContains("api_key") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "http", options: .caseInsensitive) {
            output += rest[..<start.lowerBound]
            let url = rest[start.lowerBound...].prefix { !$0.isWhitespace && $0 != "\"" && $0 != "'" }
            if let question = url.firstIndex(of: "?") {
                output += url[..<question] + "?…"
            } else {
                output += url
            }
            rest = rest[url.endIndex...]
        }
        output += rest
        var masked = ""
        var remaining = Substring(output)
        while let range = remaining.range(of: "api_key=", options: .caseInsensitive) {
            masked += remaining[..<range.upperBound] + "[key]"
            remaining = remaining[range.upperBound...].drop { $0 != "&" && !$0.isWhitespace }
        }
        return masked + remaining
    }
}
