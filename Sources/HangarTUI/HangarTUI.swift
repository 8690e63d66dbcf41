/// The full-screen terminal UI: renders engine state and sends the engine commands.
public enum HangarTUI {}
