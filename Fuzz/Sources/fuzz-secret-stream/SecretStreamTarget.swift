import FuzzSupport
import RatsboteCrypto

/// Decrypts document streams (`crypto_secretstream_xchacha20poly1305`) as a device does after
/// downloading a document.
///
/// Mode 0 decrypts the fuzzer's bytes as they are. Mode 1 encrypts the fuzzer's payload as a whole
/// document, applies one ``Mutation`` and decrypts it with ``SecretStream/decrypt(_:using:plaintextByteCount:)``.
/// Mode 2 works chunk by chunk with small fuzzer-sized chunks and also drops, repeats or swaps
/// whole chunks. Invariants: an unmodified stream gives back the payload; any change is rejected;
/// after a failed chunk the decryptor rejects every later one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.takeByte() % 3 {
    case 0:
        let useLength = input.takeByte() & 1 == 1
        let length = Int(input.takeUInt16())
        _ = try? SecretStream.decrypt(input.takeRest(), using: key, plaintextByteCount: useLength ? length : nil)
    case 1:
        fuzzWholeDocument(&input)
    default:
        fuzzChunks(&input)
    }
    return 0
}

private let key = FuzzKeys.symmetric(0x55)

private func fuzzWholeDocument(_ input: inout FuzzInput) {
    let passLength = input.takeByte() & 1 == 1
    let mutation = Mutation(from: &input)
    let plaintext = input.takeRest()

    var stream = SecretStream.encrypt(plaintext, using: key)
    let changed = mutation.apply(to: &stream)
    let result = try? SecretStream.decrypt(stream, using: key, plaintextByteCount: passLength ? plaintext.count : nil)
    if changed {
        require(result == nil, "SecretStream.decrypt accepted a document after \(mutation)")
    } else {
        require(result == plaintext, "SecretStream.decrypt did not return the document it was given")
    }
}

/// A change to the sequence of chunks rather than to their bytes.
private enum ChunkChange {
    case none, drop(Int), repeatChunk(Int), swap(Int), flip(Int, UInt8), dropFinal
}

private func fuzzChunks(_ input: inout FuzzInput) {
    let chunkSize = max(1, Int(input.takeByte()))
    let operation = input.takeByte()
    let index = Int(input.takeByte())
    let mask = max(1, input.takeByte())
    let plaintext = input.takeRest()

    let encryptor = SecretStream.Encryptor(key: key)
    var plainChunks: [[UInt8]] = []
    var offset = 0
    repeat {
        let end = min(plaintext.count, offset + chunkSize)
        plainChunks.append(Array(plaintext[offset..<end]))
        offset = end
    } while offset < plaintext.count
    var chunks = plainChunks.enumerated().map { position, chunk in
        try! encryptor.push(chunk, isFinal: position == plainChunks.count - 1)
    }

    let change: ChunkChange
    switch operation % 6 {
    case 1: change = .drop(index % chunks.count)
    case 2: change = .repeatChunk(index % chunks.count)
    case 3: change = chunks.count > 1 ? .swap(index % (chunks.count - 1)) : .none
    case 4: change = .flip(index % chunks.count, mask)
    case 5: change = .dropFinal
    default: change = .none
    }
    switch change {
    case .none: break
    case .drop(let i): chunks.remove(at: i)
    case .repeatChunk(let i): chunks.insert(chunks[i], at: i)
    case .swap(let i): chunks.swapAt(i, i + 1)
    case .flip(let i, let mask): chunks[i][Int(mask) % chunks[i].count] ^= mask
    case .dropFinal: chunks.removeLast()
    }

    guard let decryptor = try? SecretStream.Decryptor(key: key, header: encryptor.header) else {
        fatalError("fuzz invariant failed: Decryptor rejected a valid header")
    }
    var output: [UInt8] = []
    var failed = false
    for chunk in chunks {
        if failed {
            require((try? decryptor.pull(chunk)) == nil, "Decryptor accepted a chunk after a failed one")
            continue
        }
        do {
            output += try decryptor.pull(chunk).plaintext
        } catch {
            failed = true
        }
    }
    let complete = !failed && (try? decryptor.finish()) != nil

    if case .none = change {
        require(complete && output == plaintext, "Decryptor did not return the chunks it was given")
    } else {
        require(!complete, "Decryptor accepted the stream after \(change)")
    }
}

/// Starts libFuzzer on ``fuzz(_:_:)``. SwiftPM binds `main` to this symbol (see ``runFuzzer(argc:argv:target:)``).
@_cdecl("fuzz_secret_stream_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc: argc, argv: argv, target: fuzz)
}
