/// How the Backends list is ordered.
public enum BackendOrder: String, CaseIterable, Sendable {
    case name = "by name"
    case upgradesFirst = "upgrades first"
    case upgradesOnly = "upgrades only"
}

/// A row of the Settings screen.
public enum SettingItem: Int, CaseIterable, Sendable {
    case autoUpgrade, checkInterval, preferDevelopment, capability, galleries, keepGenerations, theme
}
