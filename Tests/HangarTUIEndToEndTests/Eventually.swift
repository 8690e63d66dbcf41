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
