/// A plain left-aligned text table; the last column is not padded. Widths count Unicode scalars (one cell each for
/// the arrows and dashes hangar prints), not grapheme clusters, which would cost more than the rest on a long table.
struct Table {
    let header: [String]
    private(set) var rows: [[String]] = []

    init(header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// Writes the table line by line (the same text as `render()` plus a final newline).
    func render(into out: inout Output.Buffered) {
        let widths = columnWidths()
        for row in [header] + rows {
            out.write(line(row, widths))
            out.write("\n")
        }
    }

    private func columnWidths() -> [Int] {
        var widths = [Int](repeating: 0, count: header.count)
        for row in [header] + rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.unicodeScalars.count) } }
        return widths
    }

    private func line(_ row: [String], _ widths: [Int]) -> String {
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.unicodeScalars.count)
        }.joined(separator: "  ").trimmingTrailingSpaces()
    }

    func render() -> String {
        let widths = columnWidths()
        return ([header] + rows).map { line($0, widths) }.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
