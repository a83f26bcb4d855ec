import ArgumentParser
import Foundation
import Updater

/// The run-health options of `hearings ingest`: alert thresholds and what a critical anomaly does.
/// Each has an environment variable; a flag wins over it (docs/operations.md, "Run health").
struct HealthOptions: ParsableArguments {
    @Option(
        name: .customLong("on-anomaly"),
        help: ArgumentHelp(
            "keep (default) or revert: undo the whole run when it raises a critical anomaly (exit 6). Env HEARINGS_ON_ANOMALY.",
            valueName: "action"))
    var onAnomaly: String?

    @Option(
        name: .customLong("alert-batch-failure-rate"),
        help: ArgumentHelp(
            "Alert above this share of failed batches (default 10%). Env HEARINGS_ALERT_BATCH_FAILURE_RATE.",
            valueName: "rate"))
    var batchFailureRate: String?

    @Option(
        name: .customLong("alert-rejected-rate"),
        help: ArgumentHelp(
            "Alert above this share of rejected items (default 10%). Env HEARINGS_ALERT_REJECTED_RATE.",
            valueName: "rate"))
    var rejectedRate: String?

    @Option(
        name: .customLong("alert-api-error-rate"),
        help: ArgumentHelp(
            "Alert above this share of failed API requests (default 10%). Env HEARINGS_ALERT_API_ERROR_RATE.",
            valueName: "rate"))
    var apiErrorRate: String?

    @Option(
        name: .customLong("alert-duration-factor"),
        help: ArgumentHelp(
            "Alert when the run takes more than this many times the median of recent comparable runs (default 2). Env HEARINGS_ALERT_DURATION_FACTOR.",
            valueName: "factor"))
    var durationFactor: String?

    @Option(
        name: .customLong("alert-duration-min-seconds"),
        help: ArgumentHelp(
            "… and at least this many seconds more than that median (default 5). Env HEARINGS_ALERT_DURATION_MIN_SECONDS.",
            valueName: "seconds"))
    var durationMinimumExcess: String?

    @Option(
        name: .customLong("anomaly-threshold"),
        help: ArgumentHelp(
            "Modified z-score beyond which a count is an anomaly (default 3.5). Env HEARINGS_ANOMALY_THRESHOLD.",
            valueName: "score"))
    var anomalyThreshold: String?

    @Option(
        name: .customLong("anomaly-min-history"),
        help: ArgumentHelp(
            "Comparable past runs needed before duration and anomaly alerts (default 5). Env HEARINGS_ANOMALY_MIN_HISTORY.",
            valueName: "runs"))
    var minimumHistory: String?

    @Option(
        name: .customLong("health-history"),
        help: ArgumentHelp(
            "Recent comparable runs to compare with (default 30). Env HEARINGS_HEALTH_HISTORY.",
            valueName: "runs"))
    var historyLength: String?

    /// One setting: its flag's value (or the environment's), its name for messages, how it parses.
    private struct Setting {
        var flag: String?
        var option: String
        var variable: String
        var apply: (String, inout HealthPolicy) -> Bool
    }

    private var settings: [Setting] {
        [
            Setting(flag: onAnomaly, option: "--on-anomaly", variable: "HEARINGS_ON_ANOMALY") {
                text, policy in
                guard let action = HealthPolicy.AnomalyAction(rawValue: text.lowercased()) else {
                    return false
                }
                policy.onAnomaly = action
                return true
            },
            Setting(
                flag: batchFailureRate, option: "--alert-batch-failure-rate",
                variable: "HEARINGS_ALERT_BATCH_FAILURE_RATE"
            ) { text, policy in
                Self.rate(text).map { policy.batchFailureRate = $0 } != nil
            },
            Setting(
                flag: rejectedRate, option: "--alert-rejected-rate", variable: "HEARINGS_ALERT_REJECTED_RATE"
            ) {
                text, policy in
                Self.rate(text).map { policy.rejectedItemRate = $0 } != nil
            },
            Setting(
                flag: apiErrorRate, option: "--alert-api-error-rate",
                variable: "HEARINGS_ALERT_API_ERROR_RATE"
            ) {
                text, policy in
                Self.rate(text).map { policy.apiErrorRate = $0 } != nil
            },
            Setting(
                flag: durationFactor, option: "--alert-duration-factor",
                variable: "HEARINGS_ALERT_DURATION_FACTOR"
            ) { text, policy in
                Self.positive(text).map { policy.durationFactor = $0 } != nil
            },
            Setting(
                flag: durationMinimumExcess, option: "--alert-duration-min-seconds",
                variable: "HEARINGS_ALERT_DURATION_MIN_SECONDS"
            ) { text, policy in
                Self.nonNegative(text).map { policy.durationMinimumExcess = $0 } != nil
            },
            Setting(
                flag: anomalyThreshold, option: "--anomaly-threshold", variable: "HEARINGS_ANOMALY_THRESHOLD"
            ) {
                text, policy in
                Self.positive(text).map { policy.anomalyThreshold = $0 } != nil
            },
            Setting(
                flag: minimumHistory, option: "--anomaly-min-history",
                variable: "HEARINGS_ANOMALY_MIN_HISTORY"
            ) { text, policy in
                Self.count(text).map { policy.minimumHistory = $0 } != nil
            },
            Setting(flag: historyLength, option: "--health-history", variable: "HEARINGS_HEALTH_HISTORY") {
                text, policy in
                Self.count(text).map { policy.historyLength = $0 } != nil
            },
        ]
    }

    func validate() throws {
        _ = try policy()
    }

    /// The policy: defaults, then the environment, then the flags.
    ///
    /// - Throws: `ValidationError` (exit 64) naming the flag or variable whose value does not parse.
    func policy() throws -> HealthPolicy {
        var policy = HealthPolicy()
        for setting in settings {
            if let text = setting.flag {
                guard setting.apply(text, &policy) else {
                    throw ValidationError(
                        "\(setting.option): \(Self.expectation(setting.option)) (got \"\(text)\")")
                }
            } else if let text = environment(setting.variable) {
                guard setting.apply(text, &policy) else {
                    throw ValidationError(
                        "\(setting.variable): \(Self.expectation(setting.option)) (got \"\(text)\")")
                }
            }
        }
        return policy
    }

    private static func expectation(_ option: String) -> String {
        switch option {
        case "--on-anomaly": return "expected keep or revert"
        case "--anomaly-min-history", "--health-history": return "expected a positive integer"
        case "--alert-duration-min-seconds": return "expected a number of seconds, 0 or more"
        case "--alert-duration-factor", "--anomaly-threshold": return "expected a positive number"
        default: return "expected a fraction from 0 to 1 (0.1) or a percentage (10%)"
        }
    }

    /// `10%` or `0.1`: a fraction from 0 to 1.
    static func rate(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: Double?
        if trimmed.hasSuffix("%") {
            value = Double(trimmed.dropLast()).map { $0 / 100 }
        } else {
            value = Double(trimmed)
        }
        guard let value, value.isFinite, value >= 0, value <= 1 else { return nil }
        return value
    }

    private static func positive(_ text: String) -> Double? {
        Double(text).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
    }

    private static func nonNegative(_ text: String) -> Double? {
        Double(text).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
    }

    private static func count(_ text: String) -> Int? {
        Int(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
