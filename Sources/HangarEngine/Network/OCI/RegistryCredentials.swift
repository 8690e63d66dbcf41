import Foundation

/// Registry logins from Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): the
/// `auths` entries, with a base64 `auth` (`user:password`) or `username`/`password`. `credsStore` and
/// `credHelpers` (external helper programs) are not supported; registries they cover are pulled anonymously.
public struct RegistryCredentials: Sendable, Equatable {
    /// A user name and password (or identity token used as the password).
    public struct Login: Sendable, Equatable {
        /// The account name (`auth`'s part before the first colon, or `username`).
        public var username: String
        /// The password or access token sent with it.
        public var password: String
        public init(username: String, password: String) { self.username = username; self.password = password }

        /// `Basic <base64(user:password)>`.
        public var basicAuthorization: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
    }

    /// Logins keyed by registry host as written in `auths` (normalised: scheme and path dropped).
    public var logins: [String: Login]
    /// Problems reading the file (shown as warnings; pulls go on anonymously).
    public var warnings: [String]

    public init(logins: [String: Login] = [:], warnings: [String] = []) {
        self.logins = logins
        self.warnings = warnings
    }

    /// The login for `registry`; Docker Hub is also found under its historical keys.
    public func login(for registry: String) -> Login? {
        if let hit = logins[registry] { return hit }
        if registry == "docker.io" {
            for key in ["index.docker.io", "registry-1.docker.io"] { if let hit = logins[key] { return hit } }
        }
        return nil
    }

    /// Reads the config file the environment points at; a missing file means no logins.
    public static func load(environment: [String: String]) -> RegistryCredentials {
        let path: String
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty {
            path = dir + "/config.json"
        } else if let home = environment["HOME"], !home.isEmpty {
            path = home + "/.docker/config.json"
        } else {
            return RegistryCredentials()
        }
        guard let data = FileManager.default.contents(atPath: path) else { return RegistryCredentials() }
        return parse(Array(data), path: path)
    }

    /// Parses a `config.json` body; `path` is only for messages.
    public static func parse(_ bytes: [UInt8], path: String) -> RegistryCredentials {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes, maxBytes: 4 << 20)
        } catch {
            return RegistryCredentials(warnings: ["\(path): \(error); registry logins ignored"])
        }
        var result = RegistryCredentials()
        if root["credsStore"]?.stringValue != nil || root["credHelpers"]?.objectValue.map({ !$0.isEmpty }) == true {
            result.warnings.append("\(path): credsStore/credHelpers are not supported by hangar; only plain auths entries are used")
        }
        for member in root["auths"]?.objectValue?.members ?? [] {
            let host = normaliseKey(member.key)
            if member.value["identitytoken"]?.stringValue.map({ !$0.isEmpty }) == true {
                result.warnings.append("\(path): auths[\"\(member.key)\"].identitytoken (an OAuth refresh token) is not supported by hangar; ignored")
            }
            if let auth = member.value["auth"]?.stringValue, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    result.warnings.append("\(path): auths[\"\(member.key)\"].auth is not base64 of user:password; ignored")
                    continue
                }
                result.logins[host] = Login(username: String(decoded[..<colon]),
                                            password: String(decoded[decoded.index(after: colon)...]))
            } else if let user = member.value["username"]?.stringValue, let password = member.value["password"]?.stringValue {
                result.logins[host] = Login(username: user, password: password)
            }
        }
        return result
    }

    /// `https://index.docker.io/v1/` → `index.docker.io`.
    private static func normaliseKey(_ key: String) -> String {
        var host = Substring(key)
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        return String(host)
    }
}
