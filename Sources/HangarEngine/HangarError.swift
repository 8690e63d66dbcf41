/// The one error type the engine reports: a single line that names what failed and how to fix it.
public struct HangarError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Whether the user must change their input/configuration, or an operation failed on the way.
    public enum Category: Sendable, Equatable {
        /// Bad flags, environment, names or configuration: the CLI exits 2.
        case configuration
        /// An operation ran and failed (download, validation, swap, ...): the CLI exits 1.
        case operation
        /// The named backend or gallery entry does not exist: the CLI exits 1.
        case notFound
    }

    public let category: Category
    public let message: String

    public init(_ category: Category, _ message: String) {
        self.category = category
        self.message = message
    }

    public static func configuration(_ message: String) -> HangarError { HangarError(.configuration, message) }
    public static func operation(_ message: String) -> HangarError { HangarError(.operation, message) }
    public static func notFound(_ message: String) -> HangarError { HangarError(.notFound, message) }

    public var description: String { message }
}
