/// The PRSA data set's combined wind direction (`cbwd`): four quadrants or calm/variable.
public enum WindDirection: String, CaseIterable, Sendable, Codable {
    case calm = "cv"
    case northEast = "NE"
    case southEast = "SE"
    case northWest = "NW"
    case southWest = "SW"

    /// The course's ordinal code for the direction: cv=0, NE=3, SE=6, NW=9, SW=12.
    public var code: Double {
        switch self {
        case .calm: 0
        case .northEast: 3
        case .southEast: 6
        case .northWest: 9
        case .southWest: 12
        }
    }
}
