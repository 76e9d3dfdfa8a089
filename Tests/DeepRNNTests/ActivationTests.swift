import RealModule
import Testing

@testable import DeepRNN

@Suite struct ActivationTests {
    @Test func tanhAgreesWithTheSystemLibraryAcrossItsRange() {
        var worst = 0.0
        var x = -25.0
        while x <= 25 {
            worst = max(worst, abs(rnnTanh(x) - Double.tanh(x)))
            x += 0.000_731
        }
        #expect(worst < 4e-16, "largest absolute difference \(worst)")
        #expect(rnnTanh(Double(0)) == 0)
        #expect(abs(rnnTanh(Double(1e-300))) < 1e-299)
        #expect(rnnTanh(Double(800)) == 1 && rnnTanh(Double(-800)) == -1)
    }

    @Test func handComputedTwoStepForwardPass() {
        // One layer of one unit, no bias, input size 1: s1 = tanh(u x1), s2 = tanh(u x2 + w s1), z = v s2.
        let a = RNNArchitecture(inputSize: 1, hiddenSizes: [1], biases: false)
        let (u, w, v) = (0.5, -0.3, 2.0)
        let net = StackedRNN(architecture: a, parameters: [u, w, v])
        let ws = RNNWorkspace<Double>(architecture: a, steps: 2, batchCapacity: 1)
        let x = [0.8, -0.4]
        let out = x.withUnsafeBufferPointer { net.predict(window: $0, workspace: ws) }
        let s1 = Double.tanh(u * 0.8)
        let expected = v * Double.tanh(u * -0.4 + w * s1)
        #expect(abs(out - expected) < 1e-15)
    }
}

@Suite struct PrecisionTests {
    @Test func floatTanhAgreesWithTheSystemLibrary() {
        var worst = 0.0
        var x: Float = -12
        while x <= 12 {
            worst = max(worst, abs(Double(rnnTanh(x)) - Double.tanh(Double(x))))
            x += 0.000_37
        }
        #expect(worst < 2e-7, "largest absolute difference \(worst)")
        #expect(rnnTanh(Float(100)) == 1 && rnnTanh(Float(-100)) == -1 && rnnTanh(Float(0)) == 0)
    }

    @Test(arguments: [[2, 2], [4], [8, 8], [5, 3, 4]])
    func floatPathsAgreeWithTheDoubleReference(_ sizes: [Int]) {
        var rng = SeededGenerator(seed: 9)
        let a = RNNArchitecture(
            inputSize: 6, hiddenSizes: sizes, biases: sizes.count != 2,
            skip: .init(feature: 0, scale: 1.1, offset: -0.02))
        let net = StackedRNN.initialised(a, scheme: .scaled, using: &rng)
        let window = (0..<(24 * 6)).map { _ in Double.random(in: 0...1, using: &rng) }
        let reference = window.withUnsafeBufferPointer {
            net.predict(window: $0, workspace: RNNWorkspace<Double>(architecture: a, steps: 24, batchCapacity: 3))
        }
        let batch = window.withUnsafeBufferPointer {
            net.predict(window: $0, workspace: RNNWorkspace<Float>(architecture: a, steps: 24, batchCapacity: 3))
        }
        #expect(abs(batch - reference) < 1e-5)
    }
}
