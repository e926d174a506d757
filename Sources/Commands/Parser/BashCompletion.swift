extension CompletionRenderer {
    /// Renders the bash completion script: data in `case` statements, one generic walker, `complete -F`.
    struct BashCompletion {
        let model: Model

        func render() -> String {
            let f = model.function
            var out: [String] = [
                "# bash completion for \(model.program)",
                CompletionRenderer.generatedNote(program: model.program, shell: "bash"),
                "# Install: save as /usr/share/bash-completion/completions/\(model.program), or source it from ~/.bashrc.",
                "",
                "# Adds to COMPREPLY each of $2... that starts with $1.",
                "\(f)_add() {",
                "    local cur=\"$1\" word",
                "    shift",
                "    for word in \"$@\"; do",
                "        if [[ \"$word\" == \"$cur\"* ]]; then",
                "            COMPREPLY+=(\"$word\")",
                "        fi",
                "    done",
                "}",
                "",
                "# Succeeds when the first argument equals one of the others.",
                "\(f)_contains() {",
                "    local word=\"$1\" item",
                "    shift",
                "    for item in \"$@\"; do",
                "        [[ \"$item\" == \"$word\" ]] && return 0",
                "    done",
                "    return 1",
                "}",
                "",
                "# Adds file names (compgen -f) or directory names (compgen -d) starting with $2.",
                "\(f)_paths() {",
                "    local line",
                "    compopt -o filenames 2>/dev/null",
                "    while IFS= read -r line; do",
                "        COMPREPLY+=(\"$line\")",
                "    done < <(compgen \"$1\" -- \"$2\")",
                "}",
                "",
                "# Sets cmds, opts and value_opts for the command path $1.",
                "\(f)_spec() {",
                "    cmds=() opts=() value_opts=()",
                "    case \"$1\" in",
            ]
            for node in model.nodes {
                let commands = node.subcommands.map(\.name)
                let options = node.options.flatMap(CompletionRenderer.spellings)
                let valued = node.options.filter { !$0.isFlag }.flatMap(CompletionRenderer.spellings)
                if commands.isEmpty && options.isEmpty { continue }
                out.append("        \(CompletionRenderer.shellQuoted(node.key)))")
                if !commands.isEmpty { out.append("            cmds=(\(words(commands)))") }
                if !options.isEmpty { out.append("            opts=(\(words(options)))") }
                if !valued.isEmpty { out.append("            value_opts=(\(words(valued)))") }
                out.append("            ;;")
            }
            out += [
                "    esac",
                "    opts+=(\(words(model.globals.flatMap(CompletionRenderer.spellings))))",
            ]
            let globalValued = model.globals.filter { !$0.isFlag }.flatMap(CompletionRenderer.spellings)
            if !globalValued.isEmpty {
                out.append("    value_opts+=(\(words(globalValued)))")
            }
            out += [
                "}",
                "",
                "# Completes $3 as the value of option $2 of the command path $1.",
                "\(f)_value() {",
                "    case \"$1|$2\" in",
            ]
            for node in model.nodes {
                for option in node.options where option.completion != .none && !option.isFlag {
                    let patterns = CompletionRenderer.spellings(option).map { CompletionRenderer.shellQuoted(node.key + "|" + $0) }
                    out.append("        \(patterns.joined(separator: " | ")))")
                    out.append("            \(action(option.completion, word: "$3"))")
                    out.append("            ;;")
                }
            }
            for option in model.globals where option.completion != .none && !option.isFlag {
                let patterns = CompletionRenderer.spellings(option).map { "*" + CompletionRenderer.shellQuoted("|" + $0) }
                out.append("        \(patterns.joined(separator: " | ")))")
                out.append("            \(action(option.completion, word: "$3"))")
                out.append("            ;;")
            }
            out += [
                "    esac",
                "}",
                "",
                "# Completes $3 as positional argument number $2 (from 0) of the command path $1.",
                "\(f)_argument() {",
                "    case \"$1\" in",
            ]
            for node in model.nodes {
                let hints = CompletionRenderer.argumentHints(node.arguments)
                if hints.isEmpty { continue }
                out.append("        \(CompletionRenderer.shellQuoted(node.key)))")
                for hint in hints {
                    let test = hint.repeating ? "$2 >= \(hint.index)" : "$2 == \(hint.index)"
                    out.append("            if (( \(test) )); then \(action(hint.hint, word: "$3")); fi")
                }
                out.append("            ;;")
            }
            out += [
                "    esac",
                "}",
                "",
                "\(f)() {",
                "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmdpath=\"\" word pending=\"\"",
                "    local -a cmds opts value_opts",
                "    local -i i npos=0 dashdash=0 helpmode=0",
                "    COMPREPLY=()",
                "    \(f)_spec \"\"",
                "    for ((i = 1; i < COMP_CWORD; i++)); do",
                "        word=\"${COMP_WORDS[i]}\"",
                "        if [[ -n \"$pending\" ]]; then",
                "            # COMP_WORDBREAKS splits --opt=value into '--opt' '=' 'value'.",
                "            [[ \"$word\" == \"=\" ]] || pending=\"\"",
                "            continue",
                "        fi",
                "        if ((dashdash)); then",
                "            npos+=1",
                "            continue",
                "        fi",
                "        case \"$word\" in",
                "            --) dashdash=1 ;;",
                "            --*=*) ;;",
                "            -?*)",
                "                if \(f)_contains \"$word\" \"${value_opts[@]}\"; then",
                "                    pending=\"$word\"",
                "                elif [[ \"$word\" != --* ]] && \(f)_contains \"-${word: -1}\" \"${value_opts[@]}\"; then",
                "                    pending=\"-${word: -1}\"",
                "                fi",
                "                ;;",
                "            *)",
            ]
            if model.hasHelpCommand {
                out += [
                    "                if ((npos == 0 && helpmode == 0)) && [[ -z \"$cmdpath\" && \"$word\" == help ]]; then",
                    "                    helpmode=1",
                    "                elif ((npos == 0)) && \(f)_contains \"$word\" \"${cmds[@]}\"; then",
                ]
            } else {
                out.append("                if ((npos == 0)) && \(f)_contains \"$word\" \"${cmds[@]}\"; then")
            }
            out += [
                "                    cmdpath=\"${cmdpath:+$cmdpath }$word\"",
                "                    \(f)_spec \"$cmdpath\"",
                "                else",
                "                    npos+=1",
                "                fi",
                "                ;;",
                "        esac",
                "    done",
                "    if [[ -n \"$pending\" ]]; then",
                "        [[ \"$cur\" == \"=\" ]] && cur=\"\"",
                "        \(f)_value \"$cmdpath\" \"$pending\" \"$cur\"",
                "        return 0",
                "    fi",
                "    if ((dashdash == 0)) && [[ \"$cur\" == --*=* ]]; then",
                "        \(f)_value \"$cmdpath\" \"${cur%%=*}\" \"${cur#*=}\"",
                "        COMPREPLY=(\"${COMPREPLY[@]/#/${cur%%=*}=}\")",
                "        return 0",
                "    fi",
                "    if ((helpmode)); then",
                "        \(f)_add \"$cur\" \"${cmds[@]}\"",
                "        return 0",
                "    fi",
                "    if ((dashdash == 0)) && [[ \"$cur\" == -* ]]; then",
                "        \(f)_add \"$cur\" \"${opts[@]}\"",
                "        return 0",
                "    fi",
                "    if ((npos == 0)); then",
                "        \(f)_add \"$cur\" \"${cmds[@]}\"",
                "    fi",
                "    \(f)_argument \"$cmdpath\" \"$npos\" \"$cur\"",
                "    return 0",
                "}",
                "",
                "complete -F \(f) \(model.program)",
            ]
            return out.joined(separator: "\n") + "\n"
        }

        private func words(_ items: [String]) -> String {
            items.map(CompletionRenderer.shellWord).joined(separator: " ")
        }

        /// The bash statement that completes `word` for a hint.
        private func action(_ hint: CompletionHint, word: String) -> String {
            let f = model.function
            switch hint {
            case .none: return ":"
            case .file: return "\(f)_paths -f \"\(word)\""
            case .directory: return "\(f)_paths -d \"\(word)\""
            case .values(let values): return "\(f)_add \"\(word)\" \(words(values))"
            }
        }
    }
}
