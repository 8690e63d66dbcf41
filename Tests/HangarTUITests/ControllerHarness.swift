import Foundation
import HangarEngine
@testable import HangarTUI
import XCTest

/// A started controller on `fixture`'s engine drawing on a 120×30 cell grid, after its first upgrade check.
@MainActor func startedController(_ fixture: TUIFixture) throws -> (UIController, CellGridCanvas) {
    let engine = try fixture.engine()
    let controller = UIController(engine: engine, checker: UpgradeScheduler(engine: engine, interval: { 3600 }),
                                  snapshot: EngineSnapshot.load(engine), glyphs: .unicode)
    let canvas = CellGridCanvas(width: 120, height: 30)
    controller.draw = { Screens.render($0, on: canvas) }
    controller.start()
    waitOnMain("the first check") { controller.state.upgrades.lastCheck != nil && !controller.state.upgrades.isChecking }
    return (controller, canvas)
}

/// Moves the Backends selection from the top to `name`'s row with `j`, as a user would.
@MainActor func selectBackend(_ controller: UIController, _ name: String) throws {
    let index = try XCTUnwrap(controller.state.backendRows.firstIndex { $0.name == name })
    controller.handle(.char("g"))
    for _ in 0..<index { controller.handle(.char("j")) }
}
