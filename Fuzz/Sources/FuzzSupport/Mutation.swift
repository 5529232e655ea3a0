/// One change applied to authenticated bytes, chosen by the fuzzer.
///
/// Targets that decrypt need valid ciphertext to get past the first MAC check, so they encrypt
/// the fuzzer's payload themselves and then apply one of these. Every case except ``none``
/// changes the bytes, so the decoder must reject the result.
public enum Mutation: Equatable, CustomStringConvertible {
    case none
    /// XOR the byte at `index` (modulo the length) with a nonzero mask.
    case flip(index: Int, mask: UInt8)
    /// Keep only the first `length` bytes, with `length` taken modulo the count, so at least one byte goes.
    case truncate(length: Int)
    /// Add one byte at the end.
    case append(UInt8)

    /// Reads a mutation from four control bytes of `input`.
    public init(from input: inout FuzzInput) {
        let operation = input.takeByte()
        let index = Int(input.takeUInt16())
        let value = input.takeByte()
        switch operation % 4 {
        case 1: self = .flip(index: index, mask: value == 0 ? 1 : value)
        case 2: self = .truncate(length: index)
        case 3: self = .append(value)
        default: self = .none
        }
    }

    /// Applies the mutation and returns whether `bytes` changed. Only a flip or a truncation of an
    /// empty array leaves it unchanged.
    @discardableResult
    public func apply(to bytes: inout [UInt8]) -> Bool {
        switch self {
        case .none:
            return false
        case .flip(let index, let mask):
            guard !bytes.isEmpty else { return false }
            bytes[index % bytes.count] ^= mask
            return true
        case .truncate(let length):
            guard !bytes.isEmpty else { return false }
            bytes.removeLast(bytes.count - length % bytes.count)
            return true
        case .append(let value):
            bytes.append(value)
            return true
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .flip(let index, let mask): return "flip(\(index), \(mask))"
        case .truncate(let length): return "truncate(\(length))"
        case .append(let value): return "append(\(value))"
        }
    }
}
