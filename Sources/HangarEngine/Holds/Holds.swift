import Foundation

/// A backend that upgrades leave alone: checked and shown with its upgrade, never upgraded by `upgrade` (all), `U`
/// or hangar's auto-upgrade, and `upgrade NAME` refuses it without `--ignore-hold`. A pin is a hold made by
/// `install --tag`: its checks compare with the pinned tag, never with the gallery's floating one.
public struct Hold: Sendable, Equatable {
    /// Why, in the user's words (a pin's is "pinned to TAG").
    public var reason: String
    /// When it was set (RFC 3339, local time).
    public var heldAt: String
    /// For a pin: the image reference it was installed from (`registry/repo:v3.4.0-cpu-llama-cpp`).
    public var pinnedURI: String?

    public init(reason: String, heldAt: String = RFC3339.localNow(), pinnedURI: String? = nil) {
        self.reason = reason
        self.heldAt = heldAt
        self.pinnedURI = pinnedURI
    }

    /// `held: keeps whisper at v2 for model X` or `pinned to v3.4.0-cpu-llama-cpp`.
    public var text: String { pinnedURI != nil ? reason : "held: " + reason }

    var jsonValue: JSONValue {
        var o = JSONObject()
        o["reason"] = .string(reason)
        o["held_at"] = .string(heldAt)
        if let pinnedURI { o["pinned_uri"] = .string(pinnedURI) }
        return .object(o)
    }

    init?(_ value: JSONValue) {
        guard let reason = value["reason"]?.stringValue else { return nil }
        self.init(reason: reason, heldAt: value["held_at"]?.stringValue ?? "", pinnedURI: value["pinned_uri"]?.stringValue)
    }
}

/// hangar's holds on one backends dir, in its own state (`<backends>/.hangar/holds.json`, never in LocalAI's
/// metadata.json). Changes are read-modify-write under an exclusive lock, replaced atomically, so several hangar
/// processes never lose each other's holds.
struct HoldsFile: Sendable {
    static let fileName = "holds.json"
    let root: BackendsRoot

    var path: String { root.privatePath + "/" + Self.fileName }

    /// Every hold by backend directory name; none when the file does not exist.
    func read() throws -> [String: Hold] {
        let object = try SettingsFileIO.readObject(path, named: "hangar's holds file \(path)")
        guard let holds = object["holds"] else { return [:] }
        guard case .object(let entries) = holds else {
            throw HangarError.configuration("hangar's holds file \(path): \"holds\" must be an object: fix or remove the file")
        }
        var result: [String: Hold] = [:]
        for member in entries.members {
            let (name, value) = (member.key, member.value)
            guard let hold = Hold(value) else {
                throw HangarError.configuration("hangar's holds file \(path): the hold of \"\(name)\" has no reason: fix or remove the file")
            }
            result[name] = hold
        }
        return result
    }

    /// Applies `change` to the holds under the file's lock and writes the result when it differs; returns what
    /// `change` returned.
    func update<T>(_ change: (inout [String: Hold]) throws -> T) throws -> T {
        try root.withStateLock("holds") {
            let before = try read()
            var holds = before
            let result = try change(&holds)
            if holds != before { try BackendsRoot.writeStateFile(path, key: "holds", entries: holds.mapValues(\.jsonValue)) }
            return result
        }
    }
}

extension Engine {
    /// Every hold, by the backend directory it keeps (a meta's hold sits on its concrete).
    public func holds() throws -> [String: Hold] { try HoldsFile(root: root).read() }

    /// Holds the build behind `name` (a meta's concrete, an alias's build); returns the directory held.
    /// A system backend or a name that is not installed is refused with what to do instead.
    @discardableResult
    public func hold(_ name: String, reason: String?, pinnedURI: String? = nil) throws -> String {
        try requireLocalDirectory(for: .holds)
        let target = try holdTarget(name)
        let reason = reason.flatMap { $0.isEmpty ? nil : $0 } ?? "held by hand"
        try HoldsFile(root: root).update { $0[target] = Hold(reason: reason, pinnedURI: pinnedURI) }
        return target
    }

    /// Removes the hold (or pin) on the build behind `name`; returns the directory released, nil when none was held.
    @discardableResult
    public func unhold(_ name: String) throws -> String? {
        try requireLocalDirectory(for: .holds)
        _ = try BackendName.validate(name)
        let target = (try? installed().get(name)).flatMap { $0.map(UpgradeDecision.target(of:)) } ?? name
        return try HoldsFile(root: root).update { holds -> String? in
            if holds.removeValue(forKey: target) != nil { return target }
            return holds.removeValue(forKey: name) != nil ? name : nil
        }
    }

    /// A warning when holds exist while LocalAI's own auto-upgrade is on: LocalAI knows nothing of hangar's holds,
    /// so saying a backend is held without it would be a claim LocalAI does not honour. Nil otherwise.
    public func holdsIgnoredByLocalAI() -> String? {
        guard let holds = try? holds(), !holds.isEmpty, (try? settings().autoUpgradeBackends) == true else { return nil }
        let names = holds.keys.sorted().joined(separator: ", ")
        return "LocalAI's own auto-upgrade (auto_upgrade_backends) is on and does not know hangar's holds: a running "
            + "LocalAI may still upgrade \(names). Turn it off (hangar settings auto-upgrade off) and let "
            + "`hangar daemon --auto-upgrade` do auto-upgrades, which respect holds"
    }

    private func holdTarget(_ name: String) throws -> String {
        _ = try BackendName.validate(name)
        guard let row = try installed().get(name) else {
            throw HangarError.notFound("backend \"\(name)\" is not installed (hangar list shows what is installed)")
        }
        if row.isSystem {
            throw HangarError.configuration("\(name) is a system backend: it is never upgraded from a gallery, so there is nothing to hold")
        }
        return UpgradeDecision.target(of: row)
    }

    var root: BackendsRoot { BackendsRoot(configuration.backendsPath) }
}
