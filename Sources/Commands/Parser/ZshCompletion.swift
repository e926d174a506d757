extension CompletionRenderer {
    /// Renders the zsh completion script: the bash walker in zsh syntax, offering described
    /// subcommands and options through `_describe`, values through `compadd` and `_files`.
    struct ZshCompletion {
        let model: Model

        func render() -> String {
            let f = model.function
            var out: [String] = [
                "#compdef \(model.program)",
                "# zsh completion for \(model.program)",
                CompletionRenderer.generatedNote(program: model.program, shell: "zsh"),
                "# Install: save as _\(model.program) in a directory of $fpath, or source it after compinit.",
                "",
                "# Sets cmds, cmd_descs, opts, opt_descs and value_opts for the command path $1.",
                "\(f)_spec() {",
                "    cmds=() cmd_descs=() opts=() opt_descs=() value_opts=()",
                "    case \"$1\" in",
            ]
            for node in model.nodes {
                if node.subcommands.isEmpty && node.options.isEmpty { continue }
                out.append("        (\(CompletionRenderer.shellQuoted(node.key)))")
                if !node.subcommands.isEmpty {
                    out.append("            cmds=(\(words(node.subcommands.map(\.name))))")
                    out.append("            cmd_descs=(")
                    for sub in node.subcommands {
                        out.append("                \(described(sub.name, sub.abstract))")
                    }
                    out.append("            )")
                }
                if !node.options.isEmpty {
                    out += optionLines(node.options, assign: "=", indent: "            ")
                }
                out.append("            ;;")
            }
            out += ["    esac"]
            out += optionLines(model.globals, assign: "+=", indent: "    ")
            out += [
                "}",
                "",
                "# Completes the current word as the value of option $2 of the command path $1.",
                "\(f)_value() {",
                "    case \"$1|$2\" in",
            ]
            for node in model.nodes {
                for option in node.options where !option.isFlag {
                    let patterns = CompletionRenderer.spellings(option).map { CompletionRenderer.shellQuoted(node.key + "|" + $0) }
                    out.append("        (\(patterns.joined(separator: "|")))")
                    out.append("            \(action(option.completion, valueName: option.valueName ?? "value"))")
                    out.append("            ;;")
                }
            }
            for option in model.globals where !option.isFlag {
                let patterns = CompletionRenderer.spellings(option).map { "*" + CompletionRenderer.shellQuoted("|" + $0) }
                out.append("        (\(patterns.joined(separator: "|")))")
                out.append("            \(action(option.completion, valueName: option.valueName ?? "value"))")
                out.append("            ;;")
            }
            out += [
                "    esac",
                "}",
                "",
                "# Completes the current word as positional argument number $2 (from 0) of the command path $1.",
                "\(f)_argument() {",
                "    case \"$1\" in",
            ]
            for node in model.nodes {
                let hints = CompletionRenderer.argumentHints(node.arguments)
                if hints.isEmpty { continue }
                out.append("        (\(CompletionRenderer.shellQuoted(node.key)))")
                for hint in hints {
                    let test = hint.repeating ? "$2 >= \(hint.index)" : "$2 == \(hint.index)"
                    let name = node.arguments[hint.index].name
                    out.append("            if (( \(test) )); then \(action(hint.hint, valueName: name)); fi")
                }
                out.append("            ;;")
            }
            out += [
                "    esac",
                "}",
                "",
                "\(f)() {",
                "    local cur=\"${words[CURRENT]}\" cmdpath='' word='' pending=''",
                "    local -a cmds cmd_descs opts opt_descs value_opts",
                "    integer i npos=0 dashdash=0 helpmode=0",
                "    \(f)_spec ''",
                "    for ((i = 2; i < CURRENT; i++)); do",
                "        word=\"${words[i]}\"",
                "        if [[ -n \"$pending\" ]]; then",
                "            pending=''",
                "            continue",
                "        fi",
                "        if ((dashdash)); then",
                "            npos+=1",
                "            continue",
                "        fi",
                "        case \"$word\" in",
                "            (--) dashdash=1 ;;",
                "            (--*=*) ;;",
                "            (-?*)",
                "                if ((${value_opts[(Ie)$word]})); then",
                "                    pending=\"$word\"",
                "                elif [[ \"$word\" != --* ]] && ((${value_opts[(Ie)-${word[-1]}]})); then",
                "                    pending=\"-${word[-1]}\"",
                "                fi",
                "                ;;",
                "            (*)",
            ]
            if model.hasHelpCommand {
                out += [
                    "                if ((npos == 0 && helpmode == 0)) && [[ -z \"$cmdpath\" && \"$word\" == help ]]; then",
                    "                    helpmode=1",
                    "                elif ((npos == 0 && ${cmds[(Ie)$word]})); then",
                ]
            } else {
                out.append("                if ((npos == 0 && ${cmds[(Ie)$word]})); then")
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
                "        \(f)_value \"$cmdpath\" \"$pending\"",
                "        return",
                "    fi",
                "    if ((dashdash == 0)) && [[ \"$cur\" == --*=* ]]; then",
                "        compset -P '*='",
                "        \(f)_value \"$cmdpath\" \"${cur%%=*}\"",
                "        return",
                "    fi",
                "    if ((helpmode)); then",
                "        _describe -t commands 'command' cmd_descs",
                "        return",
                "    fi",
                "    if ((dashdash == 0)) && [[ \"$cur\" == -* ]]; then",
                "        _describe -t options 'option' opt_descs",
                "        return",
                "    fi",
                "    if ((npos == 0 && ${#cmd_descs})); then",
                "        _describe -t commands 'command' cmd_descs",
                "    fi",
                "    \(f)_argument \"$cmdpath\" \"$npos\"",
                "}",
                "",
                "if [[ \"${funcstack[1]}\" == \(f) ]]; then",
                "    \(f) \"$@\"",
                "else",
                "    compdef \(f) \(model.program)",
                "fi",
            ]
            return out.joined(separator: "\n") + "\n"
        }

        private func words(_ items: [String]) -> String {
            items.map(CompletionRenderer.shellWord).joined(separator: " ")
        }

        /// `'name:description'` for `_describe` (a colon in the name would need escaping; names have none).
        private func described(_ name: String, _ text: String) -> String {
            CompletionRenderer.shellQuoted(name + ":" + CompletionRenderer.oneLine(text))
        }

        private func optionLines(_ options: [OptionSpec], assign: String, indent: String) -> [String] {
            guard !options.isEmpty else { return [] }
            var lines = ["\(indent)opts\(assign)(\(words(options.flatMap(CompletionRenderer.spellings))))"]
            lines.append("\(indent)opt_descs\(assign)(")
            for option in options {
                for spelling in CompletionRenderer.spellings(option) {
                    lines.append("\(indent)    \(described(spelling, option.help))")
                }
            }
            lines.append("\(indent))")
            let valued = options.filter { !$0.isFlag }.flatMap(CompletionRenderer.spellings)
            if !valued.isEmpty {
                lines.append("\(indent)value_opts\(assign)(\(words(valued)))")
            }
            return lines
        }

        /// The zsh statement that completes the current word for a hint.
        private func action(_ hint: CompletionHint, valueName: String) -> String {
            switch hint {
            case .none: return "_message \(CompletionRenderer.shellQuoted(valueName))"
            case .file: return "_files"
            case .directory: return "_files -/"
            case .values(let values): return "compadd -- \(words(values))"
            }
        }
    }
}
