import GRDB

/// The versioned schema migrations. Each runs in its own immediate transaction and is followed by a
/// foreign-key check (GRDB's `DatabaseMigrator`); a database is never left half-migrated.
public enum Migrations {
    /// The schema version this build writes: the number of migrations.
    public static let currentVersion = 1

    /// The migrator with every migration registered.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 hearings schema", foreignKeyChecks: .immediate) { db in
            try db.execute(sql: version1)
        }
        return migrator
    }

    /// Version 1: the predecessor's tables and columns, with these corrections.
    ///
    /// - `witness_documents.document_type` stores the API's type exactly (the predecessor's CHECK had no
    ///   value for "Witness Supporting Document" and others); it must be non-empty.
    /// - `witness_documents.hearing_id` (new): the API lists witness documents per meeting; a document
    ///   whose file name names no listed witness keeps `appearance_id` NULL but still belongs to its meeting.
    /// - `witnesses.identity_key` (new, unique): normalised name + organisation, the rule that identifies
    ///   one witness across meetings.
    /// - Document URLs and transcript jacket numbers are unique within a meeting; so is a witness.
    /// - The tool's own tables start with `journal_` and are not managed rows.
    static let version1 = """
        CREATE TABLE committees (
            committee_id INTEGER PRIMARY KEY AUTOINCREMENT,
            system_code TEXT NOT NULL UNIQUE CHECK (length(system_code) > 0),
            name TEXT NOT NULL,
            chamber TEXT NOT NULL CHECK (chamber IN ('House', 'Senate', 'Joint', 'NoChamber')),
            type TEXT NOT NULL CHECK (type IN ('Standing', 'Select', 'Special', 'Joint', 'Task Force',
                'Other', 'Subcommittee', 'Commission or Caucus')),
            parent_committee_id INTEGER REFERENCES committees(committee_id),
            is_current BOOLEAN NOT NULL DEFAULT 1,
            url TEXT,
            congress INTEGER NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX idx_committees_chamber ON committees(chamber);
        CREATE INDEX idx_committees_parent ON committees(parent_committee_id);
        CREATE INDEX idx_committees_congress ON committees(congress);

        CREATE TABLE hearings (
            hearing_id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE CHECK (length(event_id) > 0),
            congress INTEGER NOT NULL CHECK (congress > 0),
            chamber TEXT NOT NULL CHECK (chamber IN ('House', 'Senate', 'NoChamber')),
            title TEXT NOT NULL,
            hearing_type TEXT NOT NULL CHECK (hearing_type IN ('Hearing', 'Meeting', 'Markup')),
            status TEXT NOT NULL CHECK (status IN ('Scheduled', 'Canceled', 'Postponed', 'Rescheduled')),
            hearing_date DATE,
            location TEXT,
            jacket_number TEXT,
            url TEXT,
            congress_gov_url TEXT,
            update_date TIMESTAMP,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            hearing_date_only DATE,
            hearing_time TIME
        );
        CREATE INDEX idx_hearings_congress ON hearings(congress);
        CREATE INDEX idx_hearings_chamber ON hearings(chamber);
        CREATE INDEX idx_hearings_date ON hearings(hearing_date);
        CREATE INDEX idx_hearings_status ON hearings(status);
        CREATE INDEX idx_hearings_update_date ON hearings(update_date);
        CREATE INDEX idx_hearings_jacket ON hearings(jacket_number);

        CREATE TABLE hearing_committees (
            hearing_id INTEGER NOT NULL REFERENCES hearings(hearing_id),
            committee_id INTEGER NOT NULL REFERENCES committees(committee_id),
            is_primary BOOLEAN NOT NULL DEFAULT 1,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            PRIMARY KEY (hearing_id, committee_id)
        );
        CREATE INDEX idx_hearing_committees_committee ON hearing_committees(committee_id);

        CREATE TABLE witnesses (
            witness_id INTEGER PRIMARY KEY AUTOINCREMENT,
            first_name TEXT,
            last_name TEXT,
            full_name TEXT NOT NULL CHECK (length(full_name) > 0),
            title TEXT,
            organization TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            identity_key TEXT NOT NULL UNIQUE
        );
        CREATE INDEX idx_witnesses_name ON witnesses(last_name, first_name);
        CREATE INDEX idx_witnesses_org ON witnesses(organization);

        CREATE TABLE witness_appearances (
            appearance_id INTEGER PRIMARY KEY AUTOINCREMENT,
            witness_id INTEGER NOT NULL REFERENCES witnesses(witness_id),
            hearing_id INTEGER NOT NULL REFERENCES hearings(hearing_id),
            position TEXT,
            witness_type TEXT,
            appearance_order INTEGER,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (witness_id, hearing_id)
        );
        CREATE INDEX idx_appearances_hearing ON witness_appearances(hearing_id);

        CREATE TABLE witness_documents (
            document_id INTEGER PRIMARY KEY AUTOINCREMENT,
            appearance_id INTEGER REFERENCES witness_appearances(appearance_id),
            document_type TEXT NOT NULL CHECK (length(document_type) > 0),
            title TEXT,
            document_url TEXT,
            format_type TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            hearing_id INTEGER NOT NULL REFERENCES hearings(hearing_id),
            UNIQUE (hearing_id, document_url)
        );
        CREATE INDEX idx_witness_docs_appearance ON witness_documents(appearance_id);
        CREATE INDEX idx_witness_docs_type ON witness_documents(document_type);

        CREATE TABLE supporting_documents (
            document_id INTEGER PRIMARY KEY AUTOINCREMENT,
            hearing_id INTEGER NOT NULL REFERENCES hearings(hearing_id),
            document_type TEXT NOT NULL CHECK (length(document_type) > 0),
            title TEXT,
            description TEXT,
            document_url TEXT,
            format_type TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (hearing_id, document_url)
        );
        CREATE INDEX idx_supporting_docs_type ON supporting_documents(document_type);

        CREATE TABLE hearing_transcripts (
            transcript_id INTEGER PRIMARY KEY AUTOINCREMENT,
            hearing_id INTEGER NOT NULL REFERENCES hearings(hearing_id),
            jacket_number TEXT,
            title TEXT,
            document_url TEXT,
            pdf_url TEXT,
            html_url TEXT,
            format_type TEXT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (hearing_id, jacket_number)
        );
        CREATE INDEX idx_transcripts_jacket ON hearing_transcripts(jacket_number);

        -- The tool's own state: one row per committed batch (the marker recovery compares with the
        -- journal), written in the same transaction as the batch's rows.
        CREATE TABLE journal_batches (
            batch_id INTEGER PRIMARY KEY,
            intent_position INTEGER NOT NULL UNIQUE,
            committed_at TEXT NOT NULL,
            state_checksum TEXT NOT NULL
        );

        -- How far the database has reconciled with the journal: every event at or before `position`
        -- is reflected (committed batches applied, the others known not to be). Recovery reads the
        -- journal from here, so its cost does not grow with the journal.
        CREATE TABLE journal_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            position INTEGER NOT NULL,
            next_batch_id INTEGER NOT NULL,
            state_checksum TEXT NOT NULL
        );
        """
}
