import CNCursesW
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Input the terminal produced.
enum TerminalInput {
    case key(Key)
    case click(x: Int, y: Int)
    case wheel(Int)
}

/// The only place that calls ncurses. Owns the SCREEN and its WINDOW (which never leave the main actor),
/// maps style roles to colour pairs, decodes keys, and restores the terminal.
@MainActor
final class NCursesCanvas: Canvas {
    private let window: UnsafeMutablePointer<WINDOW>
    private(set) var colorsEnabled = false
    private var colorStarted = false
    private var attributes: [StyleRole: attr_t] = [:]
    private var blanks = ""
    /// ASCII mode (no UTF-8 locale, or `--ascii`): every non-ASCII character is printed as its ASCII twin or `?`.
    var asciiOnly = false

    var width: Int { Int(getmaxx(window)) }
    var height: Int { Int(getmaxy(window)) }

    private init(window: UnsafeMutablePointer<WINDOW>) { self.window = window }

    /// Opens the terminal on stdin/stdout; nil when it cannot (unknown TERM). Uses newterm, not initscr,
    /// because initscr exits the process on an unknown terminal.
    static func open() -> NCursesCanvas? {
        TerminalRestore.saveTerminalState()
        guard let output = fdopen(STDOUT_FILENO, "w"), let input = fdopen(STDIN_FILENO, "r"),
              let screen = newterm(nil, output, input) else { return nil }
        _ = set_term(screen)
        guard let window = hangar_nc_stdscr() else { return nil }
        TerminalRestore.isActive.store(true, ordering: .releasing)
        _ = cbreak()
        _ = noecho()
        _ = nonl()
        _ = keypad(window, true)
        _ = nodelay(window, true)
        _ = curs_set(0)
        _ = set_escdelay(25)
        _ = mousemask(hangar_nc_mouse_mask(), nil)
        _ = mouseinterval(0)
        return NCursesCanvas(window: window)
    }

    /// Maps every role to a colour pair for this terminal's colour count; `noColor` keeps attributes only.
    func apply(_ theme: Theme, noColor: Bool) {
        colorsEnabled = !noColor && has_colors()
        if colorsEnabled, !colorStarted {
            _ = start_color()
            _ = use_default_colors()
            colorStarted = true
        }
        let colors = Int(hangar_nc_colors())
        attributes = [:]
        for (i, role) in StyleRole.allCases.enumerated() {
            let style = theme.style(role)
            let colored = colorsEnabled && i + 1 < Int(hangar_nc_color_pairs())
            var attr = ncursesAttributes(StyleRole.attributes(style, role: role, colored: colored))
            if colored {
                let pair = Int16(i + 1)
                _ = init_pair(pair, Int16(style.foreground.index(colors: colors)), Int16(style.background.index(colors: colors)))
                attr |= hangar_nc_color_pair(Int32(pair))
            }
            attributes[role] = attr
        }
    }

    /// `256 colours`, `8 colours`, `no colour (NO_COLOR)`: shown in Settings.
    func colorDescription(noColor: Bool) -> String {
        if noColor { return "colour off (NO_COLOR or --no-color)" }
        if !colorsEnabled { return "this terminal has no colours" }
        return "\(hangar_nc_colors()) colours"
    }

    private func ncursesAttributes(_ a: CellAttributes) -> attr_t {
        var attr: attr_t = 0
        if a.contains(.bold) { attr |= hangar_nc_bold() }
        if a.contains(.reverse) { attr |= hangar_nc_reverse() }
        if a.contains(.underline) { attr |= hangar_nc_underline() }
        return attr
    }

    private func attr(_ style: Style) -> attr_t { (attributes[style.role] ?? 0) | ncursesAttributes(style.attributes) }

    func put(_ text: String, x: Int, y: Int, style: Style, maxWidth: Int) {
        guard y >= 0, y < height, x >= 0, x < width else { return }
        let room = min(maxWidth, width - x)
        guard room > 0 else { return }
        // Cut by terminal cells, not characters: an emoji takes two, and one cell too many makes ncurses wrap
        // onto the next line.
        let shown = TerminalText.displayable(text, asciiOnly: asciiOnly)
        let clipped = shown.cellWidth > room ? String(shown.prefix(cells: room)) : shown
        let a = attr(style)
        _ = wattrset(window, Int32(bitPattern: a))
        _ = mvwaddstr(window, Int32(y), Int32(x), clipped)
        _ = wattrset(window, 0)
    }

    func fill(x: Int, y: Int, width: Int, height: Int, style: Style) {
        let w = min(width, self.width - max(0, x))
        guard w > 0 else { return }
        if blanks.count < w { blanks = String(repeating: " ", count: w) }
        let line = String(blanks.prefix(w))
        for row in max(0, y)..<max(max(0, y), min(self.height, y + height)) {
            put(line, x: max(0, x), y: row, style: style, maxWidth: w)
        }
    }

    /// Starts a frame (erase, so ncurses only sends what changed).
    func beginFrame() { _ = werase(window) }

    /// Sends the frame to the terminal.
    func endFrame() {
        _ = wnoutrefresh(window)
        _ = doupdate()
    }

    /// Reads every pending input without blocking.
    func readInput() -> [TerminalInput] {
        var out: [TerminalInput] = []
        while true {
            let ch = wgetch(window)
            if ch == ERR { break }
            if let input = decode(ch) { out.append(input) }
        }
        return out
    }

    private func decode(_ ch: Int32) -> TerminalInput? {
        switch ch {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_BTAB: return .key(.backTab)
        case KEY_ENTER, 10, 13: return .key(.enter)
        case KEY_BACKSPACE, 127, 8: return .key(.backspace)
        case 9: return .key(.tab)
        case 27: return .key(.escape)
        case 3: return .key(.ctrlC)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if event.bstate & hangar_nc_wheel_up() != 0 { return .wheel(-1) }
            if event.bstate & hangar_nc_wheel_down() != 0 { return .wheel(1) }
            if event.bstate & hangar_nc_button1() != 0 { return .click(x: Int(event.x), y: Int(event.y)) }
            return nil
        case KEY_RESIZE: return nil
        case 32..<127: return .key(.char(Character(Unicode.Scalar(UInt8(ch)))))
        default: return nil
        }
    }

    /// Follows a SIGWINCH: asks the kernel for the new size and resizes ncurses' screen.
    func resizeToTerminal() {
        var rows: Int32 = 0
        var cols: Int32 = 0
        if hangar_nc_terminal_size(STDOUT_FILENO, &rows, &cols) == 0 { _ = resizeterm(rows, cols) }
    }

    /// Ctrl-Z, first half: gives the terminal back to the shell (cooked mode, main screen).
    func suspend() {
        _ = endwin()
        TerminalRestore.isActive.store(false, ordering: .releasing)
    }

    /// Ctrl-Z, second half, after SIGCONT: takes the terminal again; the caller redraws.
    func resume() {
        // The shell may have changed the terminal while hangar was stopped: that is the state to restore on exit.
        TerminalRestore.saveTerminalState()
        TerminalRestore.isActive.store(true, ordering: .releasing)
        repaintAll()
    }

    /// After SIGCONT: the terminal's contents are unknown (the shell drew on it), so the next frame repaints
    /// every cell at the terminal's current size.
    func repaintAll() {
        resizeToTerminal()
        _ = clearok(window, true)
    }

    /// Leaves curses mode: cooked mode, cursor back, main screen.
    func close() {
        _ = endwin()
        TerminalRestore.isActive.store(false, ordering: .releasing)
    }
}
