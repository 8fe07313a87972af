import SpikeTensor
import EventIO

/// Phoneme targets of the formant synthesiser (adult male values; a speaker's vocal-tract
/// scale multiplies every frequency) and the phoneme sequences of the ten digit words.
///
/// Formant frequencies follow classic measurements of American English (Peterson & Barney
/// 1952; Klatt 1980 for consonants), rounded. Durations are at speaking rate 1.
struct PhonemeTarget: Sendable {
    /// Formant frequencies F1…F3, Hz.
    var f1: Float, f2: Float, f3: Float
    /// Formant bandwidths, Hz.
    var b1: Float = 70, b2: Float = 100, b3: Float = 150
    /// Voicing amplitude (0…1) into the formant cascade.
    var voicing: Float
    /// Frication (noise) amplitude (0…1) through the parallel fricative resonator.
    var frication: Float = 0
    /// Centre and bandwidth of the fricative resonator, Hz (not scaled by the vocal tract).
    var fricationHz: Float = 4000, fricationBandwidth: Float = 2000
    /// Duration, ms.
    var milliseconds: Float

    static func vowel(_ f1: Float, _ f2: Float, _ f3: Float, _ ms: Float) -> PhonemeTarget {
        PhonemeTarget(f1: f1, f2: f2, f3: f3, voicing: 1, milliseconds: ms)
    }
}

enum Phoneme {
    typealias T = PhonemeTarget
    // vowels (diphthongs as two targets)
    static let ih = T.vowel(400, 1900, 2550, 110)
    static let ow1 = T.vowel(520, 920, 2400, 120), ow2 = T.vowel(380, 820, 2300, 110)
    static let ah = T.vowel(650, 1200, 2400, 150)
    static let uw = T.vowel(320, 900, 2250, 230)
    static let iy = T.vowel(280, 2250, 2900, 220)
    static let ao = T.vowel(600, 900, 2450, 200)
    static let ay1 = T.vowel(720, 1150, 2450, 140), ay2 = T.vowel(380, 2050, 2650, 120)
    static let eh = T.vowel(550, 1800, 2500, 120)
    static let ax = T.vowel(500, 1400, 2450, 70)
    static let ey1 = T.vowel(500, 1850, 2500, 130), ey2 = T.vowel(350, 2150, 2700, 100)
    // glides, liquids, nasals
    static let w = T(f1: 300, f2: 650, f3: 2200, voicing: 0.8, milliseconds: 70)
    static let r = T(f1: 350, f2: 1100, f3: 1500, voicing: 0.8, milliseconds: 80)
    static let rLong = T(f1: 380, f2: 1150, f3: 1550, voicing: 0.8, milliseconds: 130)
    static let n = T(f1: 250, f2: 1400, f3: 2500, b1: 100, b2: 300, b3: 400, voicing: 0.45, milliseconds: 90)
    // fricatives
    static let z = T(f1: 250, f2: 1700, f3: 2500, voicing: 0.3, frication: 0.35, fricationHz: 4500, fricationBandwidth: 1500, milliseconds: 110)
    static let s = T(f1: 320, f2: 1700, f3: 2500, voicing: 0, frication: 0.6, fricationHz: 5000, fricationBandwidth: 1500, milliseconds: 130)
    static let f = T(f1: 340, f2: 1100, f3: 2300, voicing: 0, frication: 0.25, fricationHz: 3500, fricationBandwidth: 4000, milliseconds: 110)
    static let th = T(f1: 320, f2: 1300, f3: 2500, voicing: 0, frication: 0.2, fricationHz: 4000, fricationBandwidth: 4000, milliseconds: 100)
    static let v = T(f1: 260, f2: 1200, f3: 2300, voicing: 0.45, frication: 0.15, fricationHz: 3500, fricationBandwidth: 3000, milliseconds: 70)
    // stops: closure (silence) + burst + aspiration
    static func closure(_ ms: Float) -> T { T(f1: 300, f2: 1500, f3: 2500, voicing: 0, milliseconds: ms) }
    static let tBurst = T(f1: 400, f2: 1700, f3: 2600, voicing: 0, frication: 0.8, fricationHz: 4000, fricationBandwidth: 2500, milliseconds: 15)
    static let tAsp = T(f1: 400, f2: 1700, f3: 2600, voicing: 0, frication: 0.3, fricationHz: 2000, fricationBandwidth: 3000, milliseconds: 45)
    static let kBurst = T(f1: 350, f2: 1800, f3: 2400, voicing: 0, frication: 0.7, fricationHz: 1800, fricationBandwidth: 800, milliseconds: 20)
    static let kAsp = T(f1: 350, f2: 1800, f3: 2400, voicing: 0, frication: 0.3, fricationHz: 2000, fricationBandwidth: 2500, milliseconds: 40)

    /// The phoneme sequence of each digit word, index = digit.
    /// zero = z-ih-r-ow, one = w-ah-n, two = t-uw, three = th-r-iy, four = f-ao-r,
    /// five = f-ay-v, six = s-ih-k-s, seven = s-eh-v-ax-n, eight = ey-t, nine = n-ay-n.
    static let words: [[T]] = [
        [z, ih, r, ow1, ow2],
        [w, ah, n],
        [closure(30), tBurst, tAsp, uw],
        [th, r, iy],
        [f, ao, rLong],
        [f, ay1, ay2, v],
        [s, ih, closure(50), kBurst, kAsp, s],
        [s, eh, v, ax, n],
        [ey1, ey2, closure(60), tBurst, tAsp],
        [n, ay1, ay2, n],
    ]

    /// The English words, index = digit.
    static let wordNames = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
}
