/// What every dataset configuration framed once through a `FrameStore` has (the joint set's,
/// SHD's and SSC's, the event folders'): T, the cell value, and three settings that change no
/// frame (the cache folder, the bad-file policy, progress lines).
public protocol FramedDataSettings: Equatable {
    var timesteps: Int { get set }
    var value: JointDatasetConfiguration.Value { get set }
    var cacheDirectory: String? { get set }
    var badFiles: BadFilePolicy { get set }
    var showProgress: Bool { get set }
    /// Throws `DatasetError.badConfiguration` naming a setting out of range.
    func validate() throws
}

extension FramedDataSettings {
    /// This configuration with `other`'s cache folder, bad-file policy and progress setting.
    public func withFrameNeutralSettings(of other: Self) -> Self {
        var c = self
        (c.cacheDirectory, c.badFiles, c.showProgress) = (other.cacheDirectory, other.badFiles, other.showProgress)
        return c
    }

    /// Whether both give the same frames: equal but for the settings that change no frame.
    public func framesEqual(_ other: Self) -> Bool { withFrameNeutralSettings(of: other) == other }
}

extension JointDatasetConfiguration: FramedDataSettings {}
extension SHDClassConfiguration: FramedDataSettings {}
extension EventFolderConfiguration: FramedDataSettings {}
