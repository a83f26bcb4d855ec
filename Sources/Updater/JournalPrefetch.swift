import Foundation
import Journal

/// Reads a range of journal events on a thread of its own, a few events ahead of their consumer.
///
/// Why: rebuild's replay spends about a fifth of its time reading the journal (reading the segment
/// files, decoding LZ4, splitting lines) and the rest applying what it read; with a second core the
/// reading overlaps the applying. The thread opens its own read-only `Journal`, so nothing is shared
/// with the consumer but the queue of events, which holds at most `capacity` of them (one intent line
/// is at most a batch's worth of mutations). The thread also checks that each line is valid UTF-8, which
/// spares the consumer validating each string of the line.
final class JournalPrefetch: @unchecked Sendable {
    /// An event, and whether its line is valid UTF-8.
    struct Event: Sendable {
        var entry: JournalEntry
        var isValidUTF8: Bool
    }

    // Every stored property below is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Event] = []
    private var head = 0
    private var finished = false
    private var failure: (any Error)?
    private var stopped = false
    private var running = true
    private let capacity: Int

    /// Starts reading the events of the journal in `directory` from `first` through `last`.
    init(directory: String, from first: UInt64, through last: UInt64, capacity: Int = 8) {
        self.capacity = capacity
        let thread = Thread { [self] in
            do {
                let journal = try Journal.open(JournalConfiguration(directory: directory), mode: .readOnly)
                try journal.read(from: first, through: last) { entry in
                    let valid = entry.line.withUnsafeBufferPointer(isValidUTF8)
                    return push(Event(entry: entry, isValidUTF8: valid))
                }
                try journal.close()
            } catch {
                condition.lock()
                failure = error
                condition.unlock()
            }
            condition.lock()
            finished = true
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    /// Queues `entry`, waiting while the queue is full; false once the consumer has stopped.
    private func push(_ event: Event) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count - head >= capacity && !stopped { condition.wait() }
        if stopped { return false }
        queue.append(event)
        condition.broadcast()
        return true
    }

    /// The next event, nil after the last one.
    ///
    /// - Throws: what reading the journal threw, once the events read before the failure are consumed.
    func next() throws -> Event? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !finished { condition.wait() }
        if head < queue.count {
            let event = queue[head]
            head += 1
            // Drop consumed entries now and then, not on every call (the queue is short).
            if head >= capacity {
                queue.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return event
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the reading thread and waits until it has ended: no file is read after this returns.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
    }
}
