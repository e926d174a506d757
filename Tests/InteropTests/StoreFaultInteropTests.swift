import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Faults an operator meets under a running `mcpctl serve`: the store file deleted or replaced, a
/// restore while the server runs, and the file system going read-only under load.
@Suite struct StoreFaultInteropTests {
    /// A user with a viewer grant on mcpctl/local and a personal token for it.
    static func viewerToken(_ h: InteropHarness) throws -> String {
        try h.mcpctl(["user", "add", "alice@example.com"])
        try h.mcpctl(["grant", "add", "alice@example.com", "--app", "mcpctl", "--env", "local", "--role", "viewer"])
        return try h.mcpctl(["token", "create", "--email", "alice@example.com"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The HTTP status of one request (0 when no answer came).
    static func status(_ url: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil) -> Int {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = method
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        req.httpBody = body.map { Data($0.utf8) }
        final class Box: @unchecked Sendable { var status = 0 }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { _, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            done.signal()
        }.resume()
        done.wait()
        return box.status
    }

    static func ping(_ base: String, _ token: String, id: Int = 1) -> Int {
        status(base + "/mcp/mcpctl/local", method: "POST",
               headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"],
               body: #"{"jsonrpc":"2.0","id":\#(id),"method":"ping"}"#)
    }

    /// Sends pings until /healthz answers 503 (the server noticed) or a generous deadline passes; returns
    /// every ping's status.
    static func pingUntilUnhealthy(_ base: String, _ token: String) -> (noticed: Bool, statuses: [Int]) {
        var statuses: [Int] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            statuses.append(ping(base, token))
            if status(base + "/healthz") == 503 { return (true, statuses) }
            usleep(20_000)
        }
        return (false, statuses)
    }

    static func log(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    @Test(.enabled(if: InteropHarness.isSQLite, "a SQLite store's file under a running server"))
    func deletingTheStoreUnderARunningServerFailsClosedAndCreatesNoNewStore() throws {
        let h = InteropHarness()
        let token = try Self.viewerToken(h)
        let server = try h.startServer(["--log-level", "error"])
        #expect(Self.ping(server.url, token) == 200)
        for f in [h.dbPath, h.dbPath + "-wal", h.dbPath + "-shm"] { unlink(f) }
        let (noticed, _) = Self.pingUntilUnhealthy(server.url, token)
        #expect(noticed, "the server never reported the deleted store on /healthz")
        #expect(Self.ping(server.url, token) == 503)
        #expect(Self.status(server.url + "/healthz") == 503)
        #expect(Self.status(server.url + "/oauth/token", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                            body: "grant_type=refresh_token&refresh_token=x&client_id=y") == 503)
        #expect(!FileManager.default.fileExists(atPath: h.dbPath), "the server created a new store behind the operator's back")
        #expect(Self.log(server.log).contains("store lost"))
        server.process.terminate()
        server.process.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: h.dbPath))
    }

    @Test(.enabled(if: InteropHarness.isSQLite, "a SQLite store's file under a running server"))
    func movingABackupOverALiveStoreNeverRevivesARevokedToken() throws {
        let h = InteropHarness()
        let token = try Self.viewerToken(h)
        let backup = h.dir.appendingPathComponent("backup.db").path
        try h.mcpctl(["store", "backup", backup])
        let server = try h.startServer(["--log-level", "error"])
        #expect(Self.ping(server.url, token) == 200)
        try h.mcpctl(["token", "revoke", token])
        #expect(Self.ping(server.url, token) == 401)
        // The wrong way to restore: move the backup (in which the token is live) over the store in use.
        #expect(rename(backup, h.dbPath) == 0)
        let (noticed, statuses) = Self.pingUntilUnhealthy(server.url, token)
        #expect(noticed, "the server never reported the replaced store on /healthz")
        #expect(!statuses.contains(200), "a token revoked after the backup was accepted: \(statuses)")
        #expect(Self.ping(server.url, token) == 503)
        #expect(Self.log(server.log).contains("replaced"))
    }

    @Test(.enabled(if: InteropHarness.isSQLite, "a SQLite store's file under a running server"))
    func restoreRefusesWhileTheServerRunsAndForceMakesTheServerFailClosed() throws {
        let h = InteropHarness()
        let token = try Self.viewerToken(h)
        let backup = h.dir.appendingPathComponent("backup.db").path
        try h.mcpctl(["store", "backup", backup])
        let server = try h.startServer(["--log-level", "error"])
        let refused = try h.run(InteropHarness.binary, ["store", "restore", backup])
        #expect(refused.status == 1 && refused.stderr.contains("running"), "\(refused.stderr)")
        #expect(Self.ping(server.url, token) == 200)
        try h.mcpctl(["store", "restore", backup, "--force"])
        let (noticed, _) = Self.pingUntilUnhealthy(server.url, token)
        #expect(noticed)
        server.process.terminate()
        server.process.waitUntilExit()
        let restarted = try h.startServer(["--log-level", "error"])
        #expect(Self.ping(restarted.url, token) == 200)
    }

    @Test func serveRefusesAnUnknownAuditSyncMode() throws {
        let h = InteropHarness()
        try h.mcpctl(["init"])
        let r = try h.run(InteropHarness.binary, ["serve", "--listen", "127.0.0.1:0", "--audit-sync", "sometimes"])
        #expect(r.status == 64 && r.stderr.contains("--audit-sync"))
    }

    /// An ext4 file system in an image on a tmpfs, mounted with `errors=remount-ro`, that a test can force
    /// read-only the way the kernel does after an I/O error, or shut down dropping everything not yet synced
    /// (what a power cut does). A plain tmpfs cannot be remounted read-only while the server has the store
    /// open for writing (the kernel answers EBUSY), and it keeps unsynced data anyway.
    final class FileSystemFault {
        let root: URL
        var fs: URL { root.appendingPathComponent("fs") }
        var image: String { root.appendingPathComponent("tmpfs/store.img").path }
        let h: InteropHarness

        init(_ h: InteropHarness) throws {
            self.h = h
            root = h.dir.appendingPathComponent("fault")
            if geteuid() != 0 { try Test.cancel("skipped: mounting a file system and forcing it read-only needs root") }
            guard FileManager.default.fileExists(atPath: "/sys/fs/ext4") else { try Test.cancel("skipped: this kernel has no ext4") }
            let tmpfs = root.appendingPathComponent("tmpfs").path
            try FileManager.default.createDirectory(atPath: tmpfs, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: fs.path, withIntermediateDirectories: true)
            guard sh("mount -t tmpfs -o size=96m tmpfs '\(tmpfs)'") else { try Test.cancel("skipped: cannot mount a tmpfs here") }
            guard sh("truncate -s 64M '\(image)' && PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q '\(image)' && mount -o loop,errors=remount-ro '\(image)' '\(fs.path)'") else {
                tearDown()
                try Test.cancel("skipped: cannot make and loop-mount an ext4 image here")
            }
        }

        @discardableResult
        func sh(_ command: String) -> Bool {
            (try? h.run("/bin/sh", ["-c", command]))?.status == 0
        }

        /// What the kernel does on a metadata I/O error with errors=remount-ro: the file system turns read-only.
        func failFileSystem() -> Bool {
            sh("d=$(basename $(findmnt -n -o SOURCE '\(fs.path)')) && echo 1 > /sys/fs/ext4/$d/trigger_fs_error")
        }

        /// EXT4_IOC_SHUTDOWN with EXT4_GOING_FLAGS_NOLOGFLUSH: every later write fails and whatever was not
        /// synced yet is lost, as in a power cut.
        func cutPower() -> Bool {
            sh("python3 -c \"import fcntl, os, struct; fd = os.open('\(fs.path)', os.O_RDONLY); fcntl.ioctl(fd, 0x8004587d, struct.pack('I', 2))\"")
        }

        func inject(_ fault: String) -> Bool { fault == "power-cut" ? cutPower() : failFileSystem() }

        /// Unmounts and mounts the file system again, read-write (the kernel refuses a plain rw remount after
        /// an emergency read-only switch).
        func remount() -> Bool {
            for _ in 0..<50 {
                if sh("umount '\(fs.path)'") { break }
                usleep(100_000)
            }
            return sh("mount -o loop '\(image)' '\(fs.path)'")
        }

        func tearDown() {
            sh("umount '\(fs.path)' 2>/dev/null; umount '\(root.appendingPathComponent("tmpfs").path)'")
        }
    }

    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var acknowledged = 0, refused = 0
        func add(_ status: Int) {
            lock.lock()
            if (200..<300).contains(status) { acknowledged += 1 } else { refused += 1 }
            lock.unlock()
        }
    }

    @Test(arguments: ["read-only", "power-cut"])
    func everyAcknowledgedRequestKeepsItsAuditRowWhenTheFileSystemFails(fault kind: String) throws {
        let h = InteropHarness()
        let fault = try FileSystemFault(h)
        defer { withExtendedLifetime(h) { fault.tearDown() } }
        h.environment["MCPCTL_DB"] = fault.fs.appendingPathComponent("store/mcpctl.db").path
        let token = try Self.viewerToken(h)
        let server = try h.startServer(["--log-level", "error"])
        let tally = Tally()
        let stop = Date().addingTimeInterval(2.5)
        let group = DispatchGroup()
        for worker in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var i = 0
                while Date() < stop {
                    i += 1
                    tally.add(Self.ping(server.url, token, id: worker * 100_000 + i))
                }
            }
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(fault.inject(kind), "could not inject the \(kind) fault")
        group.wait()
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(fault.remount(), "could not mount the file system again")
        let rows = try JSONSerialization.jsonObject(with: Data(try h.mcpctl(["audit", "list", "--source", "mcp", "--decision", "allow",
                                                                             "--limit", "1000000", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(tally.acknowledged > 0)
        #expect(tally.refused > 0, "no request was refused: the \(kind) fault never reached the server")
        #expect(rows.count >= tally.acknowledged, "\(tally.acknowledged) requests acknowledged, only \(rows.count) audit rows on disk")
        #expect(try h.mcpctl(["audit", "verify"]).status == 0)
    }
}
