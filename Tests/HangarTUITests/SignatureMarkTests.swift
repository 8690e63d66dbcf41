import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// A verified backend (a record in `.hangar/signatures.json`, as an install with a gallery policy writes it) is
/// marked on Backends and described on Detail; one without a record says "unsigned".
final class SignatureMarkTests: XCTestCase {
    func testBackendsMarksVerifiedRowsAndDetailSaysWhoSigned() throws { try onMain {
        let fixture = try TUIFixture()
        try FileManager.default.createDirectory(atPath: fixture.backends + "/.hangar", withIntermediateDirectories: true)
        try """
            {"backends": {"piper": {"digest": "sha256:\(String(repeating: "ab", count: 32))",
              "identity": "https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master",
              "issuer": "https://token.actions.githubusercontent.com", "log_index": 1000004, "signed_at": 1796320926,
              "verified_at": "2026-12-03T19:40:00Z"}}}
            """.write(toFile: fixture.backends + "/.hangar/signatures.json", atomically: true, encoding: .utf8)
        var state = try UIState.loaded(try fixture.engine())
        let list = draw(state)
        XCTAssertTrue(line(list, containing: "piper ").contains("verified"), list.text)
        XCTAssertFalse(line(list, containing: "oldimg").contains("verified"), list.text)

        state.selection[.backends] = try XCTUnwrap(state.backendRows.firstIndex { $0.name == "piper" })
        _ = state.handle(.enter)
        let detail = draw(state, width: 240)
        XCTAssertTrue(line(detail, containing: "  signature ").contains(
            "signed by https://github.com/mudler/LocalAI/.github/workflows/backend_merge.yml@refs/heads/master (https://token.actions.githubusercontent.com), verified 2026-12-03T19:40:00Z"),
            detail.text)
        _ = state.handle(.escape)
        state.selection[.backends] = try XCTUnwrap(state.backendRows.firstIndex { $0.name == "oldimg" })
        _ = state.handle(.enter)
        XCTAssertTrue(line(draw(state), containing: "  signature ").contains("unsigned"))
    } }
}
