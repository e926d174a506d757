import FuzzSupport
import MCPAuth
@testable import MCPGateway

/// Fuzzes the JSON-RPC envelope reader the gateway decides on (`MCPMessage.parse`) and the JSON
/// parser under it (RFC 8259).
///
/// Input: one HTTP message body.
/// Properties: a parsed JSON value, encoded (compact or pretty), parses to an equal value, and its
/// encoding is stable; an accepted message is exactly one of request, notification or response, a
/// `tools/call` names its tool, and the message keeps its meaning when written out and read again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    if let json = try? JSON.parse(bytes) {
        checkRoundTrip(json)
    }
    if let message = try? MCPMessage.parse(bytes) {
        checkMessage(message)
    }
    return 0
}

func checkRoundTrip(_ json: JSON) {
    let compact = json.encoded()
    guard let again = try? JSON.parse(compact) else { fatalError("encoded JSON does not parse: \(compact)") }
    invariant(again == json, "JSON changed in a round trip: \(compact) vs \(again.encoded())")
    invariant(again.encoded() == compact, "JSON encoding is not stable: \(compact) vs \(again.encoded())")
    guard let pretty = try? JSON.parse(json.encoded(pretty: true)) else { fatalError("pretty JSON does not parse") }
    invariant(pretty == json, "pretty JSON changed in a round trip: \(compact)")
}

func checkMessage(_ message: MCPMessage) {
    let kinds = [message.isRequest, message.isNotification, message.isResponse].filter { $0 }
    invariant(kinds.count == 1, "message is not exactly one kind: \(message.json.encoded())")
    if message.method == "tools/call" {
        invariant(message.toolName != nil, "tools/call accepted without a tool name")
    }
    guard let again = try? MCPMessage.parse(message.json.bytes) else {
        fatalError("accepted message does not parse again: \(message.json.encoded())")
    }
    invariant(again.method == message.method && again.id == message.id && again.toolName == message.toolName
              && again.isRequest == message.isRequest && again.arguments == message.arguments,
              "message changed in a round trip: \(message.json.encoded())")
    if message.isRequest {
        let answer = MCPMessage.error(id: message.id, code: -32600, message: "x")
        guard let parsed = try? MCPMessage.parse(answer.bytes) else { fatalError("error answer does not parse") }
        invariant(parsed.isResponse && parsed.id == message.id, "error answer lost its id: \(answer.encoded())")
    }
}
