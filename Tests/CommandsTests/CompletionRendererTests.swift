import Commands
import Foundation
import Testing

/// Runs installed programs (shells, groff, man) for tests that check generated scripts and pages.
enum ExternalTool {
    /// The absolute path of `name` on PATH (or in /usr/bin, /bin), or nil when it is not installed.
    static func path(of name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func isInstalled(_ name: String) -> Bool {
        path(of: name) != nil
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `name` with `arguments` in `directory` and returns its exit status and output.
    static func run(_ name: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let executable = try #require(path(of: name), "\(name) is not installed")
        let scratch = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8)
        )
    }

    /// A new empty directory under the temporary directory.
    static func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "/parser-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes a file made by `write(_:named:)` together with its directory.
    static func discard(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    /// Writes `contents` to `name` inside a new temporary directory and returns the file's path.
    static func write(_ contents: String, named name: String) throws -> String {
        let path = try makeDirectory() + "/" + name
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// A directory with two files and a subdirectory, for file and directory completion.
private func makeWorkingDirectory() throws -> String {
    let directory = try ExternalTool.makeDirectory()
    for file in ["notes.txt", "other.log"] {
        _ = FileManager.default.createFile(atPath: directory + "/" + file, contents: Data())
    }
    try FileManager.default.createDirectory(atPath: directory + "/subdir", withIntermediateDirectories: false)
    return directory
}

/// A one-group table whose rendered scripts are small enough to keep as snapshots.
private func makeTinyParser() -> ArgumentParser {
    let root = CommandSpec("tiny", abstract: "A tiny tool.", subcommands: [
        CommandSpec("key", abstract: "Manage keys.", subcommands: [
            CommandSpec(
                "add", abstract: "Add a key.",
                arguments: [ArgumentSpec("FILE", help: "Key file.", completion: .file)],
                options: [
                    OptionSpec("kind", short: "k", value: "KIND", help: "Key kind.", completion: .values(["rsa", "ed25519"])),
                    OptionSpec("force", help: "Replace an existing key."),
                ]
            ),
        ]),
    ])
    return ArgumentParser(program: "tiny", version: "0.1", root: root, globalOptions: [
        OptionSpec("db", value: "PATH", help: "Store path.", completion: .file),
    ])
}

/// A table whose completion values need quoting in every shell.
private func makeAwkwardParser() -> ArgumentParser {
    let root = CommandSpec("odd", abstract: "Odd values.", options: [
        OptionSpec("pick", value: "WORD", help: "It's a \"pick\" with $dollars and \\backslashes.", completion: .values(["it's", "two words", "*", "$HOME"])),
    ])
    return ArgumentParser(program: "odd", version: "1", root: root, globalOptions: [])
}

// MARK: - Rendering

@Test func anUnknownShellRendersNothing() {
    #expect(CompletionRenderer.render(shell: "powershell", parser: SampleTable.make()) == nil)
    #expect(CompletionRenderer.shells == ["bash", "zsh", "fish"])
}

@Test func completionScriptsAreDeterministic() {
    for shell in CompletionRenderer.shells {
        let first = CompletionRenderer.render(shell: shell, parser: SampleTable.make())
        let second = CompletionRenderer.render(shell: shell, parser: SampleTable.make())
        #expect(first != nil)
        #expect(first == second, "\(shell)")
    }
}

@Test func everyScriptNamesEveryCommandAndOption() throws {
    let parser = SampleTable.make()
    for shell in CompletionRenderer.shells {
        let script = try #require(CompletionRenderer.render(shell: shell, parser: parser))
        for (path, command) in parser.allCommands() where !path.isEmpty {
            #expect(script.contains(command.name), "\(shell): \(path)")
            for option in command.options {
                #expect(script.contains(option.long), "\(shell): --\(option.long)")
            }
        }
        for option in parser.globalOptions {
            #expect(script.contains(option.long), "\(shell): --\(option.long)")
        }
    }
}

@Test func programNamesAreMadeSafeForFunctionNames() throws {
    let parser = ArgumentParser(program: "mcp-ctl", version: "1", root: CommandSpec("mcp-ctl", abstract: "X."), globalOptions: [])
    #expect(try #require(CompletionRenderer.render(shell: "bash", parser: parser)).contains("complete -F _mcp_ctl mcp-ctl"))
    #expect(try #require(CompletionRenderer.render(shell: "zsh", parser: parser)).contains("compdef _mcp_ctl mcp-ctl"))
    #expect(try #require(CompletionRenderer.render(shell: "fish", parser: parser)).contains("function __mcp_ctl_at "))
}

// MARK: - Snapshots

@Test func bashScriptMatchesItsSnapshot() throws {
    let script = try #require(CompletionRenderer.render(shell: "bash", parser: makeTinyParser()))
    #expect(script == tinyBashSnapshot)
}

@Test func zshScriptMatchesItsSnapshot() throws {
    let script = try #require(CompletionRenderer.render(shell: "zsh", parser: makeTinyParser()))
    #expect(script == tinyZshSnapshot)
}

@Test func fishScriptMatchesItsSnapshot() throws {
    let script = try #require(CompletionRenderer.render(shell: "fish", parser: makeTinyParser()))
    #expect(script == tinyFishSnapshot)
}

// MARK: - bash

/// Completes `words` (the last one is the word under the cursor) with the bash script of `parser`.
private func bashComplete(_ words: [String], parser: ArgumentParser = SampleTable.make(), in directory: String? = nil) throws -> [String] {
    let program = parser.program
    let script = try ExternalTool.write(try #require(CompletionRenderer.render(shell: "bash", parser: parser)), named: program + ".bash")
    defer { ExternalTool.discard(script) }
    let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    let driver = """
        source '\(script)' || exit 3
        COMP_WORDS=(\(quoted))
        COMP_CWORD=\(words.count - 1)
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        _\(program)
        printf '%s\\n' "${COMPREPLY[@]}"
        """
    let result = try ExternalTool.run("bash", ["--norc", "--noprofile", "-c", driver], directory: directory)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout.split(separator: "\n").map(String.init).sorted()
}

@Test(.enabled(if: ExternalTool.isInstalled("bash"), "bash is not installed; run `apt-get install -y bash`"))
func bashScriptPassesTheSyntaxCheckAndRegistersItself() throws {
    let script = try #require(CompletionRenderer.render(shell: "bash", parser: SampleTable.make()))
    let path = try ExternalTool.write(script, named: "mcpctl.bash")
    defer { ExternalTool.discard(path) }
    let check = try ExternalTool.run("bash", ["-n", path])
    #expect(check.status == 0, "\(check.stderr)")
    let load = try ExternalTool.run("bash", ["--norc", "--noprofile", "-c", "source '\(path)' && complete -p mcpctl"])
    #expect(load.status == 0)
    #expect(load.stderr == "")
    #expect(load.stdout == "complete -F _mcpctl mcpctl\n")
}

@Test(.enabled(if: ExternalTool.isInstalled("bash"), "bash is not installed; run `apt-get install -y bash`"))
func bashCompletesSubcommandsOptionsAndValues() throws {
    #expect(try bashComplete(["mcpctl", ""]) == ["app", "audit", "client", "completion", "help", "init", "token", "tool", "user"])
    #expect(try bashComplete(["mcpctl", "tok"]) == ["token"])
    #expect(try bashComplete(["mcpctl", "--json", "token", ""]) == ["create", "list", "revoke", "scan"])
    #expect(try bashComplete(["mcpctl", "token", "create", "--"]) == [
        "--db", "--email", "--help", "--json", "--name", "--print-config", "--scopes", "--version",
    ])
    #expect(try bashComplete(["mcpctl", "token", "create", "--scopes", ""]) == ["delete", "read", "write"])
    #expect(try bashComplete(["mcpctl", "token", "create", "--scopes", "=", "w"]) == ["write"])
    #expect(try bashComplete(["mcpctl", "token", "create", "--scopes=w"]) == ["--scopes=write"])
    #expect(try bashComplete(["mcpctl", "token", "create", "--email", "x", "--scopes", "read", ""]).isEmpty)
    #expect(try bashComplete(["mcpctl", "tool", "scope", "app", "tool", ""]) == ["auto", "delete", "read", "write"])
    #expect(try bashComplete(["mcpctl", "tool", "scope", "app", ""]).isEmpty)
    #expect(try bashComplete(["mcpctl", "help", "token", "s"]) == ["scan"])
    #expect(try bashComplete(["mcpctl", "audit", "tail", "-fl", ""]).isEmpty)
}

@Test(.enabled(if: ExternalTool.isInstalled("bash"), "bash is not installed; run `apt-get install -y bash`"))
func bashCompletesFilesAndDirectoriesWhereTheTableSaysSo() throws {
    let directory = try makeWorkingDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(try bashComplete(["mcpctl", "--db", ""], in: directory) == ["notes.txt", "other.log", "subdir"])
    #expect(try bashComplete(["mcpctl", "token", "scan", "a.txt", "n"], in: directory) == ["notes.txt"])
    #expect(try bashComplete(["mcpctl", "audit", "export", ""], in: directory) == ["subdir"])
    #expect(try bashComplete(["mcpctl", "token", "revoke", "--", "-"], in: directory).isEmpty)
}

@Test(.enabled(if: ExternalTool.isInstalled("bash"), "bash is not installed; run `apt-get install -y bash`"))
func bashOffersValuesThatNeedQuotingVerbatim() throws {
    #expect(try bashComplete(["odd", "--pick", ""], parser: makeAwkwardParser()) == ["$HOME", "*", "it's", "two words"])
}

// MARK: - zsh

/// Completes `words` with the zsh script, with zsh's completion builtins replaced by stubs that print what they were asked.
private func zshComplete(_ words: [String], parser: ArgumentParser = SampleTable.make()) throws -> [String] {
    let program = parser.program
    let script = try ExternalTool.write(try #require(CompletionRenderer.render(shell: "zsh", parser: parser)), named: "_" + program)
    defer { ExternalTool.discard(script) }
    let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    let driver = """
        compdef() { : }
        source '\(script)' || exit 3
        _describe() { local -a items; items=("${(@P)4}"); print -rl -- "${items[@]%%:*}" }
        compadd() { shift; print -rl -- "$@" }
        _files() { print -r -- "<files $*>" }
        _message() { print -r -- "<message $*>" }
        compset() { : }
        words=(\(quoted))
        CURRENT=\(words.count)
        _\(program)
        """
    let result = try ExternalTool.run("zsh", ["-f", "-c", driver])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    return result.stdout.split(separator: "\n").map(String.init).sorted()
}

@Test(.enabled(if: ExternalTool.isInstalled("zsh"), "zsh is not installed; run `apt-get install -y zsh`"))
func zshScriptPassesTheSyntaxCheckAndLoadsWithCompinit() throws {
    let script = try #require(CompletionRenderer.render(shell: "zsh", parser: SampleTable.make()))
    #expect(script.hasPrefix("#compdef mcpctl\n"))
    let path = try ExternalTool.write(script, named: "_mcpctl")
    defer { ExternalTool.discard(path) }
    let directory = (path as NSString).deletingLastPathComponent
    let check = try ExternalTool.run("zsh", ["-n", path])
    #expect(check.status == 0, "\(check.stderr)")
    let sourced = try ExternalTool.run("zsh", ["-f", "-c", "autoload -U compinit; compinit -u -d '\(directory)/dump1'; source '\(path)'; print -r -- $_comps[mcpctl]"])
    #expect(sourced.status == 0)
    #expect(sourced.stderr == "")
    #expect(sourced.stdout == "_mcpctl\n")
    let autoloaded = try ExternalTool.run("zsh", ["-f", "-c", "fpath=('\(directory)' $fpath); autoload -U compinit; compinit -u -d '\(directory)/dump2'; print -r -- $_comps[mcpctl]"])
    #expect(autoloaded.stderr == "")
    #expect(autoloaded.stdout == "_mcpctl\n")
}

@Test(.enabled(if: ExternalTool.isInstalled("zsh"), "zsh is not installed; run `apt-get install -y zsh`"))
func zshCompletesSubcommandsOptionsAndValues() throws {
    #expect(try zshComplete(["mcpctl", ""]) == ["app", "audit", "client", "completion", "help", "init", "token", "tool", "user"])
    #expect(try zshComplete(["mcpctl", "--db", "x", "token", ""]) == ["create", "list", "revoke", "scan"])
    #expect(try zshComplete(["mcpctl", "token", "create", "-"]) == [
        "--db", "--email", "--help", "--json", "--name", "--print-config", "--scopes", "--version", "-e", "-h",
    ])
    #expect(try zshComplete(["mcpctl", "token", "create", "--scopes", ""]) == ["delete", "read", "write"])
    #expect(try zshComplete(["mcpctl", "token", "create", "--scopes=r"]) == ["delete", "read", "write"])
    #expect(try zshComplete(["mcpctl", "token", "create", "-e", ""]) == ["<message EMAIL>"])
    #expect(try zshComplete(["mcpctl", "token", "scan", "a", ""]) == ["<files >"])
    #expect(try zshComplete(["mcpctl", "audit", "export", ""]) == ["<files -/>"])
    #expect(try zshComplete(["mcpctl", "help", "audit", ""]) == ["export", "tail"])
    #expect(try zshComplete(["odd", "--pick", ""], parser: makeAwkwardParser()) == ["$HOME", "*", "it's", "two words"])
}

// MARK: - fish

/// What fish offers for the command line `line` (cursor at its end), as `candidate` strings without descriptions.
private func fishComplete(_ line: String, parser: ArgumentParser = SampleTable.make(), in directory: String? = nil) throws -> [String] {
    let script = try ExternalTool.write(try #require(CompletionRenderer.render(shell: "fish", parser: parser)), named: parser.program + ".fish")
    defer { ExternalTool.discard(script) }
    let result = try ExternalTool.run("fish", ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", script, line], directory: directory)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr == "")
    return result.stdout.split(separator: "\n").map { String($0.split(separator: "\t", maxSplits: 1).first ?? "") }.sorted()
}

@Test(.enabled(if: ExternalTool.isInstalled("fish"), "fish is not installed; run `apt-get install -y fish`"))
func fishScriptPassesTheSyntaxCheck() throws {
    for parser in [SampleTable.make(), makeAwkwardParser(), makeTinyParser()] {
        let script = try #require(CompletionRenderer.render(shell: "fish", parser: parser))
        let path = try ExternalTool.write(script, named: parser.program + ".fish")
        defer { ExternalTool.discard(path) }
        let check = try ExternalTool.run("fish", ["--no-config", "-n", path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr == "")
    }
}

@Test(.enabled(if: ExternalTool.isInstalled("fish"), "fish is not installed; run `apt-get install -y fish`"))
func fishCompletesSubcommandsOptionsAndValues() throws {
    #expect(try fishComplete("mcpctl ") == ["app", "audit", "client", "completion", "help", "init", "token", "tool", "user"])
    #expect(try fishComplete("mcpctl token ") == ["create", "list", "revoke", "scan"])
    #expect(try fishComplete("mcpctl user list ").isEmpty)
    #expect(try fishComplete("mcpctl token create --") == [
        "--db", "--email", "--help", "--json", "--name", "--print-config", "--scopes", "--version",
    ])
    #expect(try fishComplete("mcpctl token create --scopes ") == ["delete", "read", "write"])
    #expect(try fishComplete("mcpctl token create --scopes=w") == ["--scopes=write"])
    #expect(try fishComplete("mcpctl tool scope app tool ") == ["auto", "delete", "read", "write"])
    #expect(try fishComplete("mcpctl tool scope app ").isEmpty)
    #expect(try fishComplete("mcpctl help token s") == ["scan"])
    #expect(try fishComplete("odd --pick ", parser: makeAwkwardParser()) == ["$HOME", "*", "it's", "two words"])
}

@Test(.enabled(if: ExternalTool.isInstalled("fish"), "fish is not installed; run `apt-get install -y fish`"))
func fishCompletesFilesAndDirectoriesWhereTheTableSaysSo() throws {
    let directory = try makeWorkingDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(try fishComplete("mcpctl --db ", in: directory) == ["notes.txt", "other.log", "subdir/"])
    #expect(try fishComplete("mcpctl token scan a.txt ", in: directory) == ["notes.txt", "other.log", "subdir/"])
    #expect(try fishComplete("mcpctl audit export ", in: directory) == ["subdir/"])
    #expect(try fishComplete("mcpctl token list ", in: directory).isEmpty)
}

// MARK: - Snapshot texts

private let tinyBashSnapshot = #"""
    # bash completion for tiny
    # Generated from tiny's command table by 'tiny completion bash'; do not edit.
    # Install: save as /usr/share/bash-completion/completions/tiny, or source it from ~/.bashrc.

    # Adds to COMPREPLY each of $2... that starts with $1.
    _tiny_add() {
        local cur="$1" word
        shift
        for word in "$@"; do
            if [[ "$word" == "$cur"* ]]; then
                COMPREPLY+=("$word")
            fi
        done
    }

    # Succeeds when the first argument equals one of the others.
    _tiny_contains() {
        local word="$1" item
        shift
        for item in "$@"; do
            [[ "$item" == "$word" ]] && return 0
        done
        return 1
    }

    # Adds file names (compgen -f) or directory names (compgen -d) starting with $2.
    _tiny_paths() {
        local line
        compopt -o filenames 2>/dev/null
        while IFS= read -r line; do
            COMPREPLY+=("$line")
        done < <(compgen "$1" -- "$2")
    }

    # Sets cmds, opts and value_opts for the command path $1.
    _tiny_spec() {
        cmds=() opts=() value_opts=()
        case "$1" in
            '')
                cmds=(key help)
                ;;
            'key')
                cmds=(add)
                ;;
            'key add')
                opts=(--kind -k --force)
                value_opts=(--kind -k)
                ;;
        esac
        opts+=(--db --version --help -h)
        value_opts+=(--db)
    }

    # Completes $3 as the value of option $2 of the command path $1.
    _tiny_value() {
        case "$1|$2" in
            'key add|--kind' | 'key add|-k')
                _tiny_add "$3" rsa ed25519
                ;;
            *'|--db')
                _tiny_paths -f "$3"
                ;;
        esac
    }

    # Completes $3 as positional argument number $2 (from 0) of the command path $1.
    _tiny_argument() {
        case "$1" in
            'key add')
                if (( $2 == 0 )); then _tiny_paths -f "$3"; fi
                ;;
        esac
    }

    _tiny() {
        local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath="" word pending=""
        local -a cmds opts value_opts
        local -i i npos=0 dashdash=0 helpmode=0
        COMPREPLY=()
        _tiny_spec ""
        for ((i = 1; i < COMP_CWORD; i++)); do
            word="${COMP_WORDS[i]}"
            if [[ -n "$pending" ]]; then
                # COMP_WORDBREAKS splits --opt=value into '--opt' '=' 'value'.
                [[ "$word" == "=" ]] || pending=""
                continue
            fi
            if ((dashdash)); then
                npos+=1
                continue
            fi
            case "$word" in
                --) dashdash=1 ;;
                --*=*) ;;
                -?*)
                    if _tiny_contains "$word" "${value_opts[@]}"; then
                        pending="$word"
                    elif [[ "$word" != --* ]] && _tiny_contains "-${word: -1}" "${value_opts[@]}"; then
                        pending="-${word: -1}"
                    fi
                    ;;
                *)
                    if ((npos == 0 && helpmode == 0)) && [[ -z "$cmdpath" && "$word" == help ]]; then
                        helpmode=1
                    elif ((npos == 0)) && _tiny_contains "$word" "${cmds[@]}"; then
                        cmdpath="${cmdpath:+$cmdpath }$word"
                        _tiny_spec "$cmdpath"
                    else
                        npos+=1
                    fi
                    ;;
            esac
        done
        if [[ -n "$pending" ]]; then
            [[ "$cur" == "=" ]] && cur=""
            _tiny_value "$cmdpath" "$pending" "$cur"
            return 0
        fi
        if ((dashdash == 0)) && [[ "$cur" == --*=* ]]; then
            _tiny_value "$cmdpath" "${cur%%=*}" "${cur#*=}"
            COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
            return 0
        fi
        if ((helpmode)); then
            _tiny_add "$cur" "${cmds[@]}"
            return 0
        fi
        if ((dashdash == 0)) && [[ "$cur" == -* ]]; then
            _tiny_add "$cur" "${opts[@]}"
            return 0
        fi
        if ((npos == 0)); then
            _tiny_add "$cur" "${cmds[@]}"
        fi
        _tiny_argument "$cmdpath" "$npos" "$cur"
        return 0
    }

    complete -F _tiny tiny
    """# + "\n"

private let tinyZshSnapshot = #"""
    #compdef tiny
    # zsh completion for tiny
    # Generated from tiny's command table by 'tiny completion zsh'; do not edit.
    # Install: save as _tiny in a directory of $fpath, or source it after compinit.

    # Sets cmds, cmd_descs, opts, opt_descs and value_opts for the command path $1.
    _tiny_spec() {
        cmds=() cmd_descs=() opts=() opt_descs=() value_opts=()
        case "$1" in
            ('')
                cmds=(key help)
                cmd_descs=(
                    'key:Manage keys.'
                    'help:Show subcommand help information.'
                )
                ;;
            ('key')
                cmds=(add)
                cmd_descs=(
                    'add:Add a key.'
                )
                ;;
            ('key add')
                opts=(--kind -k --force)
                opt_descs=(
                    '--kind:Key kind.'
                    '-k:Key kind.'
                    '--force:Replace an existing key.'
                )
                value_opts=(--kind -k)
                ;;
        esac
        opts+=(--db --version --help -h)
        opt_descs+=(
            '--db:Store path.'
            '--version:Show the version.'
            '--help:Show help information.'
            '-h:Show help information.'
        )
        value_opts+=(--db)
    }

    # Completes the current word as the value of option $2 of the command path $1.
    _tiny_value() {
        case "$1|$2" in
            ('key add|--kind'|'key add|-k')
                compadd -- rsa ed25519
                ;;
            (*'|--db')
                _files
                ;;
        esac
    }

    # Completes the current word as positional argument number $2 (from 0) of the command path $1.
    _tiny_argument() {
        case "$1" in
            ('key add')
                if (( $2 == 0 )); then _files; fi
                ;;
        esac
    }

    _tiny() {
        local cur="${words[CURRENT]}" cmdpath='' word='' pending=''
        local -a cmds cmd_descs opts opt_descs value_opts
        integer i npos=0 dashdash=0 helpmode=0
        _tiny_spec ''
        for ((i = 2; i < CURRENT; i++)); do
            word="${words[i]}"
            if [[ -n "$pending" ]]; then
                pending=''
                continue
            fi
            if ((dashdash)); then
                npos+=1
                continue
            fi
            case "$word" in
                (--) dashdash=1 ;;
                (--*=*) ;;
                (-?*)
                    if ((${value_opts[(Ie)$word]})); then
                        pending="$word"
                    elif [[ "$word" != --* ]] && ((${value_opts[(Ie)-${word[-1]}]})); then
                        pending="-${word[-1]}"
                    fi
                    ;;
                (*)
                    if ((npos == 0 && helpmode == 0)) && [[ -z "$cmdpath" && "$word" == help ]]; then
                        helpmode=1
                    elif ((npos == 0 && ${cmds[(Ie)$word]})); then
                        cmdpath="${cmdpath:+$cmdpath }$word"
                        _tiny_spec "$cmdpath"
                    else
                        npos+=1
                    fi
                    ;;
            esac
        done
        if [[ -n "$pending" ]]; then
            _tiny_value "$cmdpath" "$pending"
            return
        fi
        if ((dashdash == 0)) && [[ "$cur" == --*=* ]]; then
            compset -P '*='
            _tiny_value "$cmdpath" "${cur%%=*}"
            return
        fi
        if ((helpmode)); then
            _describe -t commands 'command' cmd_descs
            return
        fi
        if ((dashdash == 0)) && [[ "$cur" == -* ]]; then
            _describe -t options 'option' opt_descs
            return
        fi
        if ((npos == 0 && ${#cmd_descs})); then
            _describe -t commands 'command' cmd_descs
        fi
        _tiny_argument "$cmdpath" "$npos"
    }

    if [[ "${funcstack[1]}" == _tiny ]]; then
        _tiny "$@"
    else
        compdef _tiny tiny
    fi
    """# + "\n"

private let tinyFishSnapshot = #"""
    # fish completion for tiny
    # Generated from tiny's command table by 'tiny completion fish'; do not edit.
    # Install: save as ~/.config/fish/completions/tiny.fish.

    function __tiny_subcommands --argument-names cmdpath --description 'Print the subcommands of a command path'
        switch $cmdpath
            case ''
                printf '%s\n' key help
            case 'key'
                printf '%s\n' add
        end
    end

    function __tiny_value_options --argument-names cmdpath --description 'Print the options of a command path that take a value'
        switch $cmdpath
            case 'key add'
                printf '%s\n' --kind -k
        end
        printf '%s\n' --db
    end

    # __tiny_at PATH: the words before the cursor name the command PATH ('' for tiny itself).
    # __tiny_at PATH N (or N+): also no option value is pending and N (or at least N) positionals precede.
    # Every complete line below asks; the walk is done once per command line and cached.
    function __tiny_at --description 'Test the command path and argument position being completed'
        set -l tokens (commandline -opc)
        set -l key (string join \x1f -- $tokens)
        if not set -q __tiny_key; or test "$__tiny_key" != "$key"
            __tiny_walk $tokens[2..-1]
            set -g __tiny_key $key
        end
        test "$__tiny_path" = "$argv[1]"; or return 1
        set -q argv[2]; or return 0
        test $__tiny_pending -eq 0; or return 1
        if string match -q -- '*+' $argv[2]
            test $__tiny_npos -ge (string trim -r -c + -- $argv[2])
        else
            test $__tiny_npos -eq $argv[2]
        end
    end

    function __tiny_walk --description 'Set the command path, positional count and pending option of the words given'
        set -l cmdpath
        set -l npos 0
        set -l pending 0
        set -l dashdash 0
        set -l helpmode 0
        for word in $argv
            if test $pending -eq 1
                set pending 0
                continue
            end
            if test $dashdash -eq 1
                set npos (math $npos + 1)
                continue
            end
            switch $word
                case --
                    set dashdash 1
                case '--*=*'
                case '-?*'
                    set -l valued (__tiny_value_options "$cmdpath")
                    if contains -- $word $valued
                        set pending 1
                    else if not string match -q -- '--*' $word; and contains -- -(string sub -s -1 -- $word) $valued
                        set pending 1
                    end
                case '*'
                    if test $npos -eq 0 -a $helpmode -eq 0 -a (count $cmdpath) -eq 0 -a "$word" = help
                        set helpmode 1
                    else if test $npos -eq 0; and contains -- $word (__tiny_subcommands "$cmdpath")
                        set -a cmdpath $word
                    else
                        set npos (math $npos + 1)
                    end
            end
        end
        if test $helpmode -eq 1
            set -p cmdpath help
        end
        set -g __tiny_path "$cmdpath"
        set -g __tiny_npos $npos
        set -g __tiny_pending $pending
    end

    complete -c tiny -f

    # Global options
    complete -c tiny -l db -r -F -d 'Store path.'
    complete -c tiny -l version -d 'Show the version.'
    complete -c tiny -s h -l help -d 'Show help information.'

    # tiny
    complete -c tiny -n "__tiny_at '' 0" -a 'key' -d 'Manage keys.'
    complete -c tiny -n "__tiny_at '' 0" -a 'help' -d 'Show subcommand help information.'

    # tiny key
    complete -c tiny -n "__tiny_at 'key' 0" -a 'add' -d 'Add a key.'

    # tiny key add
    complete -c tiny -n "__tiny_at 'key add'" -s k -l kind -x -a 'rsa ed25519' -d 'Key kind.'
    complete -c tiny -n "__tiny_at 'key add'" -l force -d 'Replace an existing key.'
    complete -c tiny -n "__tiny_at 'key add' 0" -F -d 'Key file.'

    # tiny help
    complete -c tiny -n "__tiny_at 'help' 0" -a 'key' -d 'Manage keys.'
    complete -c tiny -n "__tiny_at 'help key' 0" -a 'add' -d 'Add a key.'
    """# + "\n"
