import ArgumentParser

@main
struct HearingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hearings",
        abstract: "Keep a SQLite database of US Congressional committee meetings up to date, journaled."
    )
}
