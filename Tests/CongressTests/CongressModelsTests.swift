import Foundation
import Testing

@testable import Congress

// MARK: - Helpers

/// Decodes a detail response from inline JSON.
private func decodeDetail(_ json: String, source: String = "test.json") throws
    -> CommitteeMeetingDetailResponse
{
    try CommitteeMeetingDetailResponse.decode(from: Data(json.utf8), source: source)
}

/// The error thrown while decoding `json` as a detail response, or nil when it decodes.
private func detailError(_ json: String, source: String = "test.json") -> CongressDecodingError? {
    do {
        _ = try decodeDetail(json, source: source)
        return nil
    } catch let error as CongressDecodingError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// A detail response whose identity fields are given as raw JSON text (nil leaves the key out).
private func meetingJSON(
    eventId: String? = "\"117214\"",
    chamber: String? = "\"House\"",
    congress: String? = "119",
    extra: String = ""
) -> String {
    var members: [String] = []
    if let eventId { members.append("\"eventId\": \(eventId)") }
    if let chamber { members.append("\"chamber\": \(chamber)") }
    if let congress { members.append("\"congress\": \(congress)") }
    if !extra.isEmpty { members.append(extra) }
    return "{\"committeeMeeting\": {\(members.joined(separator: ", "))}}"
}

private func utc(_ text: String) throws -> Date {
    try #require(CongressDate.parse(text)).date
}

// MARK: - OpenAPI example shapes

/// The `CommitteeMeetingDetail` schema's example values, with the spec's lowercase `eventid`.
private let openAPIDetailExample = """
    {
      "committeeMeeting": {
        "chamber": "House",
        "committees": [
          {
            "name": "Investigations and Oversight Subcommittee",
            "systemCode": "hspw01",
            "url": "https://api.congress.gov/v3/committee/house/hspw01?format=json"
          }
        ],
        "congress": 117,
        "date": "2022-08-01T04:44:57Z",
        "eventid": "115538",
        "hearingTranscript": [],
        "location": {"building": "Longworth House Office Building", "room": "1234"},
        "meetingDocuments": [
          {
            "description": "",
            "documentType": "Support Document ",
            "format": "PDF",
            "name": "Hearing Notice",
            "url": "https://www.congress.gov/118/meeting/house/115538/documents/HHRG-118-II24-20230324-SD001.pdf"
          }
        ],
        "meetingStatus": "Scheduled",
        "relatedItems": [{"bills": [], "nominations": [], "treaties": []}],
        "title": "Legislative hearing on: •\\tH.R. 1246 (Rep. Hageman)\\r\\n•\\tH.R. 1532 (Rep. Hageman)",
        "type": "Hearing",
        "updateDate": "2022-08-01T04:44:57Z",
        "videos": [
          {
            "name": "Legislative Hearing on H.R. 1246 and H.R. 1532 | Indian and Insular Affairs Subcommittee",
            "url": "https://www.congress.gov/event/118th-Congress/house-event/115538"
          }
        ],
        "witnessDocuments": [
          {
            "documentType": "Witness Statement",
            "format": "PDF",
            "url": "https://www.congress.gov/118/meeting/house/115538/witnesses/HHRG-118-II24-Wstate-NewlandB-20230324.pdf"
          }
        ],
        "witnesses": [
          {
            "name": "The Honorable John Williams",
            "organization": "United Auburn Rancheria",
            "position": "Vice Chairman"
          }
        ]
      }
    }
    """

/// A detail response in the live API's shape (camelCase `eventId`, the `request` echo, a transcript).
private let liveDetailExample = """
    {
      "committeeMeeting": {
        "chamber": "House",
        "committees": [
          {
            "name": "House Natural Resources Subcommittee on Indian and Insular Affairs",
            "systemCode": "hsii24",
            "url": "https://api.congress.gov/v3/committee/house/hsii24?format=json"
          }
        ],
        "congress": 118,
        "date": "2023-03-24 13:00:00+00:00",
        "eventId": "115538",
        "hearingTranscript": [
          {"jacketNumber": 51758, "url": "https://api.congress.gov/v3/hearing/118/house/51758?format=json"}
        ],
        "location": {"building": "Longworth House Office Building", "room": "1324"},
        "meetingDocuments": [],
        "meetingStatus": "Scheduled",
        "relatedItems": {
          "bills": [{"congress": 118, "number": "1532", "type": "HR", "url": "https://api.congress.gov/v3/bill/118/hr/1532?format=json"}],
          "nominations": [],
          "treaties": []
        },
        "title": "Legislative hearing on H.R. 1246 and H.R. 1532",
        "type": "Hearing",
        "updateDate": "2023-03-27 18:11:19+00:00",
        "videos": {"item": [{"name": "Hearing video", "url": "https://www.congress.gov/committees/video/x"}]},
        "witnessDocuments": [
          {"documentType": "Witness Truth in Testimony", "format": "PDF", "url": "https://www.congress.gov/a.pdf"}
        ],
        "witnesses": [
          {"name": "Mr. Thomas DiNanno", "organization": "U.S. Department of Homeland Security", "position": "Assistant Administrator"}
        ]
      },
      "request": {
        "chamber": "house",
        "congress": "118",
        "contentType": "application/json",
        "eventId": "115538",
        "format": "json"
      }
    }
    """

@Suite("Committee meeting detail")
struct CommitteeMeetingDetailTests {
    @Test("decodes the OpenAPI CommitteeMeetingDetail example")
    func openAPIExample() throws {
        let meeting = try decodeDetail(openAPIDetailExample).committeeMeeting
        #expect(meeting.eventId == "115538")
        #expect(meeting.chamber == .house)
        #expect(meeting.congress == 117)
        #expect(meeting.type == "Hearing")
        #expect(meeting.meetingStatus == "Scheduled")
        #expect(meeting.title?.hasPrefix("Legislative hearing on: •\tH.R. 1246") == true)
        #expect(meeting.date?.iso8601UTC == "2022-08-01T04:44:57Z")
        #expect(meeting.rawDate == "2022-08-01T04:44:57Z")
        #expect(meeting.updateDate?.iso8601UTC == "2022-08-01T04:44:57Z")
        #expect(
            meeting.location
                == CommitteeMeeting.Location(room: "1234", building: "Longworth House Office Building"))
        #expect(
            meeting.committees == [
                CommitteeReference(
                    systemCode: "hspw01",
                    name: "Investigations and Oversight Subcommittee",
                    url: "https://api.congress.gov/v3/committee/house/hspw01?format=json"
                )
            ]
        )
        #expect(meeting.meetingDocuments?.first?.documentType == "Support Document ")
        #expect(meeting.meetingDocuments?.first?.description == "")
        #expect(meeting.meetingDocuments?.first?.name == "Hearing Notice")
        #expect(meeting.witnesses?.first?.name == "The Honorable John Williams")
        #expect(meeting.witnesses?.first?.position == "Vice Chairman")
        #expect(meeting.witnesses?.first?.organization == "United Auburn Rancheria")
        #expect(meeting.witnessDocuments?.first?.documentType == "Witness Statement")
        #expect(meeting.witnessDocuments?.first?.format == "PDF")
        #expect(meeting.videos?.count == 1)
        #expect(meeting.hearingTranscript == [])
        #expect(
            meeting.relatedItems
                == .array([.object(["bills": .array([]), "nominations": .array([]), "treaties": .array([])])])
        )
        #expect(meeting.dateErrors.isEmpty)
    }

    @Test("decodes the live API shape with request echo, transcript and {item: [...]} videos")
    func liveShape() throws {
        let response = try decodeDetail(liveDetailExample)
        let meeting = response.committeeMeeting
        #expect(meeting.eventId == "115538")
        #expect(meeting.congress == 118)
        #expect(meeting.date?.iso8601UTC == "2023-03-24T13:00:00Z")
        #expect(meeting.rawDate == "2023-03-24 13:00:00+00:00")
        #expect(meeting.updateDate?.iso8601UTC == "2023-03-27T18:11:19Z")
        #expect(meeting.hearingTranscript?.first?.jacketNumber == 51_758)
        #expect(
            meeting.videos == [
                CommitteeMeeting.Video(
                    name: "Hearing video", url: "https://www.congress.gov/committees/video/x")
            ])
        #expect(meeting.witnesses?.first?.name == "Mr. Thomas DiNanno")
        #expect(meeting.relatedItems?["bills"] != nil)
        #expect(response.request?["contentType"] == .string("application/json"))
    }

    @Test("encoding and decoding again gives the same meeting")
    func roundTrip() throws {
        for json in [openAPIDetailExample, liveDetailExample] {
            let response = try decodeDetail(json)
            let encoded = try JSONEncoder().encode(response)
            let again = try CommitteeMeetingDetailResponse.decode(from: encoded, source: "round trip")
            #expect(again == response)
            let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
            let meeting = try #require(object["committeeMeeting"] as? [String: Any])
            #expect(meeting["eventId"] as? String == "115538")
            #expect(meeting["eventid"] == nil)
        }
    }

    @Test("unknown fields are ignored at every level")
    func unknownFields() throws {
        let json = """
            {
              "committeeMeeting": {
                "eventId": "117214", "chamber": "Senate", "congress": 119, "brandNewField": {"x": [1, 2]},
                "location": {"room": "216", "building": "Hart", "floor": 2},
                "witnesses": [{"name": "Dr. A", "honorific": "Dr.", "position": "P", "organization": "O"}],
                "videos": {"item": [{"name": "V", "url": "u", "duration": 60}], "count": 1}
              },
              "request": {"format": "json"},
              "somethingElse": true
            }
            """
        let meeting = try decodeDetail(json).committeeMeeting
        #expect(meeting.chamber == .senate)
        #expect(meeting.location == CommitteeMeeting.Location(room: "216", building: "Hart"))
        #expect(
            meeting.witnesses == [CommitteeMeeting.Witness(name: "Dr. A", position: "P", organization: "O")])
        #expect(meeting.videos == [CommitteeMeeting.Video(name: "V", url: "u")])
    }

    @Test("a meeting with only its identity fields decodes, everything else nil")
    func missingOptionalFields() throws {
        let meeting = try decodeDetail(meetingJSON()).committeeMeeting
        #expect(meeting == CommitteeMeeting(eventId: "117214", chamber: .house, congress: 119))
        #expect(meeting.type == nil && meeting.title == nil && meeting.meetingStatus == nil)
        #expect(meeting.date == nil && meeting.rawDate == nil)
        #expect(meeting.updateDate == nil && meeting.rawUpdateDate == nil)
        #expect(meeting.location == nil && meeting.committees == nil && meeting.witnesses == nil)
        #expect(meeting.witnessDocuments == nil && meeting.meetingDocuments == nil && meeting.videos == nil)
        #expect(meeting.hearingTranscript == nil && meeting.relatedItems == nil)
        #expect(meeting.dateErrors.isEmpty)
    }

    @Test("null optional fields decode as nil; empty strings are kept")
    func nullsAndEmptyStrings() throws {
        let meeting = try decodeDetail(
            meetingJSON(
                extra: #""title": "", "type": null, "date": null, "location": {"room": "", "building": null}"#
            )
        ).committeeMeeting
        #expect(meeting.title == "")
        #expect(meeting.type == nil)
        #expect(meeting.date == nil && meeting.rawDate == nil)
        #expect(meeting.location == CommitteeMeeting.Location(room: ""))
    }

    @Test("a field meeting's address decodes")
    func fieldMeetingAddress() throws {
        let meeting = try decodeDetail(
            meetingJSON(
                extra:
                    #""location": {"address": {"street": "1 Main St", "city": "Fresno", "state": "CA", "zipCode": "93721"}}"#
            )
        ).committeeMeeting
        #expect(
            meeting.location?.address
                == CommitteeMeeting.Address(
                    street: "1 Main St", city: "Fresno", state: "CA", zipCode: "93721")
        )
        #expect(meeting.location?.room == nil)
    }

    @Test(
        "videos as an array, {item: [...]}, {item: {...}}, {item: null} and {}",
        arguments: [
            (#"[{"name": "A", "url": "a"}, {"name": "B", "url": "b"}]"#, ["A", "B"]),
            (#"{"item": [{"name": "A", "url": "a"}, {"name": "B", "url": "b"}]}"#, ["A", "B"]),
            (#"{"item": {"name": "A", "url": "a"}}"#, ["A"]),
            (#"{"item": []}"#, []),
            (#"{"item": null}"#, []),
            ("{}", []),
            ("[]", []),
        ]
    )
    func videoShapes(json: String, names: [String]) throws {
        let meeting = try decodeDetail(meetingJSON(extra: "\"videos\": \(json)")).committeeMeeting
        #expect(meeting.videos?.map { $0.name ?? "" } == names)
    }

    @Test("videos in an unknown shape fail with the meeting and field named")
    func videoBadShape() throws {
        let error = try #require(detailError(meetingJSON(extra: #""videos": {"name": "A"}"#)))
        #expect(error.eventId == "117214")
        #expect(error.field == "videos")
        #expect(error.description.hasPrefix("meeting 117214: field \"videos\": expected an array"))
    }

    @Test("other lists accept the {item: ...} shape too")
    func otherListsAcceptItemShape() throws {
        let meeting = try decodeDetail(
            meetingJSON(
                extra:
                    #""witnesses": {"item": {"name": "W"}}, "committees": {"item": [{"systemCode": "ssju00"}]}"#
            )
        ).committeeMeeting
        #expect(meeting.witnesses == [CommitteeMeeting.Witness(name: "W")])
        #expect(meeting.committees == [CommitteeReference(systemCode: "ssju00")])
    }

    @Test(
        "jacketNumber as a number, a string of digits, an empty string or absent",
        arguments: [
            (#"{"jacketNumber": 48144}"#, 48_144),
            (#"{"jacketNumber": "48144"}"#, 48_144),
            (#"{"jacketNumber": "00123"}"#, 123),
            (#"{"jacketNumber": ""}"#, nil),
            (#"{"jacketNumber": null}"#, nil),
            (#"{"url": "u"}"#, nil),
        ] as [(String, Int?)]
    )
    func jacketNumber(json: String, expected: Int?) throws {
        let meeting = try decodeDetail(meetingJSON(extra: "\"hearingTranscript\": [\(json)]"))
            .committeeMeeting
        let transcript = try #require(meeting.hearingTranscript?.first)
        #expect(transcript.jacketNumber == expected)
    }

    @Test("a jacketNumber that is not a number fails with the meeting and path named")
    func badJacketNumber() throws {
        let error = try #require(
            detailError(meetingJSON(extra: #""hearingTranscript": [{"jacketNumber": "48A44"}]"#))
        )
        #expect(
            error.description
                == #"meeting 117214: field "hearingTranscript[0].jacketNumber": expected an integer or a string of digits, found "48A44""#
        )
    }

    @Test("a wrong type in an optional field fails with the meeting and path named")
    func wrongTypeInOptionalField() throws {
        let error = try #require(
            detailError(meetingJSON(extra: #""witnesses": [{"name": "A"}, {"name": 5}]"#)))
        #expect(error.eventId == "117214")
        #expect(error.field == "witnesses[1].name")
        #expect(error.description.hasPrefix(#"meeting 117214: field "witnesses[1].name": "#))

        let titleError = try #require(detailError(meetingJSON(extra: #""title": ["x"]"#)))
        #expect(titleError.field == "title")
    }

    @Test("a malformed date keeps the meeting and its raw text, and explains itself")
    func malformedDate() throws {
        let meeting = try decodeDetail(
            meetingJSON(extra: #""date": "2025-02-30T10:00:00Z", "updateDate": "yesterday""#)
        ).committeeMeeting
        #expect(meeting.date == nil)
        #expect(meeting.rawDate == "2025-02-30T10:00:00Z")
        #expect(meeting.updateDate == nil)
        #expect(meeting.rawUpdateDate == "yesterday")
        #expect(meeting.dateErrors.count == 2)
        #expect(
            meeting.dateErrors.first?.description
                == #"meeting 117214: field "date": expected a date like 2025-03-24T13:00:00Z or 2025-03-24 13:00:00+00:00, found "2025-02-30T10:00:00Z""#
        )
        #expect(meeting.dateErrors.last?.field == "updateDate")
    }

    @Test("an empty or non-string date is kept raw and reported")
    func emptyAndNonStringDate() throws {
        let meeting = try decodeDetail(meetingJSON(extra: #""date": "", "updateDate": 20250324"#))
            .committeeMeeting
        #expect(meeting.date == nil && meeting.rawDate == "")
        #expect(meeting.updateDate == nil && meeting.rawUpdateDate == "20250324")
        #expect(meeting.dateErrors.map(\.field) == ["date", "updateDate"])
    }
}

// MARK: - Strict fields

@Suite("Strict identity fields")
struct StrictFieldTests {
    @Test("eventId may be a JSON integer; congress a string of digits; chamber any case")
    func acceptedForms() throws {
        let meeting = try decodeDetail(
            meetingJSON(eventId: "117214", chamber: "\"sEnAtE\"", congress: "\"119\"")
        )
        .committeeMeeting
        #expect(meeting.eventId == "117214")
        #expect(meeting.chamber == .senate)
        #expect(meeting.congress == 119)
        let noChamber = try decodeDetail(meetingJSON(chamber: "\"nochamber\"")).committeeMeeting
        #expect(noChamber.chamber == .noChamber)
        #expect(CongressChamber(apiValue: "HOUSE") == .house)
        #expect(CongressChamber(apiValue: "Joint") == nil)
    }

    @Test(
        "a bad chamber names the meeting and the field",
        arguments: [
            (
                "\"Hosue\"",
                #"meeting 117214: field "chamber": expected House, Senate or NoChamber, found "Hosue""#
            ),
            ("\"\"", #"meeting 117214: field "chamber": expected House, Senate or NoChamber, found """#),
            (
                "\"Joint\"",
                #"meeting 117214: field "chamber": expected House, Senate or NoChamber, found "Joint""#
            ),
            ("5", #"meeting 117214: field "chamber": expected House, Senate or NoChamber, found 5"#),
            ("null", #"meeting 117214: field "chamber": missing"#),
            (nil, #"meeting 117214: field "chamber": missing"#),
        ] as [(String?, String)]
    )
    func badChamber(chamber: String?, message: String) throws {
        let error = try #require(detailError(meetingJSON(chamber: chamber)))
        #expect(error.description == message)
        #expect(error.errorDescription == message)
        #expect(error.eventId == "117214")
        #expect(error.field == "chamber")
        #expect(error.source == "test.json")
    }

    @Test(
        "a bad congress names the meeting and the field",
        arguments: [
            ("0", #"meeting 117214: field "congress": expected a positive integer, found 0"#),
            ("-3", #"meeting 117214: field "congress": expected a positive integer, found -3"#),
            ("1.5", #"meeting 117214: field "congress": expected a positive integer, found 1.5"#),
            ("\"abc\"", #"meeting 117214: field "congress": expected a positive integer, found "abc""#),
            ("\"\"", #"meeting 117214: field "congress": expected a positive integer, found """#),
            ("\"-119\"", #"meeting 117214: field "congress": expected a positive integer, found "-119""#),
            ("\"0\"", #"meeting 117214: field "congress": expected a positive integer, found "0""#),
            ("true", #"meeting 117214: field "congress": expected a positive integer, found true"#),
            (nil, #"meeting 117214: field "congress": missing"#),
        ] as [(String?, String)]
    )
    func badCongress(congress: String?, message: String) throws {
        let error = try #require(detailError(meetingJSON(congress: congress)))
        #expect(error.description == message)
        #expect(error.field == "congress")
    }

    @Test(
        "a bad eventId names the source label and the field's path",
        arguments: [
            (
                "\"\"",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found """#
            ),
            (
                "\"12a4\"",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found "12a4""#
            ),
            (
                "\" 1234\"",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found " 1234""#
            ),
            (
                "-5",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found -5"#
            ),
            (
                "1.5",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found 1.5"#
            ),
            (
                "true",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found true"#
            ),
            (
                "\"1234567890123456789\"",
                #"day-1/house/x.json: field "committeeMeeting.eventId": expected a non-empty string of at most 18 digits, found "1234567890123456789""#
            ),
            (nil, #"day-1/house/x.json: field "committeeMeeting.eventId": missing"#),
            ("null", #"day-1/house/x.json: field "committeeMeeting.eventId": missing"#),
        ] as [(String?, String)]
    )
    func badEventId(eventId: String?, message: String) throws {
        let error = try #require(detailError(meetingJSON(eventId: eventId), source: "day-1/house/x.json"))
        #expect(error.description == message)
        #expect(error.eventId == nil)
        #expect(error.item == "day-1/house/x.json")
    }

    @Test("the spec's lowercase eventid is accepted; eventId wins when both are present")
    func lowercaseEventId() throws {
        let meeting = try decodeDetail(
            #"{"committeeMeeting": {"eventid": 42, "chamber": "House", "congress": 1}}"#
        )
        .committeeMeeting
        #expect(meeting.eventId == "42")
        let both = try decodeDetail(
            #"{"committeeMeeting": {"eventId": "7", "eventid": "8", "chamber": "House", "congress": 1}}"#
        ).committeeMeeting
        #expect(both.eventId == "7")
    }

    @Test("a plain JSONDecoder also throws CongressDecodingError for strict fields")
    func plainDecoder() throws {
        let data = Data(#"{"eventId": "9", "chamber": "Hosue", "congress": 119}"#.utf8)
        #expect(throws: CongressDecodingError.self) {
            _ = try JSONDecoder().decode(CommitteeMeeting.self, from: data)
        }
        do {
            _ = try JSONDecoder().decode(CommitteeMeeting.self, from: data)
        } catch let error as CongressDecodingError {
            #expect(
                error.description
                    == #"meeting 9: field "chamber": expected House, Senate or NoChamber, found "Hosue""#)
        }
    }
}

// MARK: - Document-level errors and redaction

@Suite("Document errors")
struct DocumentErrorTests {
    @Test("invalid JSON names the source")
    func invalidJSON() throws {
        let error = try #require(detailError("{not json", source: "house/117214"))
        #expect(error.field == "")
        #expect(error.description.hasPrefix("house/117214: "))
        #expect(error.eventId == nil)
    }

    @Test("a missing or mistyped committeeMeeting names the source and the key")
    func missingMeeting() throws {
        let missing = try #require(detailError(#"{"request": {}}"#, source: "a.json"))
        #expect(missing.description == #"a.json: field "committeeMeeting": missing"#)
        let mistyped = try #require(detailError(#"{"committeeMeeting": [1]}"#, source: "a.json"))
        #expect(mistyped.field == "committeeMeeting")
        #expect(mistyped.item == "a.json")
    }

    @Test("an API key in the source label or the data never reaches the error")
    func redaction() throws {
        let source = "https://api.congress.gov/v3/committee-meeting/119/house/1?api_key=SECRET123&format=json"
        let error = try #require(detailError(meetingJSON(chamber: "\"Hosue\""), source: source))
        #expect(!error.description.contains("SECRET123"))
        #expect(error.source == "https://api.congress.gov/v3/committee-meeting/119/house/1")

        let keyOnly = try #require(detailError("{", source: "request api_key=SECRET123&format=json"))
        #expect(!keyOnly.description.contains("SECRET123"))
        #expect(keyOnly.description.contains("api_key=REDACTED"))

        let inData = try #require(
            detailError(meetingJSON(chamber: #""https://x.gov/a?api_key=SECRET123""#), source: "s")
        )
        #expect(!inData.description.contains("SECRET123"))
        #expect(inData.description.contains("https://x.gov/a"))
    }

    @Test("long input is shortened in messages")
    func shortening() throws {
        let long = String(repeating: "x", count: 5000)
        let error = try #require(detailError(meetingJSON(chamber: "\"\(long)\"")))
        #expect(error.description.count < 300)
        #expect(error.description.hasSuffix("…\""))
    }
}

// MARK: - Dates

@Suite("CongressDate")
struct CongressDateTests {
    @Test(
        "accepted forms normalise to UTC",
        arguments: [
            ("2025-03-24T13:00:00Z", "2025-03-24T13:00:00Z"),
            ("2025-03-24 13:00:00+00:00", "2025-03-24T13:00:00Z"),
            ("2025-03-24t13:00:00z", "2025-03-24T13:00:00Z"),
            ("2025-03-24T13:00:00.123Z", "2025-03-24T13:00:00Z"),
            ("2025-03-24 13:00:00.999999+00:00", "2025-03-24T13:00:00Z"),
            ("2025-03-24T09:00:00-04:00", "2025-03-24T13:00:00Z"),
            ("2025-03-24T09:00:00-0400", "2025-03-24T13:00:00Z"),
            ("2025-03-24T22:30:00+09:30", "2025-03-24T13:00:00Z"),
            ("2025-03-24T15:00:00+02", "2025-03-24T13:00:00Z"),
            ("2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
            ("2000-02-29 00:00:00+00:00", "2000-02-29T00:00:00Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
        ]
    )
    func accepted(text: String, utcText: String) throws {
        let date = try #require(CongressDate.parse(text))
        #expect(date.iso8601UTC == utcText)
        #expect(date.original == text)
    }

    @Test(
        "malformed text is rejected",
        arguments: [
            "", "2025-03-24", "2025-03-24T13:00:00", "2025-03-24T13:00Z", "2025-3-24T13:00:00Z",
            "2025-03-24T13:00:00ZZ", " 2025-03-24T13:00:00Z", "2025-03-24T13:00:00Z ", "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-03-24T24:00:00Z",
            "2025-03-24T13:60:00Z", "2025-03-24T13:00:60Z", "2025-03-24T13:00:00.Z",
            "2025-03-24T13:00:00.1234567890Z", "2025-03-24T13:00:00+24:00", "2025-03-24T13:00:00+05:60",
            "2025-03-24T13:00:00+5", "2025-03-24X13:00:00Z", "２０２５-03-24T13:00:00Z", "tomorrow",
        ]
    )
    func rejected(text: String) {
        #expect(CongressDate.parse(text) == nil)
    }

    @Test("instants compare across forms; fractions are kept in the Date")
    func instants() throws {
        let zulu = try #require(CongressDate.parse("2025-03-24T13:00:00Z"))
        let offset = try #require(CongressDate.parse("2025-03-24 13:00:00+00:00"))
        #expect(zulu.date == offset.date)
        #expect(zulu != offset)
        #expect(zulu.date == Date(timeIntervalSince1970: 1_742_821_200))
        let fractional = try #require(CongressDate.parse("2025-03-24T13:00:00.25Z"))
        #expect(fractional.date.timeIntervalSince1970 == 1_742_821_200.25)
    }

    @Test("Codable as a string: decodes by parsing, encodes the original text")
    func codable() throws {
        let decoded = try JSONDecoder().decode(
            [CongressDate].self, from: Data(#"["2025-03-24 13:00:00+00:00"]"#.utf8))
        #expect(decoded.first?.iso8601UTC == "2025-03-24T13:00:00Z")
        let encoded = try JSONEncoder().encode(decoded)
        #expect(String(decoding: encoded, as: UTF8.self) == #"["2025-03-24 13:00:00+00:00"]"#)
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([CongressDate].self, from: Data(#"["soon"]"#.utf8))
        }
        let made = CongressDate(try utc("2025-03-24T13:00:00Z"))
        #expect(made.original == "2025-03-24T13:00:00Z")
        #expect(made.description == "2025-03-24T13:00:00Z")
    }
}

// MARK: - List responses

@Suite("List responses")
struct ListResponseTests {
    @Test("decodes the committee-meeting list in the spec's and the live shape")
    func meetingList() throws {
        let json = """
            {
              "committeeMeetings": [
                {
                  "chamber": "House", "congress": 117, "eventid": "115522",
                  "updateDate": "2022-08-01 21:19:33+00:00",
                  "url": "https://api.congress.gov/v3/committee-meeting/118/house/115522?format=json"
                },
                {
                  "chamber": "Senate", "congress": 119, "eventId": "336480",
                  "updateDate": "2025-03-24T13:00:00Z",
                  "url": "https://api.congress.gov/v3/committee-meeting/119/senate/336480?format=json"
                }
              ],
              "pagination": {"count": 1168, "next": "https://api.congress.gov/v3/committee-meeting/119?offset=250&limit=250&format=json"},
              "request": {"congress": "119", "contentType": "application/json", "format": "json"}
            }
            """
        let list = try CommitteeMeetingListResponse.decode(from: Data(json.utf8), source: "list p1")
        #expect(list.invalidItems.isEmpty)
        #expect(list.committeeMeetings.map(\.eventId) == ["115522", "336480"])
        #expect(list.committeeMeetings.map(\.chamber) == [.house, .senate])
        #expect(list.committeeMeetings.first?.updateDate?.iso8601UTC == "2022-08-01T21:19:33Z")
        #expect(list.committeeMeetings.first?.url?.hasSuffix("115522?format=json") == true)
        #expect(list.pagination?.count == 1168)
        #expect(list.pagination?.next?.contains("offset=250") == true)
        #expect(list.pagination?.prev == nil)

        let again = try CommitteeMeetingListResponse.decode(
            from: JSONEncoder().encode(list), source: "round trip")
        #expect(again == list)
    }

    @Test("one bad entry is reported alone; the rest of the page decodes")
    func badEntries() throws {
        let json = """
            {
              "committeeMeetings": [
                {"chamber": "House", "congress": 119, "eventId": "1"},
                {"chamber": "Hosue", "congress": 119, "eventId": "2"},
                {"chamber": "House", "congress": 119},
                {"chamber": "House", "congress": 119, "eventId": "4", "url": 5},
                {"chamber": "House", "congress": 119, "eventId": "5", "updateDate": "bad"}
              ]
            }
            """
        let list = try CommitteeMeetingListResponse.decode(from: Data(json.utf8), source: "list p1")
        #expect(list.committeeMeetings.map(\.eventId) == ["1", "5"])
        #expect(list.invalidItems.count == 3)
        #expect(
            list.invalidItems.first?.description
                == #"meeting 2: field "chamber": expected House, Senate or NoChamber, found "Hosue""#
        )
        #expect(
            list.invalidItems.dropFirst().first?.description
                == #"list p1: field "committeeMeetings[2].eventId": missing"#)
        #expect(list.invalidItems.last?.eventId == "4")
        #expect(list.invalidItems.last?.field == "url")
        #expect(list.committeeMeetings.last?.rawUpdateDate == "bad")
        #expect(list.committeeMeetings.last?.dateErrors.first?.field == "updateDate")
        #expect(list.committeeMeetings.first?.dateErrors.isEmpty == true)
    }

    @Test("an empty page decodes; a missing list throws")
    func emptyAndMissing() throws {
        let empty = try CommitteeMeetingListResponse.decode(
            from: Data(#"{"committeeMeetings": [], "pagination": {"count": 0}}"#.utf8),
            source: "p"
        )
        #expect(empty.committeeMeetings.isEmpty)
        #expect(throws: CongressDecodingError.self) {
            _ = try CommitteeMeetingListResponse.decode(from: Data(#"{"pagination": {}}"#.utf8), source: "p")
        }
    }

    @Test("decodes the committee list with parents and subcommittees")
    func committeeList() throws {
        let json = """
            {
              "committees": [
                {
                  "chamber": "House", "committeeTypeCode": "Standing",
                  "name": "Transportation and Infrastructure Committee",
                  "subcommittees": [
                    {"name": "Investigations and Oversight Subcommittee", "systemCode": "hspw01",
                     "url": "https://api.congress.gov/v3/committee/house/hspw01?format=json"}
                  ],
                  "systemCode": "hspw00", "updateDate": "2020-02-04T00:07:37Z",
                  "url": "https://api.congress.gov/v3/committee/house/hspw00?format=json"
                },
                {
                  "chamber": "House", "committeeTypeCode": "Subcommittee", "name": "Courts Subcommittee",
                  "parent": {"name": "Judiciary Committee", "systemCode": "hsju00",
                             "url": "https://api.congress.gov/v3/committee/house/hsju00?format=json"},
                  "systemCode": "hsju03", "updateDate": "2025-01-14 10:00:00+00:00", "isCurrent": true
                },
                {"chamber": "Joint", "name": "Joint Economic Committee", "systemCode": "jsec00"}
              ],
              "pagination": {"count": 3}
            }
            """
        let list = try CommitteeListResponse.decode(from: Data(json.utf8), source: "committees.json")
        #expect(list.invalidItems.isEmpty)
        #expect(list.committees.map { $0.systemCode ?? "" } == ["hspw00", "hsju03", "jsec00"])
        let full = list.committees[0]
        #expect(full.committeeTypeCode == "Standing")
        #expect(full.subcommittees?.first?.systemCode == "hspw01")
        #expect(full.parent == nil)
        #expect(full.updateDate?.iso8601UTC == "2020-02-04T00:07:37Z")
        #expect(list.committees[1].parent?.systemCode == "hsju00")
        #expect(list.committees[1].updateDate?.iso8601UTC == "2025-01-14T10:00:00Z")
        #expect(list.committees[2].chamber == "Joint")
        #expect(list.committees[2].updateDate == nil)
        let again = try CommitteeListResponse.decode(from: JSONEncoder().encode(list), source: "round trip")
        #expect(again == list)
    }

    @Test("a committee with a wrong type is reported with its position")
    func badCommittee() throws {
        let json = #"{"committees": [{"systemCode": "a"}, {"systemCode": 7}]}"#
        let list = try CommitteeListResponse.decode(from: Data(json.utf8), source: "committees.json")
        #expect(list.committees.count == 1)
        #expect(list.invalidItems.first?.field == "committees[1].systemCode")
        #expect(list.invalidItems.first?.item == "committees.json")
    }

    @Test("decodes the committee detail response")
    func committeeDetail() throws {
        let json = """
            {
              "committee": {
                "bills": {"count": 25384, "url": "https://api.congress.gov/v3/committee/house/hspw00/bills?format=json"},
                "communications": {"count": 6775, "url": "https://api.congress.gov/v3/committee/house/hspw00/house-communication?format=json"},
                "history": [
                  {"libraryOfCongressName": "Transportation and Infrastructure",
                   "officialName": "Committee on Transportation and Infrastructure",
                   "startDate": "1995-01-04T05:00:00Z", "updateDate": "2020-02-04T00:07:37Z"}
                ],
                "isCurrent": true,
                "reports": {"count": 1319, "url": "https://api.congress.gov/v3/committee/house/hspw00/reports?format=json"},
                "subcommittees": [{"name": "Aviation Subcommittee", "systemCode": "hspw05", "url": "u"}],
                "systemCode": "hspw00",
                "type": "Standing",
                "updateDate": "2020-02-04T00:07:37Z"
              },
              "request": {"chamber": "house", "committeeCode": "hspw00", "format": "json"}
            }
            """
        let response = try CommitteeDetailResponse.decode(from: Data(json.utf8), source: "hspw00")
        let committee = response.committee
        #expect(committee.systemCode == "hspw00")
        #expect(committee.type == "Standing")
        #expect(committee.isCurrent == true)
        #expect(committee.bills?.count == 25_384)
        #expect(committee.history?.first?.officialName == "Committee on Transportation and Infrastructure")
        #expect(committee.history?.first?.endDate == nil)
        #expect(committee.subcommittees?.first?.systemCode == "hspw05")
        #expect(committee.updateDate?.iso8601UTC == "2020-02-04T00:07:37Z")
        let again = try CommitteeDetailResponse.decode(
            from: JSONEncoder().encode(response), source: "round trip")
        #expect(again == response)
    }
}

// MARK: - Bundled sample

@Suite("Bundled sample")
struct BundledSampleTests {
    /// `Sources/Congress/Resources/sample`, found from this file's path.
    static let sampleFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Congress/Resources/sample")
        .standardizedFileURL

    @Test("every day-*/house|senate/*.json meeting in the sample decodes")
    func everySampleMeetingDecodes() throws {
        let manager = FileManager.default
        let folder = Self.sampleFolder
        var isDirectory: ObjCBool = false
        try #require(
            manager.fileExists(atPath: folder.path, isDirectory: &isDirectory) && isDirectory.boolValue,
            "sample folder missing: \(folder.path)"
        )
        let days = try manager.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("day-") }
            .sorted()
        try #require(!days.isEmpty, "no day-* folders in \(folder.path)")
        var decoded = 0
        var problems: [String] = []
        for day in days {
            for chamber in ["house", "senate"] {
                let chamberFolder = folder.appendingPathComponent(day).appendingPathComponent(chamber)
                guard manager.fileExists(atPath: chamberFolder.path) else { continue }
                let files = try manager.contentsOfDirectory(atPath: chamberFolder.path)
                    .filter { $0.hasSuffix(".json") }
                    .sorted()
                for file in files {
                    let label = "\(day)/\(chamber)/\(file)"
                    let data = try Data(contentsOf: chamberFolder.appendingPathComponent(file))
                    do {
                        let meeting = try CommitteeMeetingDetailResponse.decode(from: data, source: label)
                            .committeeMeeting
                        #expect(meeting.chamber.rawValue.lowercased() == chamber, "\(label)")
                        #expect("\(meeting.eventId).json" == file, "\(label)")
                        #expect(meeting.dateErrors.isEmpty, "\(label): \(meeting.dateErrors)")
                        #expect(meeting.date != nil && meeting.updateDate != nil, "\(label)")
                        decoded += 1
                    } catch {
                        problems.append("\(label): \(error)")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        #expect(decoded > 0, "no meeting files under \(folder.path)/day-*/house|senate")
    }

    @Test("every committee in sample/committees.json decodes")
    func everySampleCommitteeDecodes() throws {
        let file = Self.sampleFolder.appendingPathComponent("committees.json")
        try #require(FileManager.default.fileExists(atPath: file.path), "missing: \(file.path)")
        let data = try Data(contentsOf: file)
        let list = try CommitteeListResponse.decode(from: data, source: "sample/committees.json")
        #expect(list.invalidItems.isEmpty, "\(list.invalidItems.prefix(20).map(\.description))")
        #expect(!list.committees.isEmpty)
        #expect(list.committees.allSatisfy { !($0.systemCode ?? "").isEmpty })
    }
}
