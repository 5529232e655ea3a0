// RatsboteRelay: the relay as a library: data folder, storage with group commit, the epoll
// connection handling, enrollment, mailboxes, prekeys, directory, limits and expiry. The
// `ratsbote-relay` executable only parses arguments and prints.

import Foundation

/// Limits on everything a client controls. Every value can be set in `relay.json`.
public struct RelayLimits: Codable, Sendable, Equatable {
    /// Largest application frame in bytes; an envelope plus its command header.
    public var maximumFrameBytes: Int = 1024 * 1024 + 64 * 1024
    /// Seconds a connection may take to finish the Noise handshake.
    public var handshakeTimeoutSeconds: Double = 10
    /// Seconds without any received byte before a connection is closed; clients ping more often.
    public var idleTimeoutSeconds: Double = 300
    /// Open connections in total.
    public var maximumConnections: Int = 20_000
    /// Open connections per enrolled device.
    public var maximumConnectionsPerDevice: Int = 4
    /// Envelopes waiting in one mailbox.
    public var maximumMailboxEnvelopes: Int = 10_000
    /// Bytes waiting in one mailbox.
    public var maximumMailboxBytes: Int = 256 * 1024 * 1024
    /// Sustained sends per second per device (token bucket refill rate).
    public var sendsPerSecond: Double = 1000
    /// Sends a device may make at once before the rate applies (token bucket size).
    public var sendBurst: Double = 2000
    /// Requests of one connection that may wait for storage before the relay stops reading from it.
    public var maximumRequestsInFlight: Int = 256
    /// Bytes queued for a connection that does not read before pushes pause.
    public var outputHighWaterBytes: Int = 4 * 1024 * 1024

    public init() {}

    public init(from decoder: any Decoder) throws {
        // Every field is optional in the file, so an operator writes only what differs.
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RelayLimits()
        maximumFrameBytes = try container.decodeIfPresent(Int.self, forKey: .maximumFrameBytes) ?? defaults.maximumFrameBytes
        handshakeTimeoutSeconds =
            try container.decodeIfPresent(Double.self, forKey: .handshakeTimeoutSeconds) ?? defaults.handshakeTimeoutSeconds
        idleTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
        maximumConnections = try container.decodeIfPresent(Int.self, forKey: .maximumConnections) ?? defaults.maximumConnections
        maximumConnectionsPerDevice =
            try container.decodeIfPresent(Int.self, forKey: .maximumConnectionsPerDevice) ?? defaults.maximumConnectionsPerDevice
        maximumMailboxEnvelopes =
            try container.decodeIfPresent(Int.self, forKey: .maximumMailboxEnvelopes) ?? defaults.maximumMailboxEnvelopes
        maximumMailboxBytes = try container.decodeIfPresent(Int.self, forKey: .maximumMailboxBytes) ?? defaults.maximumMailboxBytes
        sendsPerSecond = try container.decodeIfPresent(Double.self, forKey: .sendsPerSecond) ?? defaults.sendsPerSecond
        sendBurst = try container.decodeIfPresent(Double.self, forKey: .sendBurst) ?? defaults.sendBurst
        maximumRequestsInFlight =
            try container.decodeIfPresent(Int.self, forKey: .maximumRequestsInFlight) ?? defaults.maximumRequestsInFlight
        outputHighWaterBytes = try container.decodeIfPresent(Int.self, forKey: .outputHighWaterBytes) ?? defaults.outputHighWaterBytes
    }
}

/// The operator's settings, stored as `relay.json` in the data folder.
public struct RelayConfiguration: Codable, Sendable, Equatable {
    /// The organisation's name, shown to operators.
    public var organisation: String
    /// The public `HOST:PORT` that invite codes carry; also the default listen address.
    public var publicAddress: String
    /// Seconds an envelope waits unread before it is swept (default 30 days).
    public var envelopeTimeToLiveSeconds: Int = 30 * 86400
    /// Seconds between expiry sweeps while serving.
    public var sweepIntervalSeconds: Double = 60
    /// One-time prekeys below which the owner receives a `prekeysLow` push.
    public var prekeysLowThreshold: Int = 10
    public var limits: RelayLimits = RelayLimits()
    /// Limits on document blobs.
    public var blobs: BlobLimits = BlobLimits()

    public init(organisation: String, publicAddress: String) {
        self.organisation = organisation
        self.publicAddress = publicAddress
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        organisation = try container.decode(String.self, forKey: .organisation)
        publicAddress = try container.decode(String.self, forKey: .publicAddress)
        envelopeTimeToLiveSeconds = try container.decodeIfPresent(Int.self, forKey: .envelopeTimeToLiveSeconds) ?? 30 * 86400
        sweepIntervalSeconds = try container.decodeIfPresent(Double.self, forKey: .sweepIntervalSeconds) ?? 60
        prekeysLowThreshold = try container.decodeIfPresent(Int.self, forKey: .prekeysLowThreshold) ?? 10
        limits = try container.decodeIfPresent(RelayLimits.self, forKey: .limits) ?? RelayLimits()
        blobs = try container.decodeIfPresent(BlobLimits.self, forKey: .blobs) ?? BlobLimits()
    }
}

/// The relay's notion of now: the wall clock plus an offset that tests set to simulate time.
public struct RelayClock: Sendable {
    /// Seconds added to the wall clock; 0 outside tests.
    public var offsetSeconds: Int64

    public init(offsetSeconds: Int64 = 0) { self.offsetSeconds = offsetSeconds }

    /// Reads `RATSBOTE_RELAY_CLOCK_OFFSET` (whole seconds, may be negative); test use only.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RelayClock {
        RelayClock(offsetSeconds: environment["RATSBOTE_RELAY_CLOCK_OFFSET"].flatMap { Int64($0) } ?? 0)
    }

    /// Unix seconds.
    public func now() -> Int64 { Int64(Date().timeIntervalSince1970) + offsetSeconds }
}
