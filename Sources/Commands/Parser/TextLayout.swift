extension ArgumentParser {
    /// Plain-text layout shared by help, usage and man-page rendering: word wrapping and paragraphs.
    enum TextLayout {
        static let width = 80

        /// Breaks `words` into lines no wider than `width`; the first line starts after `firstIndent`
        /// columns (already occupied by the caller), the others are indented by `indent` spaces.
        /// A word longer than a line gets a line of its own.
        static func wrap(words: [String], width: Int = TextLayout.width, indent: Int, firstIndent: Int) -> [String] {
            var lines: [String] = []
            var line = ""
            var column = firstIndent
            for word in words where !word.isEmpty {
                if line.isEmpty {
                    line = word
                    column += word.count
                } else if column + 1 + word.count <= width {
                    line += " " + word
                    column += 1 + word.count
                } else {
                    lines.append(line)
                    line = String(repeating: " ", count: indent) + word
                    column = indent + word.count
                }
            }
            if !line.isEmpty || lines.isEmpty {
                lines.append(line)
            }
            return lines
        }

        /// Wraps prose at `width`, indenting every line by `indent` spaces.
        static func wrap(_ text: String, indent: Int, width: Int = TextLayout.width) -> String {
            let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
            let lines = wrap(words: words, width: width, indent: indent, firstIndent: indent)
            return String(repeating: " ", count: indent) + lines.joined(separator: "\n")
        }

        /// One block of a discussion or a man-page section body.
        enum Paragraph: Equatable {
            /// Running text, re-wrapped freely.
            case prose(String)
            /// Lines kept exactly (with their common indentation removed).
            case preformatted([String])
            /// A term on a flush line followed by text describing it: indented, or after a term that is
            /// one word (`MCPCTL_DB`, `64`) not ending in `.` or `:`.
            case definition(term: String, body: String)
        }

        /// Splits text into paragraphs at blank lines and classifies each by its indentation.
        static func paragraphs(_ text: String) -> [Paragraph] {
            var blocks: [[String]] = [[]]
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = String(line)
                if line.allSatisfy(\.isWhitespace) {
                    if !blocks[blocks.count - 1].isEmpty { blocks.append([]) }
                } else {
                    blocks[blocks.count - 1].append(line)
                }
            }
            return blocks.filter { !$0.isEmpty }.map { lines in
                let indented = lines.map { $0.first?.isWhitespace == true }
                if indented.allSatisfy({ $0 }) {
                    let common = lines.map { $0.prefix(while: \.isWhitespace).count }.min() ?? 0
                    return .preformatted(lines.map { String($0.dropFirst(common)) })
                }
                let termLike = !lines[0].contains(where: \.isWhitespace) && !lines[0].hasSuffix(".") && !lines[0].hasSuffix(":")
                if lines.count > 1, !indented[0], termLike || indented.dropFirst().allSatisfy({ $0 }) {
                    return .definition(term: trim(lines[0]), body: lines.dropFirst().map(trim).joined(separator: " "))
                }
                return .prose(lines.map(trim).joined(separator: " "))
            }
        }

        /// The string without leading and trailing whitespace.
        static func trim(_ text: String) -> String {
            let start = text.firstIndex { !$0.isWhitespace } ?? text.endIndex
            let end = text.lastIndex { !$0.isWhitespace }.map(text.index(after:)) ?? start
            return String(text[start..<end])
        }

        /// Renders a discussion for the terminal: prose wrapped at `width`, preformatted lines as given.
        static func render(discussion: String, indent: Int) -> String {
            let pad = String(repeating: " ", count: indent)
            return paragraphs(discussion).map { paragraph -> String in
                switch paragraph {
                case .prose(let text):
                    return wrap(text, indent: indent)
                case .preformatted(let lines):
                    return lines.map { pad + "  " + $0 }.joined(separator: "\n")
                case .definition(let term, let body):
                    return pad + term + "\n" + wrap(body, indent: indent + 4)
                }
            }.joined(separator: "\n\n")
        }
    }

}
