import GRDB

extension Row {
    /// The value of `column` as `Value`, or nil when it is NULL or cannot be read as one (text
    /// or a blob in a number column, say). GRDB's typed subscripts stop the process on a value
    /// they cannot convert, and a log with one such row (a hand edit, another program, a damaged
    /// page) would then stop the daemon at every start; every read of the log goes through here.
    func checked<Value: DatabaseValueConvertible>(_ column: String) -> Value? {
        Value.fromDatabaseValue(self[column] as DatabaseValue)
    }

    /// The value at `index` as `Value`, or nil (``checked(_:)-(String)``).
    func checked<Value: DatabaseValueConvertible>(_ index: Int) -> Value? {
        Value.fromDatabaseValue(self[index] as DatabaseValue)
    }
}
