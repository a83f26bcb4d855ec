import Foundation
import Store
import Testing

@Suite struct FastJSONTests {
    /// Random row images (every storage class, hostile text) decode through FastJSON exactly as they do
    /// through JSONDecoder.
    @Test(arguments: [1, 2, 3, 4, 5])
    func rowImagesDecodeLikeJSONDecoder(seed: UInt64) throws {
        var generator = SplitMix64(state: seed)
        let alphabet = Array("aé\"\\/\n\t\r\u{0}\u{1F}\u{7F}€😀𝄞 {}[],:0-")
        for _ in 0..<200 {
            var columns: [String: Value] = [:]
            for index in 0..<Int.random(in: 0...12, using: &generator) {
                let name = "c\(index)" + (Bool.random(using: &generator) ? "é\"" : "")
                switch Int.random(in: 0...4, using: &generator) {
                case 0: columns[name] = .null
                case 1: columns[name] = .integer(Int64.random(in: Int64.min...Int64.max, using: &generator))
                case 2: columns[name] = .real(Double.random(in: -1e12...1e12, using: &generator))
                case 3:
                    columns[name] = .text(
                        String(
                            (0..<Int.random(in: 0...40, using: &generator)).compactMap { _ in
                                alphabet.randomElement(using: &generator)
                            }))
                default:
                    columns[name] = .blob(
                        (0..<Int.random(in: 0...9, using: &generator)).map { _ in
                            UInt8.random(in: 0...255, using: &generator)
                        })
                }
            }
            let image = RowImage(columns)
            let mutation = Mutation(kind: .update, table: Schema.hearings, before: image, after: image)
            let data = try JSONEncoder().encode(mutation)
            let fast = try Mutation(node: try FastJSON.parse(Array(data)))
            #expect(fast == (try JSONDecoder().decode(Mutation.self, from: data)))
            #expect(fast == mutation)
        }
    }

    @Test func rejectsMalformedJSON() {
        for text in [
            "", "{", "{\"a\":}", "[1,]", "01", "\"\\x\"", "\"a", "{\"a\":1}}", "tru", "\"\\ud800\"", "1.",
            "-",
        ] {
            #expect(throws: FastJSON.ParseError.self, "\(text)") { try FastJSON.parse(Array(text.utf8)) }
        }
        let parsed = try? FastJSON.parse(
            Array(" {\"a\":[1,-2.5e3,true,null,\"\\u00e9\\ud834\\udd1e\"]} ".utf8))
        #expect(parsed?["a"] == .array([.integer(1), .number(-2500), .bool(true), .null, .string("é𝄞")]))
    }
}
