/// Splits a command line into an argv array with shell-like quoting ('…', "…", backslash), never running a shell.
enum ShellWords {
    struct SplitError: Error { let message: String }

    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escape = false
        for ch in text {
            if escape {
                current.append(ch); escape = false; inWord = true; continue
            }
            if let q = quote {
                if ch == q { quote = nil }
                else if ch == "\\" && q == "\"" { escape = true }
                else { current.append(ch) }
                continue
            }
            switch ch {
            case "\\": escape = true; inWord = true
            case "'", "\"": quote = ch; inWord = true
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(ch); inWord = true
            }
        }
        if escape { throw SplitError(message: "trailing backslash") }
        if quote != nil { throw SplitError(message: "unterminated quote") }
        if inWord { words.append(current) }
        guard !words.isEmpty else { throw SplitError(message: "empty command") }
        return words
    }

    /// Quotes a word so `split` gives it back unchanged.
    static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@+%".contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

import Foundation
