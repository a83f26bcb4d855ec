import Foundation
import GRDB
import Store
import Testing

@testable import Congress

/// The keys of a meeting's child rows, by table: what a diff against the other version must add and remove.
private func childKeys(_ meeting: MappedMeeting) -> [String: Set<String>] {
    [
        Schema.hearingCommittees.name: Set(meeting.committees.map(\.systemCode)),
        Schema.witnessAppearances.name: Set(meeting.witnesses.map(\.identityKey)),
        Schema.witnessDocuments.name: Set(meeting.witnessDocuments.map(\.documentURL)),
        Schema.supportingDocuments.name: Set(meeting.supportingDocuments.map(\.documentURL)),
        Schema.hearingTranscripts.name: Set(meeting.transcripts.map(\.jacketNumber)),
    ]
}

/// The hearing columns that differ between two versions of a meeting.
private func changedHearingColumns(_ old: MappedMeeting, _ new: MappedMeeting) -> Set<String> {
    let before = old.hearing.columns
    return Set(new.hearing.columns.filter { before[$0.key] != $0.value }.map(\.key))
}

private func seconds(_ duration: Duration) -> String {
    let components = duration.components
    let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
    return String(format: "%.2f s", value)
}

@Suite("Real data", .serialized)
struct RealDataMappingTests {
    @Test(
        "all 1,168 real meetings: map, diff and apply each; checksums agree; inverses restore; a second pass is a no-op"
    )
    func everyRealMeeting() throws {
        let clock = ContinuousClock()
        let meetings = try fixtureMeetings()
        #expect(meetings.count == 1168)

        // The 20 damaged Senate rows (title emptied, date NULL) are rejected, each naming its title.
        var mapped: [MappedMeeting] = []
        var rejected: [MappingError] = []
        for meeting in meetings {
            do {
                mapped.append(try MappedMeeting(meeting))
            } catch let error as MappingError {
                rejected.append(error)
            }
        }
        #expect(mapped.count == 1148)
        #expect(rejected.count == 20)
        #expect(rejected.allSatisfy { $0.fields == ["title"] && $0.issues[0].problem == "empty" })
        #expect(rejected.compactMap(\.eventId).allSatisfy { ("336563"..."336594").contains($0) })

        let temporary = try TemporaryStore()
        var checksum = try temporary.checksum()
        #expect(checksum == StateChecksum())
        checksum = checksum.applying(try temporary.loadCommittees(try sampleCommittees()))
        #expect(try temporary.checksum() == checksum)

        // StateChecksum.compute scans every row (about 0.3 s on this database in a debug build), so by
        // default it runs after every 50th meeting and at the end; after every other meeting the
        // checksum is recomputed from the rows read back from the database, and SQLite's change count
        // proves no other row changed. HEARINGS_FULL_CHECKSUM=1 computes it from scratch every time.
        let fullEvery = ProcessInfo.processInfo.environment["HEARINGS_FULL_CHECKSUM"] == "1" ? 1 : 50
        let differ = try MeetingDiffer(timestamp: "2025-10-02 12:00:00")
        var mutationCount = 0
        var fullComputations = 0
        var kinds: [String: Int] = [:]
        var mismatches: [String] = []
        let firstPassStart = clock.now
        for (index, meeting) in mapped.enumerated() {
            let previous = checksum
            let full = (index + 1) % fullEvery == 0 || index == mapped.count - 1
            let (mutations, computed, restored) = try temporary.store.queue.write { db in
                var allocator = RowIDAllocator()
                let mutations = try differ.mutations(for: meeting, in: db, allocator: &allocator)
                let changesBefore = db.totalChangesCount
                try Store.apply(mutations, db)
                #expect(db.totalChangesCount - changesBefore == mutations.count, "meeting \(meeting.eventId)")
                var computed = previous
                if full {
                    computed = try StateChecksum.compute(db)
                } else {
                    for mutation in mutations {
                        let table = try #require(Schema.table(named: mutation.table))
                        if let before = mutation.before {
                            computed.value ^= StateChecksum.rowHash(table: table, row: before)
                        }
                        if let row = try Store.row(in: table, key: mutation.key, db) {
                            computed.value ^= StateChecksum.rowHash(table: table, row: row)
                        }
                    }
                }
                // Invert: every touched row is back to its before-image (absent for inserts); then redo.
                try Store.apply(mutations.inverse, db)
                var restored = true
                for mutation in mutations {
                    let table = try #require(Schema.table(named: mutation.table))
                    let row = try Store.row(in: table, key: mutation.key, db)
                    if row != mutation.before { restored = false }
                }
                try Store.apply(mutations, db)
                return (mutations, computed, restored)
            }
            if full { fullComputations += 1 }
            checksum = previous.applying(mutations)
            if computed != checksum { mismatches.append(meeting.eventId) }
            #expect(restored, "inverse of meeting \(meeting.eventId)")
            #expect(!mutations.isEmpty)
            mutationCount += mutations.count
            for mutation in mutations { kinds[mutation.table, default: 0] += 1 }
        }
        let firstPass = clock.now - firstPassStart
        #expect(mismatches.isEmpty, "incremental checksum differs after \(mismatches.prefix(5))")

        // Second pass over the same input: nothing to do.
        let secondPassStart = clock.now
        let second = try temporary.store.queue.read { db in
            var allocator = RowIDAllocator()
            return try mapped.map { try differ.mutations(for: $0, in: db, allocator: &allocator).count }
        }
        let secondPass = clock.now - secondPassStart
        #expect(
            second.allSatisfy { $0 == 0 },
            "\(second.filter { $0 != 0 }.count) meetings changed on the second pass")

        #expect(try temporary.checksum() == checksum)
        #expect(try temporary.foreignKeyViolations() == 0)
        #expect(try temporary.integrity() == "ok")
        #expect(try temporary.rows(Schema.hearings).count == 1148)
        // 1,620 appearances in the predecessor's database, 12 of them a witness listed twice in one meeting
        // (meetings 118356, 118377, 118379): one appearance per witness and meeting.
        #expect(try temporary.rows(Schema.witnessAppearances).count == 1608)
        #expect(mapped.reduce(0) { $0 + $1.witnesses.count } == 1608)
        #expect(
            try temporary.rows(Schema.hearingCommittees).count
                == mapped.reduce(0) { $0 + $1.committees.count })
        let documents = try temporary.rows(Schema.witnessDocuments)
        let linked = documents.filter { $0["appearance_id"] != .null }.count
        #expect(documents.count == 3056)
        #expect(
            linked * 100 >= documents.count * 95,
            "only \(linked) of \(documents.count) witness documents linked")
        let witnesses = try temporary.rows(Schema.witnesses).count
        print(
            "real data: \(mapped.count) meetings mapped, \(rejected.count) rejected; \(mutationCount) mutations "
                + "(\(kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))); "
                + "\(witnesses) witnesses; \(linked)/\(documents.count) witness documents linked; "
                + "first pass (per meeting: diff, apply, checksum, inverse, redo; \(fullComputations) full "
                + "computations) \(seconds(firstPass)); "
                + "second pass (diff only) \(seconds(secondPass))")
    }

    @Test("day 1 then day 2 of the bundled sample: each day-2 change gives the expected mutations")
    func sampleDayOneThenDayTwo() throws {
        let day1 = try sampleDay("day-1")
        let day2 = try sampleDay("day-2")
        #expect(day1.count == 300 && day2.count == 120)
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())

        // Day 1 in batches of 50: every meeting of a batch is diffed before the batch is applied.
        let day1IDs = day1.keys.sorted()
        for start in stride(from: 0, to: day1IDs.count, by: 50) {
            let batch = try day1IDs[start..<min(start + 50, day1IDs.count)].map { id in
                try MappedMeeting(try #require(day1[id]).meeting)
            }
            try temporary.apply(batch, at: "2025-10-02 12:00:00")
        }
        #expect(try temporary.rows(Schema.hearings).count == 300)
        let dayOneState = try temporary.allRows()
        let dayOneChecksum = try temporary.checksum()

        // Day 2 as one batch, mutations kept per meeting.
        let day2IDs = day2.keys.sorted()
        let mapped2 = try Dictionary(
            uniqueKeysWithValues: day2IDs.map { ($0, try MappedMeeting(try #require(day2[$0]).meeting)) })
        let differ = try MeetingDiffer(timestamp: "2025-10-03 12:00:00")
        let perMeeting: [String: [Mutation]] = try temporary.store.queue.write { db in
            var allocator = RowIDAllocator()
            var result: [String: [Mutation]] = [:]
            for id in day2IDs {
                result[id] = try differ.mutations(
                    for: try #require(mapped2[id]), in: db, allocator: &allocator)
            }
            try Store.apply(day2IDs.flatMap { result[$0] ?? [] }, db)
            return result
        }
        let allDay2 = day2IDs.flatMap { perMeeting[$0] ?? [] }
        #expect(try temporary.checksum() == dayOneChecksum.applying(allDay2))

        var unchanged = 0
        var added = 0
        var statusChanges: [String: Int] = [:]
        var retimed = 0
        var retitled = 0
        var onlyUpdateDate = 0
        var meetingsWith: [String: Int] = [:]
        for id in day2IDs {
            let mutations = try #require(perMeeting[id])
            let new = try #require(mapped2[id])
            guard let oldEntry = day1[id] else {
                added += 1
                #expect(mutations.of(Schema.hearings, .insert).count == 1, "new meeting \(id)")
                #expect(mutations.allSatisfy { $0.kind == .insert })
                continue
            }
            if oldEntry.raw == day2[id]?.raw {
                unchanged += 1
                #expect(mutations.isEmpty, "byte-identical meeting \(id) changed")
                continue
            }
            let old = try MappedMeeting(oldEntry.meeting)

            // The hearing row: exactly the mapped columns that differ, plus updated_at.
            let hearingColumns = changedHearingColumns(old, new)
            #expect(hearingColumns.contains("update_date"), "meeting \(id)")
            let hearingUpdates = mutations.of(Schema.hearings, .update)
            #expect(hearingUpdates.count == 1)
            if let update = hearingUpdates.first, let before = update.before, let after = update.after {
                #expect(
                    Set(after.differingColumns(from: before)) == hearingColumns.union(["updated_at"]),
                    "meeting \(id)")
            }
            if hearingColumns.contains("status") { statusChanges[new.hearing.status, default: 0] += 1 }
            if hearingColumns.contains("hearing_time") || hearingColumns.contains("hearing_date") {
                retimed += 1
            }
            if hearingColumns.contains("title") { retitled += 1 }

            // Child rows: inserted exactly when new upstream, deleted exactly when removed upstream.
            let oldKeys = childKeys(old)
            let newKeys = childKeys(new)
            for (table, keys) in newKeys {
                let schema = try #require(Schema.table(named: table))
                let gone = oldKeys[table, default: []].subtracting(keys).count
                let came = keys.subtracting(oldKeys[table, default: []]).count
                #expect(mutations.of(schema, .insert).count == came, "\(table) inserts of meeting \(id)")
                #expect(mutations.of(schema, .delete).count == gone, "\(table) deletes of meeting \(id)")
                if came > 0 { meetingsWith[table + " added", default: 0] += 1 }
                if gone > 0 { meetingsWith[table + " removed", default: 0] += 1 }
            }
            for link in mutations.of(Schema.hearingCommittees, .insert) {
                #expect(link.after?["is_primary"] == 0)
            }
            if hearingColumns == ["update_date"] && mutations.count == 1 { onlyUpdateDate += 1 }
        }

        // The sample's README: 20 unchanged, 60 changed, 40 new, and the change table.
        #expect(unchanged == 20)
        #expect(added == 40)
        #expect(statusChanges == ["Postponed": 6, "Canceled": 6, "Rescheduled": 6])
        #expect(retimed == 12)  // 6 times moved, 6 rescheduled to another day
        #expect(retitled == 8)
        #expect(meetingsWith["witness_appearances added"] == 6)
        #expect(meetingsWith["witness_appearances removed"] == 4)
        #expect((meetingsWith["witness_documents added"] ?? 0) >= 5)
        #expect(meetingsWith["supporting_documents added"] == 6)
        #expect(meetingsWith["hearing_transcripts added"] == 4)
        #expect(meetingsWith["hearing_committees added"] == 4)
        #expect(onlyUpdateDate == 2)  // the two meetings that only gained a video

        // A re-run of day 2 is a no-op; undoing day 2 restores day 1 exactly.
        let rerun = try temporary.store.queue.read { db in
            var allocator = RowIDAllocator()
            return try day2IDs.flatMap {
                try differ.mutations(for: try #require(mapped2[$0]), in: db, allocator: &allocator)
            }
        }
        #expect(rerun.isEmpty)
        try temporary.store.queue.write { db in try Store.apply(allDay2.inverse, db) }
        #expect(try temporary.allRows() == dayOneState)
        #expect(try temporary.checksum() == dayOneChecksum)
        try temporary.store.queue.write { db in try Store.apply(allDay2, db) }
        #expect(try temporary.foreignKeyViolations() == 0)
        #expect(try temporary.integrity() == "ok")
    }
}
