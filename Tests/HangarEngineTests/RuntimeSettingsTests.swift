import Foundation
import HangarFixtures
import XCTest
@testable import HangarEngine

final class RuntimeSettingsTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory("settings")
    }

    override func tearDownWithError() throws {
        removeTree(root)
    }

    private func write(_ text: String, to file: RuntimeSettingsFile) throws {
        try FileManager.default.createDirectory(atPath: file.configDir, withIntermediateDirectories: true)
        try text.write(toFile: file.path, atomically: false, encoding: .utf8)
    }

    private func contents(_ file: RuntimeSettingsFile) throws -> String {
        try String(contentsOfFile: file.path, encoding: .utf8)
    }

    private func attributes(_ path: String) throws -> (mode: Int, inode: UInt64) {
        let info = try FileManager.default.attributesOfItem(atPath: path)
        return ((info[.posixPermissions] as? NSNumber)?.intValue ?? -1,
                (info[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0)
    }

    private func configurationMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", file: file, line: line)
        } catch let error as HangarError {
            XCTAssertEqual(error.category, .configuration, file: file, line: line)
            return error.message
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return ""
    }

    // MARK: File

    func testUpdateKeepsUnknownKeysAndOrder() throws {
        let file = RuntimeSettingsFile(configDir: root + "/configuration")
        try write("""
        {"zeta": 1.50, "auto_upgrade_backends": false,
         "watchdog": {"idle": "15m", "list": [1, 2]}, "alpha": "<a>", "galleries": []}
        """, to: file)
        try file.update(["auto_upgrade_backends": .bool(true), "max_active_backends": .number("2"),
                         "alpha": nil, "backend_galleries": GalleryConfig.listJSON([])])
        XCTAssertEqual(try contents(file), """
        {
          "zeta": 1.50,
          "auto_upgrade_backends": true,
          "watchdog": {
            "idle": "15m",
            "list": [
              1,
              2
            ]
          },
          "galleries": [],
          "backend_galleries": [],
          "max_active_backends": 2
        }
        """)
    }

    func testModesAndCreatedDirectory() throws {
        let file = RuntimeSettingsFile(configDir: root + "/a/b/configuration")
        try file.update(["auto_upgrade_backends": .bool(true)])
        XCTAssertEqual(try attributes(file.configDir).mode, 0o700)
        XCTAssertEqual(try attributes(root + "/a").mode, 0o700)
        XCTAssertEqual(try attributes(file.path).mode, 0o600)
        XCTAssertEqual(try contents(file), "{\n  \"auto_upgrade_backends\": true\n}")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: file.configDir), ["runtime_settings.json"],
                       "no temp files left behind")
    }

    func testWrittenThroughRename() throws {
        let file = RuntimeSettingsFile(configDir: root)
        try write("{\"x\": 1}", to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        let before = try attributes(file.path)
        try file.update(["auto_upgrade_backends": .bool(false)])
        let after = try attributes(file.path)
        XCTAssertNotEqual(before.inode, after.inode, "a new inode means rename, which fsnotify reports as Create")
        XCTAssertEqual(after.mode, 0o600)
        XCTAssertEqual(try file.read().keys, ["x", "auto_upgrade_backends"])
    }

    func testMissingAndEmptyFilesReadAsEmpty() throws {
        let file = RuntimeSettingsFile(configDir: root + "/missing")
        XCTAssertEqual(try file.read(), JSONObject())
        XCTAssertEqual(file.path, root + "/missing/runtime_settings.json")
        XCTAssertEqual(RuntimeSettingsFile(configDir: "/configuration/").path, "/configuration/runtime_settings.json")
        let empty = RuntimeSettingsFile(configDir: root)
        try write(" \n", to: empty)
        XCTAssertEqual(try empty.read(), JSONObject())
        XCTAssertEqual(try empty.readSettings(), RuntimeSettings())
    }

    func testMalformedFileReportedAndNeverOverwritten() throws {
        let file = RuntimeSettingsFile(configDir: root)
        let broken = "{\n  \"auto_upgrade_backends\": true,\n  \"x\" 1\n}"
        try write(broken, to: file)
        let message = configurationMessage { _ = try file.read() }
        XCTAssertEqual(message, "runtime_settings.json at \(file.path) is not valid JSON "
                           + "(line 3, column 7: expected ':' after object key): fix or remove the file")
        let updateMessage = configurationMessage { try file.update(["auto_upgrade_backends": .bool(false)]) }
        XCTAssertTrue(updateMessage.contains("line 3"), updateMessage)
        XCTAssertEqual(try contents(file), broken)
    }

    func testTopLevelMustBeAnObject() throws {
        let file = RuntimeSettingsFile(configDir: root)
        try write("[1]", to: file)
        let message = configurationMessage { try file.update(["a": .null]) }
        XCTAssertEqual(message, "runtime_settings.json at \(file.path) must hold a JSON object, found a list: fix or remove the file")
        XCTAssertEqual(try contents(file), "[1]")
    }

    // MARK: Typed view

    func testTypedView() throws {
        let file = RuntimeSettingsFile(configDir: root)
        try write("""
        {"auto_upgrade_backends": true, "prefer_development_backends": null, "max_active_backends": 3,
         "Enable_Backend_Logging": true, "autoload_backend_galleries": false,
         "backend_galleries": [{"name": "mine", "url": "file:///g.yaml"}]}
        """, to: file)
        XCTAssertEqual(try file.readSettings(), RuntimeSettings(
            autoUpgradeBackends: true, preferDevelopmentBackends: nil,
            backendGalleries: [GalleryConfig(name: "mine", url: "file:///g.yaml")],
            autoloadBackendGalleries: false, maxActiveBackends: 3, enableBackendLogging: true))
    }

    func testTypedViewRejectsWrongTypes() throws {
        let bad: [(String, String)] = [
            (#"{"auto_upgrade_backends": "yes"}"#, #""auto_upgrade_backends" must be true or false, found a string"#),
            (#"{"max_active_backends": 1.5}"#, #""max_active_backends" must be a whole number, found 1.5"#),
            (#"{"backend_galleries": {}}"#, "found an object, not a list"),
        ]
        for (text, expected) in bad {
            let message = configurationMessage { _ = try RuntimeSettings(try JSONValue.parse(text).objectValue!, source: "f") }
            XCTAssertTrue(message.contains(expected), message)
        }
    }

    // MARK: Effective values

    private func effective(_ fileText: String, _ environment: [String: String]) throws -> EffectiveRuntimeSettings {
        try EffectiveRuntimeSettings(file: try JSONValue.parse(fileText).objectValue!, environment: environment)
    }

    func testDefaultsWhenNothingSet() throws {
        let settings = try effective("{}", [:])
        XCTAssertFalse(settings.autoUpgradeBackends)
        XCTAssertFalse(settings.preferDevelopmentBackends)
        XCTAssertTrue(settings.autoloadBackendGalleries)
        XCTAssertEqual(settings.maxActiveBackends, 0)
        XCTAssertFalse(settings.enableBackendLogging)
        XCTAssertEqual(settings.backendGalleries, GalleryConfig.localAIDefault)
        XCTAssertEqual(settings.settings.map(\.key), RuntimeSettingKey.allCases.map(\.rawValue))
        XCTAssertTrue(settings.settings.allSatisfy { $0.source == .default && !$0.overriddenByEnvironment })
    }

    func testEnvironmentDifferentFromDefaultBeatsFile() throws {
        let settings = try effective(#"{"auto_upgrade_backends": false}"#, ["LOCALAI_AUTO_UPGRADE_BACKENDS": "true"])
        let setting = settings[.autoUpgradeBackends]
        XCTAssertTrue(settings.autoUpgradeBackends)
        XCTAssertEqual(setting.source, .environment("LOCALAI_AUTO_UPGRADE_BACKENDS"))
        XCTAssertEqual(setting.value, .bool(true))
        XCTAssertEqual(setting.fileValue, .bool(false))
        XCTAssertTrue(setting.overriddenByEnvironment)
        XCTAssertEqual(setting.environmentNote, "LOCALAI_AUTO_UPGRADE_BACKENDS=true overrides the file")

        let noFile = try effective("{}", ["AUTO_UPGRADE_BACKENDS": "1"])[.autoUpgradeBackends]
        XCTAssertEqual(noFile.source, .environment("AUTO_UPGRADE_BACKENDS"))
        XCTAssertFalse(noFile.overriddenByEnvironment, "nothing in the file to override")
        XCTAssertEqual(noFile.environmentNote, "set by AUTO_UPGRADE_BACKENDS=1")
    }

    func testEnvironmentEqualToDefaultLetsFileWin() throws {
        let settings = try effective(#"{"auto_upgrade_backends": true, "autoload_backend_galleries": false}"#,
                                     ["LOCALAI_AUTO_UPGRADE_BACKENDS": "false", "LOCALAI_AUTOLOAD_BACKEND_GALLERIES": "true"])
        XCTAssertTrue(settings.autoUpgradeBackends)
        XCTAssertEqual(settings[.autoUpgradeBackends].source, .file)
        XCTAssertFalse(settings[.autoUpgradeBackends].overriddenByEnvironment)
        XCTAssertFalse(settings.autoloadBackendGalleries)
        XCTAssertEqual(settings[.autoloadBackendGalleries].source, .file)
    }

    func testOtherKeysFromEnvironment() throws {
        let galleries = #"[{"name":"mine","url":"https://example.org/index.yaml"}]"#
        let settings = try effective(
            #"{"max_active_backends": 5, "prefer_development_backends": false, "enable_backend_logging": true}"#,
            ["LOCALAI_MAX_ACTIVE_BACKENDS": "2", "PREFER_DEV_BACKENDS": "T", "LOCALAI_AUTOLOAD_BACKEND_GALLERIES": "false",
             "BACKEND_GALLERIES": galleries, "LOCALAI_ENABLE_BACKEND_LOGGING": "false"])
        XCTAssertEqual(settings.maxActiveBackends, 2)
        XCTAssertEqual(settings[.maxActiveBackends].value, .number("2"))
        XCTAssertTrue(settings[.maxActiveBackends].overriddenByEnvironment)
        XCTAssertTrue(settings.preferDevelopmentBackends)
        XCTAssertFalse(settings.autoloadBackendGalleries)
        XCTAssertEqual(settings.backendGalleries, [GalleryConfig(name: "mine", url: "https://example.org/index.yaml")])
        XCTAssertEqual(settings[.backendGalleries].source, .environment("BACKEND_GALLERIES"))
        XCTAssertTrue(settings.enableBackendLogging, "file-authoritative")
        XCTAssertEqual(settings[.enableBackendLogging].source, .file)
    }

    func testGalleriesEnvEqualToDefaultLetsFileWin() throws {
        let defaultText = GalleryConfig.listJSON(GalleryConfig.localAIDefault).compact()
        let settings = try effective(#"{"backend_galleries": [{"url": "file:///g.yaml", "name": "local"}]}"#,
                                     ["LOCALAI_BACKEND_GALLERIES": defaultText])
        XCTAssertEqual(settings.backendGalleries, [GalleryConfig(name: "local", url: "file:///g.yaml")])
        XCTAssertEqual(settings[.backendGalleries].source, .file)
    }

    func testMalformedEnvironmentNamesTheVariable() {
        XCTAssertEqual(configurationMessage { _ = try self.effective("{}", ["LOCALAI_AUTO_UPGRADE_BACKENDS": "yes"]) },
                       "LOCALAI_AUTO_UPGRADE_BACKENDS=yes is not a boolean: use true or false, or unset it")
        XCTAssertTrue(configurationMessage { _ = try self.effective("{}", ["MAX_ACTIVE_BACKENDS": "two"]) }
            .hasPrefix("MAX_ACTIVE_BACKENDS=two is not a whole number"))
        XCTAssertTrue(configurationMessage { _ = try self.effective("{}", ["LOCALAI_BACKEND_GALLERIES": "[{"]) }
            .hasPrefix("LOCALAI_BACKEND_GALLERIES is not valid JSON (line 1, column 3"))
    }

    func testGoBoolParsing() {
        for text in ["1", "t", "T", "TRUE", "true", "True"] { XCTAssertEqual(EffectiveRuntimeSettings.parseGoBool(text), true, text) }
        for text in ["0", "f", "F", "FALSE", "false", "False"] { XCTAssertEqual(EffectiveRuntimeSettings.parseGoBool(text), false, text) }
        for text in ["yes", "no", "tRUE", " true", "2", "", "on"] { XCTAssertNil(EffectiveRuntimeSettings.parseGoBool(text), text) }
    }

    // MARK: Gallery lists

    func testGalleryListRoundTrip() throws {
        let text = #"[{"name":"localai","url":"https://index.localai.io/backends","mirrors":["github:mudler/LocalAI/backend/index.yaml@master"],"# +
            #""verification":{"issuer":"https://token.actions.githubusercontent.com","identity_regex":"^https://github\\.com/x$"}},"# +
            #"{"URL":"file:///srv/index.yaml","Name":"local","mirrors":null,"extra":1}]"#
        let list = try GalleryConfig.parseList(text)
        XCTAssertEqual(list, [
            GalleryConfig(name: "localai", url: "https://index.localai.io/backends",
                          mirrors: ["github:mudler/LocalAI/backend/index.yaml@master"],
                          verification: GalleryVerification(issuer: "https://token.actions.githubusercontent.com",
                                                            identityRegex: "^https://github\\.com/x$")),
            GalleryConfig(name: "local", url: "file:///srv/index.yaml"),
        ])
        let written = GalleryConfig.listJSON(list).compact()
        XCTAssertEqual(written, #"[{"url":"https://index.localai.io/backends","name":"localai","mirrors":["github:mudler/LocalAI/backend/index.yaml@master"],"# +
            #""verification":{"issuer":"https://token.actions.githubusercontent.com","identity_regex":"^https://github\\.com/x$"}},"# +
            #"{"url":"file:///srv/index.yaml","name":"local"}]"#)
        XCTAssertEqual(try GalleryConfig.parseList(written), list)
    }

    func testGalleryListEdgeCases() throws {
        XCTAssertEqual(try GalleryConfig.parseList(""), [])
        XCTAssertEqual(try GalleryConfig.parseList("null"), [])
        XCTAssertEqual(try GalleryConfig.parseList("[]"), [])
        let emptyPolicy = try GalleryConfig.parseList(#"[{"url":"u","name":"n","verification":{}}]"#)
        XCTAssertEqual(emptyPolicy.first?.verification, GalleryVerification())
        XCTAssertEqual(GalleryConfig.listJSON(emptyPolicy).compact(), #"[{"url":"u","name":"n","verification":{}}]"#)
    }

    func testGalleryListErrors() {
        let example = #"expected a list like [{"name":"localai","url":"https://index.localai.io/backends"}]"#
        let cases: [(String, String)] = [
            ("[{\"name\": \"x\",}]", "LOCALAI_BACKEND_GALLERIES is not valid JSON (line 1, column 15: trailing comma before '}'); "),
            (#"{"name":"x"}"#, "LOCALAI_BACKEND_GALLERIES: found an object, not a list; "),
            (#"["x"]"#, "LOCALAI_BACKEND_GALLERIES: element 1 is a string, not an object; "),
            (#"[{"url":1}]"#, #"LOCALAI_BACKEND_GALLERIES: element 1: "url" must be a string, found a number; "#),
            (#"[{"url":"u","mirrors":"m"}]"#, #"LOCALAI_BACKEND_GALLERIES: element 1: "mirrors" must be a list of strings; "#),
        ]
        for (text, prefix) in cases {
            let message = configurationMessage { _ = try GalleryConfig.parseList(text, source: "LOCALAI_BACKEND_GALLERIES") }
            XCTAssertEqual(message, prefix + example)
        }
    }
}

extension RuntimeSettingsTests {
    func testEffectiveSettingsFromFile() throws {
        let file = RuntimeSettingsFile(configDir: root)
        try file.update(["auto_upgrade_backends": .bool(true), "max_active_backends": .string("x")])
        let message = configurationMessage { _ = try file.effective(environment: [:]).settings }
        XCTAssertEqual(message, "runtime_settings.json at \(file.path): \"max_active_backends\" must be a whole number, found \"x\": fix the file")
        try file.update(["max_active_backends": nil])
        let rows = try file.effective(environment: ["LOCALAI_AUTO_UPGRADE_BACKENDS": "false"]).settings
        XCTAssertEqual(rows.first, EffectiveSetting(key: "auto_upgrade_backends", value: .bool(true), source: .file,
                                                    fileValue: .bool(true), overriddenByEnvironment: false))
    }
}
