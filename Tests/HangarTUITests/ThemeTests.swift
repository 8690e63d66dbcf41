import Foundation
import HangarFixtures
@testable import HangarTUI
import XCTest

/// Theme files: the shipped ones, errors with lines, search order, colour depth.
final class ThemeTests: XCTestCase {
    func testEveryShippedThemeLoadsAndDefinesEveryRole() throws { try onMain {
        let library = ThemeLibrary(directories: [themesDirectory()])
        XCTAssertEqual(library.availableNames(), ["default", "high-contrast", "light", "monochrome"])
        for name in library.availableNames() {
            let text = try String(contentsOfFile: themesDirectory() + "/\(name).yaml", encoding: .utf8)
            let theme = try Theme.parse(text, file: name)
            XCTAssertEqual(theme.name, name)
            XCTAssertEqual(Set(theme.styles.keys), Set(StyleRole.allCases), "\(name) defines every role itself")
        }
    } }

    func testBuiltInDefaultIsTheShippedDefaultFile() throws { try onMain {
        let file = try String(contentsOfFile: themesDirectory() + "/default.yaml", encoding: .utf8)
        XCTAssertEqual(Theme.builtInDefaultYAML, file)
        XCTAssertEqual(try ThemeLibrary(directories: ["/nonexistent"]).load("default"), Theme.builtInDefault,
                       "an installed binary without themes/ still has the default")
    } }

    func testBadColourNamesTheFileAndLine() throws { try onMain {
        let text = "name: mine\nroles:\n  text: default\n  accent: {fg: bleu}\n"
        XCTAssertThrowsError(try Theme.parse(text, file: "/home/u/mine.yaml")) { error in
            XCTAssertEqual("\(error)", "theme /home/u/mine.yaml, line 4: unknown colour \"bleu\": use default, a name like cyan or bright-red, or #rrggbb")
        }
    } }

    func testUnknownRoleSyntaxErrorAndBadAttributeNameTheLine() throws { try onMain {
        XCTAssertThrowsError(try Theme.parse("roles:\n  text: red\n  selecton: blue\n", file: "t.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("theme t.yaml, line 3: unknown role \"selecton\""), "\(error)")
        }
        XCTAssertThrowsError(try Theme.parse("roles:\n  text: [red\n", file: "t.yaml")) { error in
            XCTAssertEqual((error as? ThemeError)?.line, 3, "\(error)")
        }
        XCTAssertThrowsError(try Theme.parse("roles:\n  ok: {fg: green, bold: maybe}\n", file: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "theme t.yaml, line 2: bold must be true or false, not \"maybe\"")
        }
    } }

    func testSearchOrderPrefersHangarThemesDirAndFallsBackToTheBuiltIn() throws { try onMain {
        let dir = try makeTemporaryDirectory("themes")
        defer { removeTree(dir) }
        try "name: light\nroles:\n  text: red\n".write(toFile: dir + "/light.yaml", atomically: true, encoding: .utf8)
        let library = ThemeLibrary.standard(environment: ["HANGAR_THEMES_DIR": dir, "HOME": "/nonexistent"], executablePath: nil)
        XCTAssertEqual(library.directories.first, dir)
        let light = try library.load("light")
        XCTAssertEqual(light.style(.text).foreground, .ansi(1))
        XCTAssertEqual(light.style(.selection), Theme.builtInDefault.style(.selection), "roles left out look as in the default")
        XCTAssertThrowsError(try library.load("nope")) { error in
            XCTAssertTrue("\(error)".contains("no such theme") && "\(error)".contains("available: default, light"), "\(error)")
        }
        XCTAssertThrowsError(try library.load("../etc/passwd"))
    } }

    func testNearestColoursFor256And8ColourTerminals() throws { try onMain {
        XCTAssertEqual(ThemeColor.parse("#ff0000")?.index(colors: 256), 196)
        XCTAssertEqual(ThemeColor.parse("#808080")?.index(colors: 256), 244)
        XCTAssertEqual(ThemeColor.parse("#5f87af")?.index(colors: 256), 67)
        XCTAssertEqual(ThemeColor.parse("#ff0000")?.index(colors: 8), 1)
        XCTAssertEqual(ThemeColor.parse("#00ffff")?.index(colors: 8), 6)
        XCTAssertEqual(ThemeColor.parse("bright-red")?.index(colors: 8), 1, "bright colours fold onto the eight")
        XCTAssertEqual(ThemeColor.parse("bright-red")?.index(colors: 256), 9)
        XCTAssertEqual(ThemeColor.parse("grey")?.index(colors: 8), 7, "grey must not turn black on a dark 8-colour terminal")
        XCTAssertEqual(ThemeColor.parse("default")?.index(colors: 256), -1)
        XCTAssertNil(ThemeColor.parse("#12345"))
    } }
}
