import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// The libpq functions the PostgreSQL store calls, resolved with `dlopen` the first time a postgresql://
/// store is opened. Linking libpq would make every mcpctl binary need libpq5 and, through it, libssl,
/// Kerberos and LDAP at start-up (libpq-dev ships no self-contained static library), although a store on
/// SQLite uses none of it. If libpq is missing, opening a postgresql:// store says so; nothing else changes.
struct LibPQ: @unchecked Sendable {
    typealias Connection = OpaquePointer
    typealias Result = OpaquePointer

    let connect: @convention(c) (UnsafePointer<CChar>) -> Connection?
    let status: @convention(c) (Connection?) -> ConnStatusType
    let errorMessage: @convention(c) (Connection?) -> UnsafeMutablePointer<CChar>?
    let finish: @convention(c) (Connection?) -> Void
    let reset: @convention(c) (Connection?) -> Void
    let consumeInput: @convention(c) (Connection?) -> Int32
    let socket: @convention(c) (Connection?) -> Int32
    let exec: @convention(c) (Connection?, UnsafePointer<CChar>) -> Result?
    let execParams: @convention(c) (Connection?, UnsafePointer<CChar>, Int32, UnsafePointer<Oid>?,
                                    UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?
    let prepare: @convention(c) (Connection?, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32, UnsafePointer<Oid>?) -> Result?
    let execPrepared: @convention(c) (Connection?, UnsafePointer<CChar>, Int32, UnsafePointer<UnsafePointer<CChar>?>?,
                                      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?
    let resultStatus: @convention(c) (Result?) -> ExecStatusType
    let resultErrorField: @convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?
    let resultErrorMessage: @convention(c) (Result?) -> UnsafeMutablePointer<CChar>?
    let ntuples: @convention(c) (Result?) -> Int32
    let nfields: @convention(c) (Result?) -> Int32
    let fname: @convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?
    let ftype: @convention(c) (Result?, Int32) -> Oid
    let getisnull: @convention(c) (Result?, Int32, Int32) -> Int32
    let getvalue: @convention(c) (Result?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    let getlength: @convention(c) (Result?, Int32, Int32) -> Int32
    let cmdTuples: @convention(c) (Result?) -> UnsafeMutablePointer<CChar>?
    let clear: @convention(c) (Result?) -> Void
    let transactionStatus: @convention(c) (Connection?) -> PGTransactionStatusType

    /// The library, or why it could not be loaded (loaded once per process).
    static let shared: Swift.Result<LibPQ, DatabaseError> = load()

    private static func load() -> Swift.Result<LibPQ, DatabaseError> {
        guard let lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL) else {
            return .failure(DatabaseError(code: 1, message: "a postgresql:// store needs libpq (Debian: apt-get install libpq5)", sql: nil))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? { dlsym(lib, name).map { unsafeBitCast($0, to: type) } }
        guard let connect = symbol("PQconnectdb", as: (@convention(c) (UnsafePointer<CChar>) -> Connection?).self),
              let status = symbol("PQstatus", as: (@convention(c) (Connection?) -> ConnStatusType).self),
              let errorMessage = symbol("PQerrorMessage", as: (@convention(c) (Connection?) -> UnsafeMutablePointer<CChar>?).self),
              let finish = symbol("PQfinish", as: (@convention(c) (Connection?) -> Void).self),
              let reset = symbol("PQreset", as: (@convention(c) (Connection?) -> Void).self),
              let consumeInput = symbol("PQconsumeInput", as: (@convention(c) (Connection?) -> Int32).self),
              let socket = symbol("PQsocket", as: (@convention(c) (Connection?) -> Int32).self),
              let exec = symbol("PQexec", as: (@convention(c) (Connection?, UnsafePointer<CChar>) -> Result?).self),
              let execParams = symbol("PQexecParams", as: (@convention(c) (Connection?, UnsafePointer<CChar>, Int32, UnsafePointer<Oid>?,
                  UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?).self),
              let prepare = symbol("PQprepare", as: (@convention(c) (Connection?, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32,
                  UnsafePointer<Oid>?) -> Result?).self),
              let execPrepared = symbol("PQexecPrepared", as: (@convention(c) (Connection?, UnsafePointer<CChar>, Int32,
                  UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> Result?).self),
              let resultStatus = symbol("PQresultStatus", as: (@convention(c) (Result?) -> ExecStatusType).self),
              let resultErrorField = symbol("PQresultErrorField", as: (@convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?).self),
              let resultErrorMessage = symbol("PQresultErrorMessage", as: (@convention(c) (Result?) -> UnsafeMutablePointer<CChar>?).self),
              let ntuples = symbol("PQntuples", as: (@convention(c) (Result?) -> Int32).self),
              let nfields = symbol("PQnfields", as: (@convention(c) (Result?) -> Int32).self),
              let fname = symbol("PQfname", as: (@convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?).self),
              let ftype = symbol("PQftype", as: (@convention(c) (Result?, Int32) -> Oid).self),
              let getisnull = symbol("PQgetisnull", as: (@convention(c) (Result?, Int32, Int32) -> Int32).self),
              let getvalue = symbol("PQgetvalue", as: (@convention(c) (Result?, Int32, Int32) -> UnsafeMutablePointer<CChar>?).self),
              let getlength = symbol("PQgetlength", as: (@convention(c) (Result?, Int32, Int32) -> Int32).self),
              let cmdTuples = symbol("PQcmdTuples", as: (@convention(c) (Result?) -> UnsafeMutablePointer<CChar>?).self),
              let clear = symbol("PQclear", as: (@convention(c) (Result?) -> Void).self),
              let transactionStatus = symbol("PQtransactionStatus", as: (@convention(c) (Connection?) -> PGTransactionStatusType).self)
        else {
            return .failure(DatabaseError(code: 1, message: "the installed libpq lacks a function mcpctl needs (libpq 10 or later is required)", sql: nil))
        }
        return .success(LibPQ(connect: connect, status: status, errorMessage: errorMessage, finish: finish, reset: reset, consumeInput: consumeInput, socket: socket, exec: exec,
                              execParams: execParams, prepare: prepare, execPrepared: execPrepared, resultStatus: resultStatus, resultErrorField: resultErrorField,
                              resultErrorMessage: resultErrorMessage, ntuples: ntuples, nfields: nfields, fname: fname, ftype: ftype,
                              getisnull: getisnull, getvalue: getvalue, getlength: getlength, cmdTuples: cmdTuples, clear: clear,
                              transactionStatus: transactionStatus))
    }
}
