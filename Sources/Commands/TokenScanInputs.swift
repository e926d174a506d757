import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `token scan` reads: the paths given, directories walked recursively the way secret scanners do
/// (symbolic links, `.git` directories, binary files and special files found inside are skipped), and
/// every path that cannot be read reported instead of ending the scan.
struct TokenScanInputs {
    /// One piece of text to search, named by where it came from.
    struct Input {
        let source: String
        let text: String
    }

    private(set) var inputs: [Input] = []
    private(set) var unreadable: [(path: String, reason: String)] = []

    /// Git's heuristic: a NUL byte in the first 8000 bytes makes a file binary.
    static let binaryProbeBytes = 8000

    init(paths: [String], readStdin: () -> Data) {
        if paths.isEmpty {
            add("<stdin>", readStdin())
            return
        }
        for path in paths {
            if path == "-" { add("<stdin>", readStdin()) } else { visit(named: path) }
        }
    }

    /// A path named on the command line: followed if it is a symbolic link, and read even if it looks
    /// binary or is a pipe (`<(command)`), since the operator asked for it.
    private mutating func visit(named path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return noteUnreadable(path) }
        if info.st_mode & S_IFMT == S_IFDIR { walk(directory: path) } else { read(path, skipBinary: false) }
    }

    /// Entries in name order, so the report is the same on every run.
    private mutating func walk(directory: String) {
        guard let names = Self.entries(of: directory) else { return noteUnreadable(directory) }
        for name in names where name != ".git" {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { noteUnreadable(path); continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: walk(directory: path)
            case S_IFREG: read(path, skipBinary: true)
            default: continue  // symbolic links, pipes, sockets, devices
            }
        }
    }

    /// The names in a directory, sorted, without `.` and `..`; nil (errno set) if it cannot be listed.
    private static func entries(of directory: String) -> [String]? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        errno = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        guard errno == 0 else { return nil }
        return names.sorted()
    }

    private mutating func read(_ path: String, skipBinary: Bool) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return noteUnreadable(path) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return noteUnreadable(path) }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if skipBinary, data.count - n < Self.binaryProbeBytes, data.prefix(Self.binaryProbeBytes).contains(0) { return }
        }
        add(path, data)
    }

    private mutating func add(_ source: String, _ data: Data) {
        inputs.append(Input(source: source, text: String(decoding: data, as: UTF8.self)))
    }

    private mutating func noteUnreadable(_ path: String) {
        unreadable.append((path, String(cString: strerror(errno))))
    }
}
