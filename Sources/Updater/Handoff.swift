import Foundation

/// A value handed once from the thread or task that makes it to a thread that waits for it (the next
/// batch's meetings, prepared in the background; an asynchronous call's result; the later batches
/// an audit looks up on a second thread).
///
/// `@unchecked Sendable`: `value` is written once, before `done` is signalled, and read only after
/// `wait` has taken that signal; the semaphore orders the two. `wait` may be called again (an early
/// end of the run waits for a batch the loop already waited for): it then returns at once.
final class Handoff<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Value?
    private var waited = false

    /// Hands `value` over; called once.
    func set(_ value: Value) {
        self.value = value
        done.signal()
    }

    /// Blocks until the value is handed over; the value.
    func wait() -> Value? {
        if !waited {
            done.wait()
            waited = true
        }
        return value
    }
}
