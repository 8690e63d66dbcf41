import HangarTUI
import XCTest

/// Without colour (NO_COLOR, `--no-color`, a terminal without colours) meaning rides on attributes: the ncurses
/// canvas draws each role with `StyleRole.attributes`.
final class CanvasAttributesTests: XCTestCase {
    private func library() -> ThemeLibrary { ThemeLibrary(directories: [themesDirectory()]) }

    func testWithoutColourTheSelectionIsReverseVideoInEveryTheme() throws {
        for name in ["default", "light", "high-contrast", "monochrome"] {
            let theme = try library().load(name)
            let selection = StyleRole.attributes(theme.style(.selection), role: .selection, colored: false)
            XCTAssertTrue(selection.contains(.reverse), "\(name): the selected row stays visible")
            let text = StyleRole.attributes(theme.style(.text), role: .text, colored: false)
            XCTAssertFalse(text.contains(.reverse), "\(name): plain rows are not reversed, or the selection would not stand out")
            for role in [StyleRole.header, .footer, .progressFill] {
                XCTAssertTrue(StyleRole.attributes(theme.style(role), role: role, colored: false).contains(.reverse), "\(name) \(role)")
            }
            for role in [StyleRole.error, .upgrade, .warning, .accent] {
                XCTAssertTrue(StyleRole.attributes(theme.style(role), role: role, colored: false).contains(.bold), "\(name) \(role)")
            }
        }
    }

    func testWithColourTheThemeDecidesAlone() throws {
        let theme = try library().load("default")
        for role in StyleRole.allCases {
            XCTAssertEqual(StyleRole.attributes(theme.style(role), role: role, colored: true), theme.style(role).attributes, "\(role)")
        }
        let underlined = RoleStyle(attributes: [.underline])
        XCTAssertEqual(StyleRole.attributes(underlined, role: .selection, colored: false), [.underline, .reverse],
                       "the theme's own attributes are kept")
    }
}
