import HTTP

/// Notices `notifications/tools/list_changed` in an event stream relayed byte for byte, without parsing
/// it: the marker may be split across chunks, so the tail of each chunk is kept for the next. A tool
/// result that merely quotes the marker also counts; that costs one extra refresh of the list, never
/// a wrong decision.
struct ListChangedWatch {
    private static let marker = Array(ToolListFilter.listChanged.utf8)
    private var tail: [UInt8] = []

    /// Whether the marker is in `chunk`, or begins in the previous chunk and ends in this one.
    mutating func sees(_ chunk: [UInt8]) -> Bool {
        let keep = ListChangedWatch.marker.count - 1
        let boundary = tail + chunk.prefix(keep)
        let found = ByteSearch.contains(chunk, ListChangedWatch.marker) || ByteSearch.contains(boundary, ListChangedWatch.marker)
        tail = chunk.count >= keep ? Array(chunk.suffix(keep)) : Array(boundary.suffix(keep))
        return found
    }
}
