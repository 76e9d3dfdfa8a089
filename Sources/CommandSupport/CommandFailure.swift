/// A command that was asked the right thing but could not do it: a file missing or unreadable, a
/// broker that did not answer, a bench run that fell short. Argument parsing prints it as
/// `Error: <message>` and exits 1, without the usage text (that is for `ValidationError`, a
/// command asked the wrong thing).
public struct CommandFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ message: String) { description = message }
}
