import Foundation
import GRDB
import Store
import Testing

@testable import Congress

/// A meeting with every kind of child row: two committees, three witnesses, witness and meeting
/// documents, a transcript.
private func fullMeeting(eventId: String = "900001", _ change: (inout CommitteeMeeting) -> Void = { _ in })
    -> CommitteeMeeting
{
    makeMeeting(eventId: eventId) {
        $0.committees = [
            CommitteeReference(
                systemCode: "hsap06", name: "Interior, Environment, and Related Agencies Subcommittee"),
            CommitteeReference(systemCode: "hsap00", name: "Appropriations Committee"),
        ]
        $0.witnesses = [
            .init(name: "Mike Natchees", position: "Councilman", organization: "Ute Indian Tribe"),
            .init(
                name: "Ms. Stacy Shepherd", position: "Executive Officer",
                organization: "Choctaw Nation of Oklahoma"),
            .init(
                name: "Mr. Charles Martin", position: "Chairman",
                organization: "Morongo Band of Mission Indians"),
        ]
        $0.witnessDocuments = [
            .init(
                documentType: "Witness Statement", format: "PDF",
                url: witnessFileURL(eventId, kind: "Wstate", token: "NatcheesM")),
            .init(
                documentType: "Witness Biography", format: "PDF",
                url: witnessFileURL(eventId, kind: "Wbio", token: "ShepherdS")),
            .init(
                documentType: "Witness Statement", format: "PDF",
                url: witnessFileURL(eventId, kind: "Wstate", token: "MartinC")),
        ]
        $0.meetingDocuments = [
            .init(
                name: "Hearing Notice", description: "", documentType: "Support Document", format: "PDF",
                url:
                    "https://www.congress.gov/119/meeting/house/\(eventId)/documents/HHRG-119-AP06-20250324-SD001.pdf"
            ),
            .init(
                name: "Hearing: Memo", description: "Committee memorandum", documentType: "Committee Memo",
                format: "PDF",
                url:
                    "https://www.congress.gov/119/meeting/house/\(eventId)/documents/HHRG-119-AP06-20250324-SD002.pdf"
            ),
        ]
        $0.hearingTranscript = [
            .init(jacketNumber: 60933, url: "https://api.congress.gov/v3/hearing/119/house/60933?format=json")
        ]
        change(&$0)
    }
}

@Suite("Diff: predecessor bugs")
struct DiffPredecessorBugTests {
    @Test("an unchanged meeting produces zero mutations and a re-run of the same input is a no-op")
    func unchangedMeetingIsNoOp() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        let mapped = try MappedMeeting(fullMeeting())
        let first = try temporary.apply(mapped, at: "2025-10-02 12:00:00")
        #expect(!first.isEmpty)
        let state = try temporary.allRows()
        // A later run, another timestamp: nothing to do, and timestamps are not bumped.
        #expect(try temporary.diff(mapped, at: "2025-10-09 06:00:00").isEmpty)
        #expect(try temporary.apply(mapped, at: "2025-10-09 06:00:00").isEmpty)
        #expect(try temporary.allRows() == state)
        // Re-mapping the same API document gives the same desired state.
        #expect(try MappedMeeting(fullMeeting()) == mapped)
        #expect(try temporary.diff(MappedMeeting(fullMeeting()), at: "2025-10-10 06:00:00").isEmpty)
    }

    @Test("only changed rows are touched: updated rows keep created_at and get the new updated_at")
    func minimalUpdate() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        try temporary.apply(try MappedMeeting(fullMeeting()), at: "2025-10-02 12:00:00")
        let changed = try MappedMeeting(
            fullMeeting {
                $0.meetingStatus = "Postponed"
                $0.witnessDocuments?[1].documentType = "Witness Supporting Document"
            })
        let mutations = try temporary.apply(changed, at: "2025-10-03 07:30:00")
        #expect(mutations.map(\.kind) == [.update, .update])
        #expect(mutations.map(\.table) == ["hearings", "witness_documents"])
        for mutation in mutations {
            let before = try #require(mutation.before)
            let after = try #require(mutation.after)
            #expect(after["created_at"] == before["created_at"])
            #expect(after["updated_at"] == "2025-10-03 07:30:00")
        }
        #expect(
            mutations[0].after.map { $0.differingColumns(from: mutations[0].before ?? RowImage([:])) } == [
                "status", "updated_at",
            ])
    }

    @Test("rows removed upstream are deleted; shared witnesses are kept")
    func removedUpstreamDeleted() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        try temporary.apply(try MappedMeeting(fullMeeting()))
        let witnessesBefore = try temporary.rows(Schema.witnesses)
        let trimmed = try MappedMeeting(
            fullMeeting {
                $0.committees?.removeLast()
                $0.witnesses?.remove(at: 1)
                $0.witnessDocuments?.remove(at: 1)
                $0.meetingDocuments?.removeLast()
                $0.hearingTranscript = []
            })
        let mutations = try temporary.apply(trimmed, at: "2025-10-03 07:30:00")
        #expect(mutations.of(Schema.hearingCommittees, .delete).count == 1)
        #expect(mutations.of(Schema.witnessAppearances, .delete).count == 1)
        #expect(mutations.of(Schema.witnessDocuments, .delete).count == 1)
        #expect(mutations.of(Schema.supportingDocuments, .delete).count == 1)
        #expect(mutations.of(Schema.hearingTranscripts, .delete).count == 1)
        #expect(mutations.of(Schema.witnesses).isEmpty)
        // The third witness moved up: its appearance is renumbered; the hearing loses its jacket number.
        #expect(mutations.of(Schema.witnessAppearances, .update).count == 1)
        let hearing = try #require(mutations.of(Schema.hearings, .update).first)
        #expect(hearing.after?["jacket_number"] == .null)
        #expect(try temporary.rows(Schema.witnesses) == witnessesBefore)
        #expect(try temporary.rows(Schema.witnessAppearances).map(\.["appearance_order"]) == [1, 2])
        #expect(try temporary.rows(Schema.hearingTranscripts).isEmpty)
        #expect(try temporary.foreignKeyViolations() == 0)
        // Deletes of children come first; appearance deletes last, after their documents.
        let firstNonDelete = try #require(mutations.firstIndex { $0.kind != .delete })
        #expect(mutations[..<firstNonDelete].allSatisfy { $0.table != Schema.witnessAppearances.name })
        #expect(mutations.last?.table == Schema.witnessAppearances.name && mutations.last?.kind == .delete)
        #expect(try temporary.diff(trimmed).isEmpty)
    }

    @Test("a meeting and all its child rows come as one mutation list, applied in one transaction")
    func meetingAndChildrenTogether() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        let mutations = try temporary.diff(try MappedMeeting(fullMeeting()))
        let counts = Dictionary(grouping: mutations, by: \.table).mapValues(\.count)
        #expect(
            counts == [
                "hearings": 1, "hearing_committees": 2, "witnesses": 3, "witness_appearances": 3,
                "witness_documents": 3,
                "supporting_documents": 2, "hearing_transcripts": 1,
            ])
        #expect(mutations.allSatisfy { $0.kind == .insert })
        // Witnesses before the hearing's children; the hearing before every row referencing it.
        let position = { (table: TableSchema) in mutations.firstIndex { $0.table == table.name } ?? -1 }
        #expect(position(Schema.witnesses) < position(Schema.hearings))
        #expect(position(Schema.hearings) < position(Schema.hearingCommittees))
        #expect(position(Schema.witnessAppearances) < position(Schema.witnessDocuments))
        // Every value is decided before apply: ids, timestamps, foreign keys.
        for mutation in mutations {
            let after = try #require(mutation.after)
            let table = try #require(Schema.table(named: mutation.table))
            #expect(Set(after.columns.keys) == Set(table.columns))
            #expect(after["created_at"] == .text(defaultTimestamp))
        }
        // One transaction: a failure anywhere leaves nothing behind.
        var broken = mutations
        broken.append(
            Mutation(
                kind: .insert, table: Schema.hearings, before: nil,
                after: RowImage(["hearing_id": 99, "event_id": "", "congress": 119])))
        #expect(throws: (any Error).self) {
            try temporary.store.queue.write { db in try Store.apply(broken, db) }
        }
        #expect(try temporary.rows(Schema.hearings).isEmpty)
        #expect(try temporary.rows(Schema.witnesses).isEmpty)
        try temporary.store.queue.write { db in try Store.apply(mutations, db) }
        #expect(try temporary.rows(Schema.witnessDocuments).allSatisfy { $0["appearance_id"] != .null })
    }

    @Test("an unknown committee is created from the meeting's reference, not rejected")
    func unknownCommitteeCreated() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        let meeting = try MappedMeeting(
            makeMeeting {
                $0.committees = [
                    CommitteeReference(systemCode: "hszz07", name: "Brand-new Subcommittee"),
                    CommitteeReference(systemCode: "hszz00", name: "Brand-new Committee"),
                    CommitteeReference(systemCode: "hsap31", name: "New Appropriations Subcommittee"),
                ]
            })
        let mutations = try temporary.apply(meeting)
        let created = mutations.of(Schema.committees, .insert).compactMap(\.after)
        #expect(created.map(\.["system_code"]) == ["hszz00", "hszz07", "hsap31"])
        let ids = Dictionary(
            uniqueKeysWithValues: try temporary.rows(Schema.committees).map {
                ($0["system_code"].text ?? "", $0)
            })
        let full = try #require(ids["hszz00"])
        #expect(
            full["type"] == "Standing" && full["parent_committee_id"] == .null && full["chamber"] == "House")
        #expect(ids["hszz07"]?["parent_committee_id"] == full["committee_id"])
        #expect(ids["hszz07"]?["type"] == "Subcommittee")
        #expect(ids["hsap31"]?["parent_committee_id"] == ids["hsap00"]?["committee_id"])
        #expect(try temporary.rows(Schema.hearingCommittees).count == 3)
        #expect(try temporary.diff(meeting).isEmpty)
        #expect(try temporary.foreignKeyViolations() == 0)
    }
}

@Suite("Diff: rules")
struct DiffRuleTests {
    @Test("one batch: meetings diffed before applying share new witnesses and committees")
    func batchSharesPendingRows() throws {
        let temporary = try TemporaryStore()
        let shared: (inout CommitteeMeeting) -> Void = {
            $0.committees = [CommitteeReference(systemCode: "hszz00", name: "New Committee")]
            $0.witnesses = [
                .init(name: "Dr. Jane Roe", position: "Professor", organization: "Oregon State University")
            ]
        }
        let first = try MappedMeeting(makeMeeting(eventId: "900001", shared))
        let second = try MappedMeeting(
            makeMeeting(eventId: "900002") {
                shared(&$0)
                $0.witnesses = [
                    .init(name: "Jane ROE", position: "Dean", organization: "Oregon State University")
                ]
            })
        let mutations = try temporary.apply([first, second])
        #expect(mutations.of(Schema.witnesses, .insert).count == 1)
        #expect(mutations.of(Schema.committees, .insert).count == 1)
        #expect(mutations.of(Schema.hearings, .insert).compactMap { $0.after?["hearing_id"] } == [1, 2])
        let appearances = try temporary.rows(Schema.witnessAppearances)
        #expect(appearances.map(\.["witness_id"]) == [1, 1])
        #expect(appearances.map(\.["position"]) == ["Professor", "Dean"])
        // The shared witness row is never rewritten by a meeting.
        #expect(try temporary.rows(Schema.witnesses).map(\.["title"]) == ["Professor"])
        #expect(try temporary.diff(second).isEmpty && temporary.diff(first).isEmpty)
    }

    @Test("a left-out item: restoring the allocator copy taken before it forgets the rows it would create")
    func allocatorRestore() throws {
        let temporary = try TemporaryStore()
        let witness = CommitteeMeeting.Witness(name: "Dr. Jane Roe", organization: "Oregon State University")
        let rejected = try MappedMeeting(
            makeMeeting(eventId: "900001") {
                $0.committees = [CommitteeReference(systemCode: "hszz00", name: "New")]
                $0.witnesses = [witness]
            })
        let kept = try MappedMeeting(makeMeeting(eventId: "900002") { $0.witnesses = [witness] })
        let differ = try MeetingDiffer(timestamp: defaultTimestamp)
        let mutations = try temporary.store.queue.write { db in
            var allocator = RowIDAllocator()
            let saved = allocator
            _ = try differ.mutations(for: rejected, in: db, allocator: &allocator)
            #expect(allocator.createdWitnesses.count == 1 && allocator.createdCommittees.count == 1)
            allocator = saved  // the first meeting is left out of the batch
            let mutations = try differ.mutations(for: kept, in: db, allocator: &allocator)
            try Store.apply(mutations, db)
            return mutations
        }
        #expect(mutations.of(Schema.witnesses, .insert).count == 1)
        #expect(mutations.of(Schema.hearings, .insert).first?.after?["hearing_id"] == 1)
        #expect(try temporary.foreignKeyViolations() == 0)
    }

    @Test("witness documents are re-linked when the witness list changes")
    func documentRelinked() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        // First seen without Ms. Shepherd: her biography belongs to nobody yet.
        let early = try MappedMeeting(fullMeeting { $0.witnesses?.remove(at: 1) })
        try temporary.apply(early)
        #expect(
            try temporary.rows(Schema.witnessDocuments).map { $0["appearance_id"] == .null } == [
                false, true, false,
            ])
        let mutations = try temporary.apply(try MappedMeeting(fullMeeting()), at: "2025-10-03 07:30:00")
        #expect(mutations.of(Schema.witnessDocuments, .update).count == 1)
        let documents = try temporary.rows(Schema.witnessDocuments)
        #expect(documents.allSatisfy { $0["appearance_id"] != .null })
        // And back: her appearance goes, her document is unlinked before the appearance is deleted.
        let back = try temporary.apply(early, at: "2025-10-04 07:30:00")
        let unlink = try #require(back.firstIndex { $0.table == Schema.witnessDocuments.name })
        let delete = try #require(
            back.firstIndex { $0.table == Schema.witnessAppearances.name && $0.kind == .delete })
        #expect(unlink < delete)
        #expect(try temporary.foreignKeyViolations() == 0)
    }

    @Test("applying then inverting restores the exact previous rows")
    func inverseRestores() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        try temporary.apply(try MappedMeeting(fullMeeting()))
        let before = try temporary.allRows()
        let checksum = try temporary.checksum()
        let changed = try MappedMeeting(
            fullMeeting {
                $0.witnesses?.remove(at: 0)
                $0.witnesses?.append(
                    .init(name: "Corey Hinton", position: "Citizen", organization: "Passamaquoddy Tribe"))
                $0.committees = [CommitteeReference(systemCode: "hszz00", name: "New")]
                $0.hearingTranscript = [.init(jacketNumber: 61000)]
                $0.meetingStatus = "Canceled"
            })
        let mutations = try temporary.apply(changed, at: "2025-10-03 07:30:00")
        #expect(try temporary.checksum() == checksum.applying(mutations))
        try temporary.store.queue.write { db in try Store.apply(mutations.inverse, db) }
        #expect(try temporary.allRows() == before)
        #expect(try temporary.checksum() == checksum)
    }

    @Test("committee list: parents first, changes update, unchanged lists do nothing")
    func committeeDiffer() throws {
        let temporary = try TemporaryStore()
        var committees = try sampleCommittees()
        committees.reverse()  // subcommittees now come before their parents
        let first = try temporary.loadCommittees(committees)
        #expect(first.count == 214 && first.allSatisfy { $0.kind == .insert })
        var position: [String: Int] = [:]
        for (index, mutation) in first.enumerated() {
            position[mutation.after?["system_code"].text ?? ""] = index
        }
        for committee in committees {
            guard let parent = committee.parentSystemCode else { continue }
            #expect(try #require(position[parent]) < #require(position[committee.systemCode]))
        }
        #expect(try temporary.loadCommittees(committees, at: "2025-10-09 00:00:00").isEmpty)
        let index = try #require(committees.firstIndex { $0.systemCode == "hsap06" })
        committees[index].name = "Interior Subcommittee (renamed)"
        let renamed = try temporary.loadCommittees(committees, at: "2025-10-09 00:00:00")
        #expect(renamed.count == 1 && renamed[0].kind == .update)
        #expect(renamed[0].after?["updated_at"] == "2025-10-09 00:00:00")
        #expect(renamed[0].after?["created_at"] == .text(defaultTimestamp))
        #expect(try temporary.foreignKeyViolations() == 0)
    }

    @Test("timestamps must be YYYY-MM-DD HH:MM:SS")
    func timestampValidated() {
        for bad in [
            "2025-10-02T12:00:00", "2025-10-02 12:00", "2025-02-30 12:00:00", "2025-10-02 24:00:00", "",
        ] {
            #expect(throws: DiffError.self) { try MeetingDiffer(timestamp: bad) }
            #expect(throws: DiffError.self) { try CommitteeDiffer(timestamp: bad) }
        }
        #expect(throws: Never.self) { try MeetingDiffer(timestamp: "2025-10-02 12:00:00") }
    }

    @Test("the allocator hands out ids from Store.nextRowID and never reuses a deleted id")
    func allocator() throws {
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        try temporary.apply(try MappedMeeting(fullMeeting()))
        try temporary.apply(try MappedMeeting(fullMeeting { $0.hearingTranscript = [] }))
        let ids = try temporary.store.queue.read { db in
            var allocator = RowIDAllocator()
            return [
                try allocator.next(for: Schema.hearingTranscripts, db),
                try allocator.next(for: Schema.hearingTranscripts, db),
                try allocator.next(for: Schema.hearings, db),
            ]
        }
        #expect(ids == [2, 3, 2])
    }
}
