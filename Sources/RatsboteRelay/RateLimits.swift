import RatsboteSupport

/// A token bucket: `rate` tokens per second up to `burst`, one token per request.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: Double

    init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updatedAt = now
    }

    /// Takes one token; `false` when the bucket is empty.
    mutating func take(now: Double) -> Bool {
        tokens = min(burst, tokens + (now - updatedAt) * rate)
        updatedAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Logs each kind of exceeded limit at most once per interval, with the count of repeats, so a
/// misbehaving client cannot flood the log.
struct LimitLog {
    private var lastLogged: [String: Double] = [:]
    private var suppressed: [String: Int] = [:]
    let interval: Double

    init(interval: Double = 10) {
        self.interval = interval
    }

    /// Logs that `limit` was exceeded unless it was logged within the interval.
    mutating func record(_ limit: String, code: UInt16, logger: Logger, now: Double) {
        if let last = lastLogged[limit], now - last < interval {
            suppressed[limit, default: 0] += 1
            return
        }
        let repeats = suppressed.removeValue(forKey: limit) ?? 0
        lastLogged[limit] = now
        logger.warning(
            "limit exceeded",
            ["limit": .public(limit), "code": .public(String(code)), "suppressedSinceLast": .public(String(repeats))])
    }
}
