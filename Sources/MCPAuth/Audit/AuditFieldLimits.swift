/// Length caps on the text an audit row stores, so that strings from outside (a method name, a tool name,
/// a client or user name, a user agent, a reason) cannot make one row arbitrarily large.
public enum AuditFieldLimits {
    /// Method and tool names: at most 128 bytes of UTF-8.
    public static let nameBytes = 128
    /// Every other text field: at most 256 bytes of UTF-8.
    public static let textBytes = 256

    /// The longest prefix of `text` that fits in `maxBytes` bytes of UTF-8 without splitting a character's encoding.
    public static func truncate(_ text: String, toBytes maxBytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        // RFC 3629 §3: bytes 10xxxxxx continue a character; cut before the character they belong to.
        while end > utf8.startIndex, end < utf8.endIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[utf8.startIndex..<end], as: UTF8.self)
    }

    static func cap(_ text: String?, _ maxBytes: Int) -> String? {
        text.map { truncate($0, toBytes: maxBytes) }
    }
}

extension AuditEvent {
    /// This event with every free-text field cut to its cap (source and decision are short words); the one step every audit write passes through.
    func capped() -> AuditEvent {
        var e = self
        let short = AuditFieldLimits.nameBytes, long = AuditFieldLimits.textBytes
        e.method = AuditFieldLimits.cap(method, short)
        e.tool = AuditFieldLimits.cap(tool, short)
        e.action = AuditFieldLimits.truncate(action, toBytes: long)
        e.actor = AuditFieldLimits.cap(actor, long)
        e.email = AuditFieldLimits.cap(email, long)
        e.tokenID = AuditFieldLimits.cap(tokenID, long)
        e.clientID = AuditFieldLimits.cap(clientID, long)
        e.app = AuditFieldLimits.cap(app, long)
        e.env = AuditFieldLimits.cap(env, long)
        e.reason = AuditFieldLimits.cap(reason, long)
        e.remoteAddr = AuditFieldLimits.cap(remoteAddr, long)
        e.target = AuditFieldLimits.cap(target, long)
        e.argsDigest = AuditFieldLimits.cap(argsDigest, long)
        return e
    }
}
