import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a password from the first line of stdin, or from the terminal with echo off (asked twice).
enum PasswordInput {
    static func read(fromStdin: Bool, confirm: Bool) throws -> String? {
        if fromStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure(message: "--password-stdin given but standard input held no password", code: ExitCode.failure)
            }
            return line
        }
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        let first = try prompt("Password: ")
        if confirm {
            let second = try prompt("Repeat password: ")
            guard ConstantTime.equals(Array(first.utf8), Array(second.utf8)) else {
                throw CommandFailure(message: "the passwords do not match", code: ExitCode.failure)
            }
        }
        return first
    }

    private static func prompt(_ text: String) throws -> String {
        Output.write(text, to: STDERR_FILENO)
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            Output.write("\n", to: STDERR_FILENO)
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandFailure(message: "no password entered", code: ExitCode.failure)
        }
        return line
    }
}

import MCPAuth
