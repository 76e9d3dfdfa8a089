/// Branch-free hyperbolic tangent, accurate to a few units in the last place of `Double` in
/// absolute terms, and cheap enough to vectorise across a batch.
///
/// `tanh(x) = sign(x) (1 - e) / (1 + e)` with `e = exp(-2|x|)`. The exponential is reduced to
/// `2^k · exp(r)` with `|r| <= ln2 / 2` and `exp(r)` is a degree-13 Taylor polynomial, whose
/// truncation error is below 2e-16 on that interval.
@inlinable @inline(__always)
public func rnnTanh(_ x: Double) -> Double {
    let ax = Swift.min(abs(x), 20)  // tanh(20) rounds to 1 in Double
    let y = -2 * ax  // in [-40, 0]
    // k = round(y / ln 2) by the add-and-subtract trick: adding 1.5 * 2^52 leaves k in the low
    // mantissa bits, which also give 2^k's exponent field without a (trapping) integer conversion.
    let shifter = 6_755_399_441_055_744.0
    let shifted = y * 1.442_695_040_888_963_4 + shifter
    let k = shifted - shifter
    let r = (y - k * 0.693_147_180_369_123_8) - k * 1.908_214_929_270_587_7e-10
    // The Taylor coefficients 1/k!, k = 0...13, evaluated by Estrin's scheme: the same
    // polynomial as Horner's rule in a quarter of the dependent steps (the latency path of a
    // single-window forecast).
    let r2 = r * r
    let r4 = r2 * r2
    let r8 = r4 * r4
    let q0 = 1 + r
    let q1 = 1.0 / 2 + r * (1.0 / 6)
    let q2 = 1.0 / 24 + r * (1.0 / 120)
    let q3 = 1.0 / 720 + r * (1.0 / 5_040)
    let q4 = 1.0 / 40_320 + r * (1.0 / 362_880)
    let q5 = 1.0 / 3_628_800 + r * (1.0 / 39_916_800)
    let q6 = 1.0 / 479_001_600 + r * (1.0 / 6_227_020_800)
    let u0 = q0 + q1 * r2
    let u1 = q2 + q3 * r2
    let u2 = q4 + q5 * r2
    let p = (u0 + u1 * r4) + (u2 + q6 * r4) * r8
    let scale = Double(bitPattern: (shifted.bitPattern &+ 1023) &<< 52)
    let e = p * scale
    let t = (1 - e) / (1 + e)
    return Double(signOf: x, magnitudeOf: t)
}

/// The `Float` hyperbolic tangent: one lane of the 8-lane version below, so scalar and vector
/// paths agree bit for bit.
@inlinable @inline(__always)
public func rnnTanh(_ x: Float) -> Float { rnnTanh(SIMD8(repeating: x))[0] }

/// Eight lanes of a `Float` hyperbolic tangent: the reduction of ``rnnTanh(_:)-(Double)`` with a
/// degree-7 polynomial (truncation error below 1e-8 on `|r| <= ln2 / 2`), on SIMD types so a
/// batch kernel keeps its values in registers.
@inlinable @inline(__always)
public func rnnTanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    typealias U = SIMD8<UInt32>
    let bits = unsafeBitCast(x, to: U.self)
    // min(|x|, 9) on the bit patterns: non-negative floats order like their bits as integers,
    // and integer lane arithmetic vectorises where pointwiseMin is an out-of-line call.
    let magnitude = unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD8<Int32>.self)
    let diff = magnitude &- SIMD8(repeating: 0x4110_0000)  // 9.0
    let ax = unsafeBitCast(SIMD8(repeating: 0x4110_0000) &+ (diff & (diff &>> 31)), to: V.self)
    let y = -2 * ax
    let shifter = V(repeating: 12_582_912)
    let shifted = y * 1.442_695_04 + shifter
    let k = shifted - shifter
    let r = (y - k * 0.693_145_751_953_125) - k * 1.428_606_820_309_417_2e-6
    let r2 = r * r
    let r4 = r2 * r2
    let q0 = 1 + r
    let q1 = 0.5 + r * (1.0 / 6)
    let q2 = 1.0 / 24 + r * (1.0 / 120)
    let q3 = 1.0 / 720 + r * (1.0 / 5_040)
    let p = (q0 + q1 * r2) + (q2 + q3 * r2) * r4
    let scale = unsafeBitCast((unsafeBitCast(shifted, to: U.self) &+ 127) &<< 23, to: V.self)
    let e = p * scale
    let t = (1 - e) / (1 + e)
    return unsafeBitCast(unsafeBitCast(t, to: U.self) | (bits & 0x8000_0000), to: V.self)
}

/// A floating-point type the network's kernels run in: `Double` for reference and gradient
/// checks, `Float` for training and forecasting speed. Kernels work on eight samples at once.
public protocol RNNScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    static func activation(_ x: Self) -> Self
    static func activation(_ x: SIMD8<Self>) -> SIMD8<Self>
}

extension Double: RNNScalar {
    @inlinable @inline(__always) public static func activation(_ x: Double) -> Double { rnnTanh(x) }
    @inlinable @inline(__always) public static func activation(_ x: SIMD8<Double>) -> SIMD8<Double> {
        var out = x
        for i in 0..<8 { out[i] = rnnTanh(x[i]) }
        return out
    }
}

extension Float: RNNScalar {
    @inlinable @inline(__always) public static func activation(_ x: Float) -> Float { rnnTanh(x) }
    @inlinable @inline(__always) public static func activation(_ x: SIMD8<Float>) -> SIMD8<Float> { rnnTanh(x) }
}

@inline(__always) func vload<S: RNNScalar>(_ p: UnsafeMutablePointer<S>) -> SIMD8<S> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<S>.self)
}

@inline(__always) func vstore<S: RNNScalar>(_ v: SIMD8<S>, _ p: UnsafeMutablePointer<S>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<S>.self)
}
