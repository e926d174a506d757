import Commands
import Foundation
import Testing

/// The man page of the sample table with the extra sections the real page has.
private func makePage(parser: ArgumentParser = SampleTable.make()) -> String {
    ManPageRenderer.render(parser: parser, date: "2025-01-02", sections: [
        ManSection(title: "ENVIRONMENT", body: """
            MCPCTL_DB
              Path of the store, like --db.

            MCPCTL_PUBLIC_URL
              Public URL used in metadata — see RFC 8414.
            """),
        ManSection(title: "FILES", body: "~/.mcpctl/mcpctl.db is the default store."),
        ManSection(title: "EXIT STATUS", body: "0\n  Success.\n\n1\n  Failure.\n\n64\n  Usage error."),
        ManSection(title: "EXAMPLES", body: """
            Create a token for a user:

                mcpctl token create --email ada@example.com \\
                  --scopes read
            """),
        ManSection(title: "SEE ALSO", roff: ".BR sqlite3 (1)"),
    ])
}

private func lines(_ page: String) -> [String] {
    page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

@Test func theManPageStartsWithItsTitleHeader() {
    let page = lines(makePage())
    #expect(page[0].hasPrefix(".\\\" Generated"))
    #expect(page[1] == ".TH \"MCPCTL\" 1 \"2025-01-02\" \"mcpctl 1.2.3\" \"User Commands\"")
    #expect(page[2...4] == [".ad l", ".nh", ".SH NAME"])
    #expect(page[5] == "mcpctl \\- Authentication, authorization and audit for MCP servers")
}

@Test func theManPageHasItsSectionsInOrder() {
    let sections = lines(makePage()).filter { $0.hasPrefix(".SH ") }
    #expect(sections == [
        ".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH \"GLOBAL OPTIONS\"",
        ".SH \"ENVIRONMENT\"", ".SH \"FILES\"", ".SH \"EXIT STATUS\"", ".SH \"EXAMPLES\"", ".SH \"SEE ALSO\"",
    ])
}

@Test func everyCommandHasASubsectionWithItsUsage() throws {
    let parser = SampleTable.make()
    let page = lines(makePage(parser: parser))
    let subsections = page.filter { $0.hasPrefix(".SS ") }
    #expect(subsections.count == parser.allCommands().count - 1)
    #expect(subsections.first == ".SS \"mcpctl init\"")
    #expect(subsections.contains(".SS \"mcpctl token create\""))
    let index = try #require(page.firstIndex(of: ".SS \"mcpctl token create\""))
    #expect(page[index + 1] == #"\fBmcpctl token create\fR \fB\-\-email\fR\ \fIEMAIL\fR [\fB\-\-name\fR\ \fINAME\fR] [\fB\-\-scopes\fR\ \fISCOPES\fR] [\fB\-\-print\-config\fR]"#)
    #expect(page[index + 3] == "Create a token and print its secret.")
}

@Test func optionsAndArgumentsAreTaggedParagraphsWithMinusSigns() {
    let page = makePage()
    #expect(page.contains(".TP\n\\fB\\-e\\fR, \\fB\\-\\-email\\fR \\fIEMAIL\\fR\nOwner of the token.\n"))
    #expect(page.contains(".TP\n\\fIEMAIL\\fR\nThe user's email address.\n"))
    #expect(page.contains(".TP\n\\fIID\\fR ...\nToken ids or secrets.\n"))
    #expect(page.contains("\\fBmcpctl client register\\fR \\fB\\-\\-name\\fR\\ \\fINAME\\fR \\fB\\-\\-redirect\\-uri\\fR\\ \\fIURI\\fR\\ ... [\\fB\\-\\-confidential\\fR]"))
}

@Test func globalOptionsAreListedOnce() {
    let page = makePage()
    let globals = page.components(separatedBy: ".SH \"GLOBAL OPTIONS\"\n")[1].components(separatedBy: ".SH ")[0]
    #expect(globals.contains(".TP\n\\fB\\-\\-db\\fR \\fIPATH\\fR\n"))
    #expect(globals.contains(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow help information.\n"))
    #expect(page.components(separatedBy: "\\fB\\-\\-json\\fR\n").count == 2)
}

@Test func plainSectionsBecomeDefinitionsParagraphsAndExamples() {
    let page = makePage()
    #expect(page.contains(".SH \"ENVIRONMENT\"\n.TP\n\\fBMCPCTL_DB\\fR\nPath of the store, like \\-\\-db.\n"))
    #expect(page.contains("Public URL used in metadata \\[u2014] see RFC 8414."))
    #expect(page.contains(".SH \"EXAMPLES\"\nCreate a token for a user:\n.PP\n.RS 4\n.nf\nmcpctl token create \\-\\-email ada@example.com \\e\n  \\-\\-scopes read\n.fi\n.RE\n"))
    #expect(page.contains(".SH \"SEE ALSO\"\n.BR sqlite3 (1)\n"))
}

@Test func aOneWordFirstLineMakesADefinitionEvenWithoutIndentation() {
    let parser = SampleTable.make()
    let page = ManPageRenderer.render(parser: parser, date: "d", sections: [
        ManSection(title: "EXIT STATUS", body: "0\nSuccess.\n\n64\nUsage error: see\nthe message."),
        ManSection(title: "NOTES", body: "Read this.\nIt is prose."),
    ])
    #expect(page.contains(".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nSuccess.\n.TP\n\\fB64\\fR\nUsage error: see the message.\n"))
    #expect(page.contains(".SH \"NOTES\"\nRead this. It is prose.\n"))
}

@Test func prosePutsMinusSignsOnlyInOptionNames() {
    let page = makePage()
    #expect(page.contains("Every command accepts \\-\\-db and \\-\\-json."))
    #expect(page.contains("a one-line summary goes to stderr."))
    #expect(page.contains("Files to scan; '\\-' or none reads stdin."))
}

@Test func textThatLooksLikeARoffRequestIsEscaped() {
    let root = CommandSpec("x", abstract: "X.", discussion: """
        .this line starts with a dot

        'and this one with a quote; a \\backslash and "quotes" stay text.
        """)
    let parser = ArgumentParser(program: "x", version: "1", root: root, globalOptions: [])
    let page = ManPageRenderer.render(parser: parser, date: "d", sections: [ManSection(title: "Notes \"quoted\"", body: "  .indented dot")])
    #expect(page.contains("\n\\&.this line starts with a dot\n"))
    #expect(page.contains("\n\\&'and this one with a quote; a \\ebackslash and \"quotes\" stay text.\n"))
    #expect(page.contains(".SH \"NOTES \\(dqQUOTED\\(dq\"\n"))
    #expect(page.contains(".nf\n\\&.indented dot\n.fi"))
}

@Test(.enabled(if: ExternalTool.isInstalled("groff"), "groff is not installed; run `apt-get install -y groff-base`"))
func groffRendersTheManPageWithoutWarnings() throws {
    let path = try ExternalTool.write(makePage(), named: "mcpctl.1")
    defer { ExternalTool.discard(path) }
    let result = try ExternalTool.run("groff", ["-man", "-Tutf8", "-ww", "-z", path])
    #expect(result.status == 0)
    #expect(result.stderr == "")
}

@Test(.enabled(if: ExternalTool.isInstalled("man"), "man is not installed; run `apt-get install -y man-db groff-base`"))
func manRendersTheManPage() throws {
    let path = try ExternalTool.write(makePage(), named: "mcpctl.1")
    defer { ExternalTool.discard(path) }
    let result = try ExternalTool.run("man", ["-l", path], environment: ["MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat", "MAN_KEEP_FORMATTING": ""])
    #expect(result.status == 0, "\(result.stderr)")
    let text = result.stdout.replacingOccurrences(of: "\u{8}.", with: "", options: .regularExpression)
    #expect(text.contains("GLOBAL OPTIONS"))
    #expect(text.contains("mcpctl token create --email EMAIL [--name NAME]"))
    #expect(text.contains("MCPCTL_PUBLIC_URL"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
}
