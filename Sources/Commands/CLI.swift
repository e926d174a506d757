import MCPAuth
public enum CLI { public static func main() -> Int32 { 0 } }
