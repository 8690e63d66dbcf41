import Foundation
import HangarFixtures
import XCTest

/// Polls `condition` (the shared `waitUntil`, every 50 ms) until it holds or `timeout` passes; the failure names what
/// was awaited and shows `context()` (typically the screen), so a red test says what the user would have seen.
func eventually(_ what: String, timeout: TimeInterval = 10, file: StaticString = #filePath, line: UInt = #line,
                context: () -> String = { "" }, _ condition: () throws -> Bool) rethrows {
    if try !waitUntil(timeout: timeout, condition) {
        XCTFail("timed out after \(timeout) s waiting for \(what)\n\(context())", file: file, line: line)
    }
}

/// The selected row of the list on screen (the one the `▸` marks).
func selectedRow(_ session: TmuxSession) -> String? { session.lines.first { $0.hasPrefix("▸") } }

/// Moves the selection with `j` until `name`'s row is selected, and with `k` once it cannot go further down.
func select(_ name: String, in session: TmuxSession, file: StaticString = #filePath, line: UInt = #line) throws {
    var key = "j"
    for _ in 0..<40 {
        let current = selectedRow(session) ?? ""
        if current.dropFirst(2).hasPrefix(name + " ") { return }
        try session.send(key)
        if !waitUntil(timeout: 3, { (selectedRow(session) ?? "") != current }) {
            guard key == "j" else { break }
            key = "k"  // the bottom of the list: the row is above
        }
    }
    XCTFail("could not select \(name)\n\(session.screen())", file: file, line: line)
}
