import Foundation
import Store
import Testing

@testable import Congress

// MARK: - Predecessor bugs (DESIGN §2) that belong to mapping

@Suite("Mapping: predecessor bugs")
struct MappingPredecessorBugTests {
    @Test("status comes from meetingStatus: Canceled, Postponed and Rescheduled survive")
    func statusFromMeetingStatus() throws {
        let temporary = try TemporaryStore()
        for (index, status) in ["Scheduled", "Canceled", "Postponed", "Rescheduled"].enumerated() {
            let mapped = try MappedMeeting(
                makeMeeting(eventId: "90000\(index)") { $0.meetingStatus = status })
            #expect(mapped.hearing.status == status)
            try temporary.apply(mapped)
        }
        let stored = try temporary.rows(Schema.hearings).map { $0["status"].text ?? "" }.sorted()
        #expect(stored == ["Canceled", "Postponed", "Rescheduled", "Scheduled"])
        // Letter case is normalised to the table's spelling.
        #expect(try MappedMeeting(makeMeeting { $0.meetingStatus = "canceled" }).hearing.status == "Canceled")
    }

    @Test("an unknown or missing status is a mapping error naming the meeting and the field")
    func unknownStatusRejected() throws {
        let error = try #require(throws: MappingError.self) {
            try MappedMeeting(makeMeeting(eventId: "117214") { $0.meetingStatus = "Tentative" })
        }
        #expect(error.eventId == "117214")
        #expect(error.fields == ["meetingStatus"])
        #expect(
            error.description
                == "meeting 117214: field \"meetingStatus\": expected Scheduled, Canceled, Postponed or "
                + "Rescheduled, found \"Tentative\"")
        let missing = try #require(throws: MappingError.self) {
            try MappedMeeting(makeMeeting { $0.meetingStatus = nil })
        }
        #expect(missing.issues == [MappingError.Issue(field: "meetingStatus", problem: "missing")])
    }

    @Test("hearing_type comes from type; anything else is a mapping error")
    func typeFromType() throws {
        for type in ["Hearing", "Meeting", "Markup"] {
            #expect(try MappedMeeting(makeMeeting { $0.type = type }).hearing.hearingType == type)
        }
        let error = try #require(throws: MappingError.self) {
            try MappedMeeting(makeMeeting { $0.type = "Briefing" })
        }
        #expect(error.fields == ["type"])
    }

    @Test("date and time are kept in UTC, in both API date forms, and survive an update")
    func dateAndTimeKeptUTC() throws {
        let zulu = try MappedMeeting(makeMeeting { $0.date = CongressDate.parse("2025-03-24T13:00:00Z") })
        #expect(zulu.hearing.hearingDate == "2025-03-24")
        #expect(zulu.hearing.hearingDateOnly == "2025-03-24")
        #expect(zulu.hearing.hearingTime == "13:00:00")
        let offset = try MappedMeeting(
            makeMeeting { $0.date = CongressDate.parse("2025-03-24 13:00:00+00:00") })
        #expect(offset.hearing == zulu.hearing)
        // 21:30 in Washington (UTC-4) is 01:30 the next day in UTC.
        let evening = try MappedMeeting(
            makeMeeting { $0.date = CongressDate.parse("2025-03-24T21:30:00-04:00") })
        #expect(evening.hearing.hearingDate == "2025-03-25")
        #expect(evening.hearing.hearingTime == "01:30:00")
        #expect(evening.hearing.updateDate == "2025-03-20 09:15:00")

        // The predecessor set the time to NULL on update: a title change keeps date and time.
        let temporary = try TemporaryStore()
        try temporary.apply(zulu)
        let retitled = try MappedMeeting(
            makeMeeting {
                $0.date = CongressDate.parse("2025-03-24T13:00:00Z")
                $0.title = "Oversight of Widgets, Part II"
            })
        let mutations = try temporary.apply(retitled, at: "2025-10-03 06:00:00")
        #expect(mutations.count == 1)
        #expect(
            mutations[0].before.map { mutations[0].after?.differingColumns(from: $0) } == [
                "title", "updated_at",
            ])
        let row = try #require(try temporary.rows(Schema.hearings).first)
        #expect(row["hearing_date"] == "2025-03-24")
        #expect(row["hearing_date_only"] == "2025-03-24")
        #expect(row["hearing_time"] == "13:00:00")
    }

    @Test("a malformed date is a mapping error; an absent date leaves the columns NULL")
    func malformedDate() throws {
        let error = try #require(throws: MappingError.self) {
            try MappedMeeting(
                makeMeeting {
                    $0.date = nil
                    $0.rawDate = "tomorrow"
                })
        }
        #expect(error.fields == ["date"])
        let undated = try MappedMeeting(
            makeMeeting {
                $0.date = nil
                $0.rawDate = nil
            })
        #expect(undated.hearing.hearingDate == nil && undated.hearing.hearingTime == nil)
    }

    @Test("location is rendered from room and building, or from the address")
    func locationRendered() throws {
        typealias Location = CommitteeMeeting.Location
        let cases: [(Location, String?)] = [
            (
                Location(room: "2358-A", building: "Rayburn House Office Building"),
                "2358-A Rayburn House Office Building"
            ),
            (
                Location(room: "SD-562", building: "Dirksen Senate Office Building"),
                "SD-562 Dirksen Senate Office Building"
            ),
            (Location(room: "WEBEX", building: "----------"), "WEBEX"),
            (
                Location(
                    address: .init(
                        street: "1664 North Virginia Street", city: "Reno", state: "NV", zipCode: "89557")),
                "1664 North Virginia Street, Reno, NV 89557"
            ),
            (Location(address: .init(city: "Laramie", state: "WY")), "Laramie, WY"),
            (Location(room: " ", building: ""), nil),
        ]
        for (location, expected) in cases {
            #expect(try MappedMeeting(makeMeeting { $0.location = location }).hearing.location == expected)
        }
        #expect(try MappedMeeting(makeMeeting { $0.location = nil }).hearing.location == nil)
    }

    @Test("the jacket number is read from hearingTranscript[].jacketNumber")
    func jacketNumberRead() throws {
        let url = "https://api.congress.gov/v3/hearing/119/house/60933?format=json"
        let mapped = try MappedMeeting(
            makeMeeting {
                $0.hearingTranscript = [
                    .init(jacketNumber: 60933, url: url), .init(jacketNumber: 60934),
                    .init(jacketNumber: 60933),
                ]
            })
        #expect(mapped.hearing.jacketNumber == "60933")
        #expect(
            mapped.transcripts == [
                .init(jacketNumber: "60933", documentURL: url),
                .init(jacketNumber: "60934", documentURL: nil),
            ])
        let temporary = try TemporaryStore()
        try temporary.apply(mapped)
        #expect(try temporary.rows(Schema.hearings)[0]["jacket_number"] == .text("60933"))
        let transcripts = try temporary.rows(Schema.hearingTranscripts)
        #expect(transcripts.map(\.["jacket_number"]) == [.text("60933"), .text("60934")])
        #expect(transcripts[0]["document_url"] == .text(url))
        #expect(transcripts[0]["title"] == .null && transcripts[0]["pdf_url"] == .null)
    }

    @Test("witness document types are stored exactly as the API sends them")
    func witnessDocumentTypesExact() throws {
        let types = [
            "Witness Statement", "Witness Biography", "Witness Truth in Testimony",
            "Witness Supporting Document",
        ]
        let kinds = ["Wstate", "Wbio", "Wtruth", "Wsupp"]
        let mapped = try MappedMeeting(
            makeMeeting {
                $0.witnesses = [
                    .init(
                        name: "Mr. Steven Orihuela", position: "Chairman", organization: "Bishop Paiute Tribe"
                    )
                ]
                $0.witnessDocuments = zip(types, kinds).map { type, kind in
                    .init(
                        documentType: type, format: "PDF",
                        url: witnessFileURL("900001", kind: kind, token: "OrihuelaS"))
                }
                $0.meetingDocuments = [
                    .init(
                        name: "Hearing Notice", description: "", documentType: "Support Document ",
                        format: "PDF",
                        url:
                            "https://www.congress.gov/119/meeting/house/900001/documents/HHRG-119-AP06-20250324-SD001.pdf"
                    )
                ]
            })
        let temporary = try TemporaryStore()
        try temporary.apply(mapped)
        let documents = try temporary.rows(Schema.witnessDocuments)
        #expect(documents.map { $0["document_type"].text ?? "" } == types)
        #expect(documents.allSatisfy { $0["title"] == .null && $0["format_type"] == "PDF" })
        #expect(Set(documents.map(\.["appearance_id"])).count == 1)
        #expect(documents[0]["appearance_id"] != .null)
        let supporting = try #require(try temporary.rows(Schema.supportingDocuments).first)
        #expect(supporting["document_type"] == "Support Document ")
        #expect(supporting["title"] == "Hearing Notice")
        #expect(supporting["description"] == .null)
    }

    @Test("honorifics are stripped from first and last name but kept in the full name")
    func honorificsStripped() throws {
        let cases: [(String, String?, String)] = [
            ("Mr. Thomas DiNanno", "Thomas", "DiNanno"),
            ("Ms. Stacy Shepherd", "Stacy", "Shepherd"),
            ("The Honorable John Williams", "John", "Williams"),
            ("Dr. Kristen Holmes, Ph.D.", "Kristen", "Holmes"),
            ("MRS. Jane Roe", "Jane", "Roe"),
            ("Rear Admiral Lower Half Paul Spedero, Jr.", "Paul", "Spedero"),
            ("Chief Master Sergeant John Bentivegna", "John", "Bentivegna"),
            ("Lt. Gen. Jane Doe", "Jane", "Doe"),
            ("Hon. Prof. Ann Smith", "Ann", "Smith"),
            ("Ambassador Gina Abercrombie-Winstanley", "Gina", "Abercrombie-Winstanley"),
            ("Chief Allen", nil, "Allen"),
            ("Edward R. Reese, Jr.", "Edward", "Reese"),
            ("John Murphy III", "John", "Murphy"),
            ("Ben Carson M.D.", "Ben", "Carson"),
            ("David Cole, Esq.", "David", "Cole"),
            ("Bradley \"Scott\" Dane", "Bradley", "Dane"),
            ("Robert (Bob) Thompson", "Robert", "Thompson"),
            ("Mr. Frank Star Comes Out", "Frank", "Star Comes Out"),
            ("Derrick Van Orden", "Derrick", "Van Orden"),
            ("Paul L. Mimms", "Paul", "Mimms"),
            ("  Mr. Cher  ", nil, "Cher"),
        ]
        for (apiName, first, last) in cases {
            let name = try #require(WitnessName(apiName))
            #expect(name.firstName == first, "\(apiName)")
            #expect(name.lastName == last, "\(apiName)")
            #expect(name.fullName == apiName.trimmingCharacters(in: .whitespaces))
        }
        #expect(WitnessName("   ") == nil)

        let temporary = try TemporaryStore()
        try temporary.apply(
            MappedMeeting(
                makeMeeting {
                    $0.witnesses = [
                        .init(
                            name: "Mr. Thomas DiNanno", position: "Under Secretary",
                            organization: "U.S. Department of State")
                    ]
                }))
        let witness = try #require(try temporary.rows(Schema.witnesses).first)
        #expect(witness["first_name"] == "Thomas")
        #expect(witness["last_name"] == "DiNanno")
        #expect(witness["full_name"] == "Mr. Thomas DiNanno")
        #expect(witness["title"] == "Under Secretary")
        #expect(witness["identity_key"] == "thomas dinanno|us department of state")
        // The predecessor nulled the witness type.
        let appearance = try #require(try temporary.rows(Schema.witnessAppearances).first)
        #expect(appearance["witness_type"] == "Government")
        #expect(appearance["position"] == "Under Secretary")
        #expect(appearance["appearance_order"] == 1)
    }

    @Test("committee links: the first listed is primary, the others are not")
    func committeePrimary() throws {
        let mapped = try MappedMeeting(
            makeMeeting {
                $0.committees = [
                    CommitteeReference(systemCode: "hswm06", name: "Health Subcommittee"),
                    CommitteeReference(systemCode: "hswm03", name: "Work and Welfare Subcommittee"),
                    CommitteeReference(systemCode: "hswm06", name: "Health Subcommittee"),
                ]
            })
        #expect(mapped.committees.map(\.systemCode) == ["hswm06", "hswm03"])
        #expect(mapped.committees.map(\.isPrimary) == [true, false])
        let temporary = try TemporaryStore()
        try temporary.loadCommittees(try sampleCommittees())
        try temporary.apply(mapped)
        let codes = Dictionary(
            uniqueKeysWithValues: try temporary.rows(Schema.committees).map {
                ($0["committee_id"], $0["system_code"])
            })
        let links = try temporary.rows(Schema.hearingCommittees)
        #expect(
            Set(links.map { "\(codes[$0["committee_id"]]?.text ?? "")=\($0["is_primary"])" }) == [
                "hswm06=1", "hswm03=0",
            ])
    }
}

// MARK: - Rules

@Suite("Mapping: rules")
struct MappingRuleTests {
    @Test("URLs: the API URL and the Congress.gov event page with the right ordinal")
    func urls() throws {
        let mapped = try MappedMeeting(makeMeeting(eventId: "117214"))
        #expect(
            mapped.hearing.url == "https://api.congress.gov/v3/committee-meeting/119/house/117214?format=json"
        )
        #expect(
            mapped.hearing.congressGovURL
                == "https://www.congress.gov/event/119th-Congress/house-event/117214")
        let senate = try MappedMeeting(
            makeMeeting(eventId: "336507") {
                $0.chamber = .senate
                $0.congress = 121
            })
        #expect(
            senate.hearing.congressGovURL
                == "https://www.congress.gov/event/121st-Congress/senate-event/336507")
        #expect(
            senate.hearing.url
                == "https://api.congress.gov/v3/committee-meeting/121/senate/336507?format=json")
        let ordinals = [111, 112, 113, 119, 121, 122, 123, 124, 101, 102, 103].map(MappedHearing.ordinal)
        #expect(
            ordinals == [
                "111th", "112th", "113th", "119th", "121st", "122nd", "123rd", "124th", "101st", "102nd",
                "103rd",
            ])
    }

    @Test("the sample's video URLs are the event pages the mapping computes")
    func videoURLsAgree() throws {
        var checked = 0
        for (_, entry) in try sampleDay("day-1") {
            let mapped = try MappedMeeting(entry.meeting)
            for video in entry.meeting.videos ?? [] {
                #expect(video.url == mapped.hearing.congressGovURL)
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    @Test("an empty title is a mapping error, as for the damaged Senate rows")
    func emptyTitleRejected() throws {
        let error = try #require(throws: MappingError.self) {
            try MappedMeeting(
                makeMeeting(eventId: "336563") {
                    $0.title = ""
                    $0.date = nil
                    $0.rawDate = nil
                })
        }
        #expect(error.description == "meeting 336563: field \"title\": empty")
    }

    @Test("every wrong field is named in one error")
    func allIssuesCollected() throws {
        let error = try #require(throws: MappingError.self) {
            try MappedMeeting(
                makeMeeting {
                    $0.type = nil
                    $0.meetingStatus = "Done"
                    $0.committees = [CommitteeReference(name: "No code")]
                    $0.witnesses = [.init(name: " ")]
                    $0.witnessDocuments = [.init(documentType: "", format: "PDF", url: nil)]
                    $0.meetingDocuments = [.init(name: "Notice", documentType: "Support Document", url: "")]
                    $0.hearingTranscript = [.init(jacketNumber: nil, url: "https://example.org")]
                })
        }
        #expect(
            error.fields == [
                "meetingStatus", "type", "committees[0].systemCode", "witnesses[0].name",
                "witnessDocuments[0].url",
                "witnessDocuments[0].documentType", "meetingDocuments[0].url",
                "hearingTranscript[0].jacketNumber",
            ])
    }

    @Test("witnesses keep API order and are numbered 1…n; a witness listed twice counts once")
    func witnessOrder() throws {
        let mapped = try MappedMeeting(
            makeMeeting {
                $0.witnesses = [
                    .init(
                        name: "Ms. Audrey Lee", position: "Second Chief", organization: "Sac and Fox Nation"),
                    .init(name: "Mike Natchees", position: "Councilman", organization: "Ute Indian Tribe"),
                    .init(name: "Audrey  LEE", position: "Chief", organization: "Sac and Fox Nation"),
                    .init(name: "Corey Hinton", position: "Citizen", organization: nil),
                ]
            })
        #expect(mapped.witnesses.map(\.name.lastName) == ["Lee", "Natchees", "Hinton"])
        #expect(mapped.witnesses.map(\.appearanceOrder) == [1, 2, 3])
        #expect(mapped.witnesses.map(\.witnessType) == [.government, .government, nil])
        #expect(mapped.witnesses[2].identityKey == "corey hinton|")
    }

    @Test("witness identity folds case, spacing, diacritics, honorifics and suffixes")
    func witnessIdentity() throws {
        func key(_ name: String, _ organization: String?) throws -> String {
            WitnessIdentity.key(name: try #require(WitnessName(name)), organization: organization)
        }
        let reference = try key("Dr. José Núñez, Ph.D.", "U.S. Dept. of State")
        #expect(reference == "jose nunez|us dept of state")
        #expect(try key("Jose  NUNEZ", "US Dept of State") == reference)
        #expect(try key("The Honorable José Núñez Jr.", "u.s. dept. of state") == reference)
        #expect(try key("José Núñez", "Department of State") != reference)
        #expect(try key("José A. Núñez", "U.S. Dept. of State") != reference)
        #expect(try key("Søren O’Brien", nil) == "soren obrien|")
    }

    @Test("witness type: documented rule on the organisation")
    func witnessTypeRule() {
        let cases: [(String?, WitnessType?)] = [
            (nil, nil), ("", nil), (" - ", nil),
            ("Harvard Law School", .academic), ("Mercatus Center at George Mason University", .academic),
            ("Department of Economics, Stanford University", .academic),
            ("Cooley LLP", .privateSector), ("23andMe, Inc.", .privateSector),
            ("Synovus Bank", .privateSector),
            ("Microsoft", .privateSector), ("Epic Systems", .privateSector),
            ("The Heritage Foundation", .nonprofit), ("American Gas Association", .nonprofit),
            ("Foundation for Government Accountability", .nonprofit),
            ("U.S. Chamber of Commerce", .nonprofit),
            ("American Enterprise Institute", .nonprofit), ("Americans for Prosperity", .nonprofit),
            ("U.S. Government Accountability Office", .government), ("Department of the Navy", .government),
            ("United States Marine Corps", .government), ("State of New York", .government),
            ("Choctaw Nation of Oklahoma", .government), ("Congressional Research Service", .government),
            ("Miami Dade Sheriff's Office", .government), ("Transparency International US", .privateSector),
            ("Defense Support Services Center, Department of Defense", .government),
        ]
        for (organization, expected) in cases {
            #expect(WitnessType.classify(organization: organization) == expected, "\(organization ?? "nil")")
        }
    }

    @Test("witness documents link to the witness named in the file name")
    func documentLinking() throws {
        let names = try [
            "Mike Natchees", "Chief Allen", "Ms. Kathleen Wooden Knife", "Mr. Frank Star Comes Out",
            "John Smith",
            "Jane Smith", "Jim Smith", "Daveed Gartenstein-Ross, Phd",
        ].map { try #require(WitnessName($0)) }
        func owner(_ token: String) -> Int? {
            WitnessDocumentFile(url: witnessFileURL("1", kind: "Wstate", token: token))?.match(in: names)
        }
        #expect(owner("NatcheesM") == 0)
        #expect(owner("natcheesm") == 0)
        #expect(owner("AllenA") == 1)
        #expect(owner("KnifeK") == 2)
        #expect(owner("WoodenKnifeK") == 2)
        #expect(owner("OutF") == 3)
        #expect(owner("StarComesOutF") == 3)
        #expect(owner("SmithJ") == 4)
        #expect(owner("SmithJ2") == 5)
        #expect(owner("SmithJ3") == 6)
        #expect(owner("SmithJ4") == nil)
        #expect(owner("Gartenstein-RossD") == 7)
        #expect(owner("NobodyX") == nil)
        #expect(
            WitnessDocumentFile(
                url: "https://www.congress.gov/119/meeting/house/1/documents/HHRG-119-AP06-20250324-SD001.pdf"
            ) == nil)
        let parsed = try #require(
            WitnessDocumentFile(url: witnessFileURL("1", kind: "Wtruth", token: "NatcheesM") + "?x=1"))
        #expect(parsed.surname == "natchees" && parsed.initial == "m" && parsed.ordinal == 1)
    }

    @Test("a witness document naming no listed witness keeps appearance_id NULL but belongs to its meeting")
    func unmatchedDocument() throws {
        let mapped = try MappedMeeting(
            makeMeeting {
                $0.witnesses = [.init(name: "Mike Natchees", organization: "Ute Indian Tribe")]
                $0.witnessDocuments = [
                    .init(
                        documentType: "Witness Statement", format: "PDF",
                        url: witnessFileURL("900001", kind: "Wstate", token: "NatcheesM")),
                    .init(
                        documentType: "Witness Statement", format: "PDF",
                        url: witnessFileURL("900001", kind: "Wstate", token: "DoeJ")),
                    .init(
                        documentType: "Witness Biography", format: "PDF",
                        url: witnessFileURL("900001", kind: "Wstate", token: "DoeJ")),
                ]
            })
        #expect(mapped.witnessDocuments.map(\.witnessIdentityKey) == ["mike natchees|ute indian tribe", nil])
        let temporary = try TemporaryStore()
        try temporary.apply(mapped)
        let documents = try temporary.rows(Schema.witnessDocuments)
        #expect(documents.map { $0["appearance_id"] == .null } == [false, true])
        #expect(documents.allSatisfy { $0["hearing_id"] == 1 })
    }

    @Test("committee rows from the committee list and the fallback from a bare reference")
    func committeeRows() throws {
        let item = CommitteeListItem(
            systemCode: "hsap06", name: "Interior Subcommittee", chamber: "House",
            committeeTypeCode: "Subcommittee",
            url: "https://api.congress.gov/v3/committee/house/hsap06?format=json",
            parent: CommitteeReference(systemCode: "hsap00", name: "Appropriations Committee"))
        let mapped = try MappedCommittee(item, congress: 119)
        #expect(mapped.parentSystemCode == "hsap00" && mapped.isCurrent && mapped.congress == 119)
        #expect(mapped.type == "Subcommittee" && mapped.chamber == "House")
        let error = try #require(throws: MappingError.self) {
            try MappedCommittee(
                CommitteeListItem(
                    systemCode: "hsxx00", name: "X", chamber: "Moon", committeeTypeCode: "Gang"),
                congress: 119)
        }
        #expect(error.item == "committee hsxx00")
        #expect(error.fields == ["chamber", "committeeTypeCode"])

        let meeting = makeMeeting { $0.chamber = .senate }
        let sub = try #require(
            MappedCommittee.fallback(
                for: CommitteeReference(systemCode: "ssxx07", name: "New Sub"), meeting: meeting))
        #expect(sub.type == "Subcommittee" && sub.parentSystemCode == "ssxx00" && sub.chamber == "Senate")
        let full = try #require(
            MappedCommittee.fallback(for: CommitteeReference(systemCode: "ssxx00"), meeting: meeting))
        #expect(full.type == "Standing" && full.parentSystemCode == nil && full.name == "ssxx00")
        let joint = try #require(
            MappedCommittee.fallback(
                for: CommitteeReference(systemCode: "jsxx00", name: "J"), meeting: meeting))
        #expect(joint.chamber == "Joint")
        #expect(MappedCommittee.fallback(for: CommitteeReference(systemCode: " "), meeting: meeting) == nil)
    }

    @Test("text folding")
    func folding() {
        #expect(TextFolding.fold("  Ñúñez-García,  U.S.  Dept. ") == "nunez garcia us dept")
        #expect(TextFolding.fold("Straße Ærø Łódź") == "strasse aero lodz")
        #expect(TextFolding.lettersOnly("Gartenstein-Ross") == "gartensteinross")
        #expect(TextFolding.fold("İstanbul") == "istanbul")
    }

    @Test("ASCII folding byte by byte equals the general folding")
    func asciiFolding() throws {
        // Every ASCII character alone, between letters, and doubled; then random ASCII strings.
        for value in 0..<128 {
            let character = String(UnicodeScalar(UInt8(value)))
            for text in [
                character, "a" + character + "B", "A" + character + character + "9", character + "x.",
            ] {
                #expect(TextFolding.foldASCII(text) == TextFolding.foldUnicode(text), "\(Array(text.utf8))")
            }
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8((state >> 33) % 128))
            }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(TextFolding.foldASCII(text) == TextFolding.foldUnicode(text), "\(bytes)")
        }
        #expect(TextFolding.foldASCII("Ñ") == nil)
    }
}
