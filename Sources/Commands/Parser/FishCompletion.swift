extension CompletionRenderer {
    /// Renders the fish completion script: one `complete` line per subcommand, option and argument
    /// hint, each guarded by `__mcpctl_at PATH [POSITION]`.
    ///
    /// fish's own `__fish_seen_subcommand_from` cannot tell `token list` from `user list`, so a
    /// small walker (the same as in the bash and zsh scripts) computes the exact command path.
    struct FishCompletion {
        let model: Model

        func render() -> String {
            let f = "_" + model.function
            let program = model.program
            var out: [String] = [
                "# fish completion for \(program)",
                CompletionRenderer.generatedNote(program: program, shell: "fish"),
                "# Install: save as ~/.config/fish/completions/\(program).fish.",
                "",
                "function \(f)_subcommands --argument-names cmdpath --description 'Print the subcommands of a command path'",
                "    switch $cmdpath",
            ]
            for node in model.nodes where !node.subcommands.isEmpty {
                out.append("        case \(CompletionRenderer.fishQuoted(node.key))")
                out.append("            printf '%s\\n' \(words(node.subcommands.map(\.name)))")
            }
            out += [
                "    end",
                "end",
                "",
                "function \(f)_value_options --argument-names cmdpath --description 'Print the options of a command path that take a value'",
                "    switch $cmdpath",
            ]
            for node in model.nodes {
                let valued = node.options.filter { !$0.isFlag }.flatMap(CompletionRenderer.spellings)
                if valued.isEmpty { continue }
                out.append("        case \(CompletionRenderer.fishQuoted(node.key))")
                out.append("            printf '%s\\n' \(words(valued))")
            }
            out.append("    end")
            let globalValued = model.globals.filter { !$0.isFlag }.flatMap(CompletionRenderer.spellings)
            if !globalValued.isEmpty {
                out.append("    printf '%s\\n' \(words(globalValued))")
            }
            out += [
                "end",
                "",
                "# \(f)_at PATH: the words before the cursor name the command PATH ('' for \(program) itself).",
                "# \(f)_at PATH N (or N+): also no option value is pending and N (or at least N) positionals precede.",
                "# Every complete line below asks; the walk is done once per command line and cached.",
                "function \(f)_at --description 'Test the command path and argument position being completed'",
                "    set -l tokens (commandline -opc)",
                "    set -l key (string join \\x1f -- $tokens)",
                "    if not set -q \(f)_key; or test \"$\(f)_key\" != \"$key\"",
                "        \(f)_walk $tokens[2..-1]",
                "        set -g \(f)_key $key",
                "    end",
                "    test \"$\(f)_path\" = \"$argv[1]\"; or return 1",
                "    set -q argv[2]; or return 0",
                "    test $\(f)_pending -eq 0; or return 1",
                "    if string match -q -- '*+' $argv[2]",
                "        test $\(f)_npos -ge (string trim -r -c + -- $argv[2])",
                "    else",
                "        test $\(f)_npos -eq $argv[2]",
                "    end",
                "end",
                "",
                "function \(f)_walk --description 'Set the command path, positional count and pending option of the words given'",
                "    set -l cmdpath",
                "    set -l npos 0",
                "    set -l pending 0",
                "    set -l dashdash 0",
                "    set -l helpmode 0",
                "    for word in $argv",
                "        if test $pending -eq 1",
                "            set pending 0",
                "            continue",
                "        end",
                "        if test $dashdash -eq 1",
                "            set npos (math $npos + 1)",
                "            continue",
                "        end",
                "        switch $word",
                "            case --",
                "                set dashdash 1",
                "            case '--*=*'",
                "            case '-?*'",
                "                set -l valued (\(f)_value_options \"$cmdpath\")",
                "                if contains -- $word $valued",
                "                    set pending 1",
                "                else if not string match -q -- '--*' $word; and contains -- -(string sub -s -1 -- $word) $valued",
                "                    set pending 1",
                "                end",
                "            case '*'",
            ]
            if model.hasHelpCommand {
                out += [
                    "                if test $npos -eq 0 -a $helpmode -eq 0 -a (count $cmdpath) -eq 0 -a \"$word\" = help",
                    "                    set helpmode 1",
                    "                else if test $npos -eq 0; and contains -- $word (\(f)_subcommands \"$cmdpath\")",
                ]
            } else {
                out.append("                if test $npos -eq 0; and contains -- $word (\(f)_subcommands \"$cmdpath\")")
            }
            out += [
                "                    set -a cmdpath $word",
                "                else",
                "                    set npos (math $npos + 1)",
                "                end",
                "        end",
                "    end",
                "    if test $helpmode -eq 1",
                "        set -p cmdpath help",
                "    end",
                "    set -g \(f)_path \"$cmdpath\"",
                "    set -g \(f)_npos $npos",
                "    set -g \(f)_pending $pending",
                "end",
                "",
                "complete -c \(program) -f",
                "",
                "# Global options",
            ]
            for option in model.globals {
                out.append(optionLine(option, condition: nil))
            }
            for node in model.nodes {
                let hints = CompletionRenderer.argumentHints(node.arguments)
                if node.subcommands.isEmpty && node.options.isEmpty && hints.isEmpty { continue }
                out.append("")
                out.append("# " + ([program] + (node.key.isEmpty ? [] : [node.key])).joined(separator: " "))
                for sub in node.subcommands {
                    let condition = "\(f)_at \(CompletionRenderer.fishQuoted(node.key)) 0"
                    out.append("complete -c \(program) -n \(conditionWord(condition)) -a \(CompletionRenderer.fishQuoted(CompletionRenderer.fishWord(sub.name))) -d \(description(sub.abstract))")
                }
                for option in node.options {
                    out.append(optionLine(option, condition: "\(f)_at \(CompletionRenderer.fishQuoted(node.key))"))
                }
                for hint in hints {
                    let position = hint.repeating ? "\(hint.index)+" : "\(hint.index)"
                    let condition = "\(f)_at \(CompletionRenderer.fishQuoted(node.key)) \(position)"
                    let help = node.arguments[hint.index].help
                    out.append("complete -c \(program) -n \(conditionWord(condition))\(argumentAction(hint.hint)) -d \(description(help))")
                }
            }
            let targets = model.helpTargets
            if !targets.isEmpty {
                out.append("")
                out.append("# \(program) help")
                for target in targets {
                    let key = target.key.isEmpty ? ArgumentParser.helpName : ArgumentParser.helpName + " " + target.key
                    let condition = "\(f)_at \(CompletionRenderer.fishQuoted(key)) 0"
                    for sub in target.names {
                        out.append("complete -c \(program) -n \(conditionWord(condition)) -a \(CompletionRenderer.fishQuoted(CompletionRenderer.fishWord(sub.name))) -d \(description(sub.abstract))")
                    }
                }
            }
            return out.joined(separator: "\n") + "\n"
        }

        /// A condition in double quotes when that needs no escaping (`"__mcpctl_at 'token list' 0"`).
        private func conditionWord(_ condition: String) -> String {
            if condition.contains(where: { "\"$\\()".contains($0) }) {
                return CompletionRenderer.fishQuoted(condition)
            }
            return "\"" + condition + "\""
        }

        private func words(_ items: [String]) -> String {
            items.map(CompletionRenderer.fishWord).joined(separator: " ")
        }

        private func description(_ text: String) -> String {
            CompletionRenderer.fishQuoted(CompletionRenderer.oneLine(text))
        }

        private func optionLine(_ option: OptionSpec, condition: String?) -> String {
            var line = "complete -c \(model.program)"
            if let condition {
                line += " -n \(conditionWord(condition))"
            }
            if let short = option.short {
                line += " -s \(short)"
            }
            line += " -l \(option.long)"
            if !option.isFlag {
                switch option.completion {
                case .none: line += " -x"
                case .file: line += " -r -F"
                case .directory: line += " -x -a '(__fish_complete_directories)'"
                case .values(let values): line += " -x -a \(CompletionRenderer.fishQuoted(words(values)))"
                }
            }
            return line + " -d \(description(option.help))"
        }

        /// The part of a `complete` line that offers a positional argument's values.
        private func argumentAction(_ hint: CompletionHint) -> String {
            switch hint {
            case .none: return ""
            case .file: return " -F"
            case .directory: return " -a '(__fish_complete_directories)'"
            case .values(let values): return " -a \(CompletionRenderer.fishQuoted(words(values)))"
            }
        }
    }
}
