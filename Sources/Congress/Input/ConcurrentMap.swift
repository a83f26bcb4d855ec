import Dispatch

/// `transform` applied to every element of `items` on as many threads as the machine has cores; the
/// results in the order of `items`.
public func concurrentMap<Element: Sendable, Result: Sendable>(
    _ items: [Element], _ transform: @Sendable (Element) -> Result
) -> [Result] {
    guard items.count > 1 else { return items.map(transform) }
    let slots = ResultSlots<Result>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: items.count) { index in
        slots.set(index, transform(items[index]))
    }
    return slots.values()
}

/// One slot per result of `concurrentMap`.
///
/// `@unchecked Sendable` because each slot is written by exactly one iteration of `concurrentPerform`
/// and read only after it returns, which happens after every iteration has finished; no two threads
/// touch the same slot, so no lock is needed.
private final class ResultSlots<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        _ = storage.deinitialize()
        storage.deallocate()
    }

    func set(_ index: Int, _ value: Element) { storage[index] = value }

    /// Every slot's value, in order (all are set once `concurrentPerform` has returned).
    func values() -> [Element] { storage.compactMap { $0 } }
}
