import Foundation

/// The on-disk record of a swap in progress (`.hangar/journal/<name>.json`), written and fsynced before the first
/// rename so that recovery can tell, by inode, which tree sits where after a crash.
struct TransactionJournal: Codable, Sendable, Equatable {
    static let currentFormat = 1

    var format: Int
    var name: String
    var operation: String
    /// Entry in `.hangar/staging` holding the new tree; after an exchange it holds the old tree instead.
    var staging: String
    /// Entry in `.hangar/staging` where the two-rename fallback parks the old tree between its two renames.
    var aside: String
    /// The live backend's identity when the journal was written; nil for a fresh install.
    var old: FileIdentity?
    /// The staged tree's identity.
    var new: FileIdentity
    var pid: Int32
    var startedAt: Double
    /// Generations to keep of `name` when the replaced tree is kept (absent: it is deleted), so that recovery after
    /// a kill past the swap keeps the old tree as the commit would have.
    var keep: Int? = nil

    /// Writes the journal durably: temp file + fsync + rename + fsync of the journal directory.
    func write(in root: BackendsRoot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        let target = root.journalFile(name)
        let temp = target + ".tmp-\(Sys.pid)-\(Sys.randomToken())"
        try Sys.writeFile(temp, [UInt8](data), mode: 0o644, exclusive: true, sync: true)
        CrashPoint.hit("journal.temp-written")
        do {
            try Sys.rename(temp, target)
        } catch {
            _ = unlink(temp)
            throw error
        }
        try Sys.syncDirectory(root.journalPath)
    }

    /// The journal for `name`, nil if there is none; throws if it exists but cannot be trusted.
    static func read(name: String, in root: BackendsRoot) throws -> TransactionJournal? {
        let path = root.journalFile(name)
        guard let bytes = try Sys.readFile(path) else { return nil }
        let journal: TransactionJournal
        do {
            journal = try JSONDecoder().decode(TransactionJournal.self, from: Data(bytes))
        } catch {
            throw HangarError.operation("journal \(path) is unreadable (\(error.localizedDescription)); inspect \(root.stagingPath) by hand, then delete the journal")
        }
        // Recovery deletes paths named here, so a tampered journal must not be able to point outside staging.
        let prefix = name + "."
        let valid = journal.format == currentFormat && journal.name == name
            && [journal.staging, journal.aside].allSatisfy { entry in
                entry.hasPrefix(prefix) && !entry.contains("/") && entry.utf8.count <= 255
            }
        guard valid else {
            throw HangarError.operation("journal \(path) does not describe a hangar transaction on \"\(name)\"; inspect \(root.stagingPath) by hand, then delete the journal")
        }
        return journal
    }

    /// Deletes the journal for `name` (absent is fine) and makes the deletion durable.
    static func remove(name: String, in root: BackendsRoot) throws {
        let path = root.journalFile(name)
        if unlink(path) != 0 && errno != ENOENT { throw Sys.failure("cannot remove", path, errno) }
        try Sys.syncDirectory(root.journalPath)
    }
}
