import RatsboteStorage

/// Failures of the operator commands and of starting the relay. The CLI translates each case;
/// the cases carry the path or value involved so that the message can name it.
public enum RelayError: Error, Equatable, Sendable {
    /// `init` found something at the data folder path.
    case dataFolderExists(path: String)
    /// The data folder or one of its files is missing.
    case dataFolderMissing(path: String)
    /// A file could not be read or written.
    case fileFailed(path: String, operation: String, errno: Int32)
    /// A key file has the wrong size.
    case invalidKeyFile(path: String, expected: Int, actual: Int)
    /// `relay.json` does not parse or contains an invalid value.
    case invalidConfiguration(path: String, reason: String)
    /// A value given on the command line is invalid.
    case invalidValue(field: String, value: String, reason: String)
    /// No user with this id.
    case userNotFound(String)
    /// No group with this id.
    case groupNotFound(String)
    /// A command needs the organisation root key, and `org-root.key` is not in the data folder.
    case rootKeyOffline(path: String)
    /// No device at this address, or it is already revoked.
    case deviceNotFound(String)
    /// The user was revoked, so it gets no new invites.
    case userRevoked(String)
    /// SQLite failed.
    case storage(StorageError)
    /// Another `serve` process holds the data folder's lock.
    case alreadyServing(path: String)
    /// The listener could not be opened.
    case listenFailed(address: String, reason: String)
}
