import Foundation

extension CommitteeMeeting {
    /// Where a meeting is held: `{room, building}` on the Hill, or `{address}` for a field meeting.
    ///
    /// Every field is optional and kept as given; the API writes `WEBEX` as the room and `----------`
    /// as the building of a virtual meeting.
    public struct Location: Sendable, Equatable, Codable {
        /// The room, e.g. `1324` or `WEBEX`.
        public var room: String?
        /// The building, e.g. `Longworth House Office Building`.
        public var building: String?
        /// The street address of a field meeting.
        public var address: Address?

        /// Makes a location from its parts.
        public init(room: String? = nil, building: String? = nil, address: Address? = nil) {
            self.room = room
            self.building = building
            self.address = address
        }
    }

    /// The street address of a field meeting: `{street, city, state, zipCode}`, each optional.
    public struct Address: Sendable, Equatable, Codable {
        /// The street address.
        public var street: String?
        /// The city.
        public var city: String?
        /// The state, e.g. `CA`.
        public var state: String?
        /// The postal code, kept as text (leading zeros matter).
        public var zipCode: String?

        /// Makes an address from its parts.
        public init(street: String? = nil, city: String? = nil, state: String? = nil, zipCode: String? = nil)
        {
            self.street = street
            self.city = city
            self.state = state
            self.zipCode = zipCode
        }
    }
}
